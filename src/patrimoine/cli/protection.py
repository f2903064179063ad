"""patrimoine protection …: personal-data protection tools."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from patrimoine.cli.common import console
from patrimoine.core.errors import Invalid
from patrimoine.protection.reader import read_table
from patrimoine.protection.scanner import KIND_LABELS, SEVERITY_LABELS, ScanOptions, scan_rows

app = typer.Typer(help="Protection des données personnelles.", no_args_is_help=True)


@app.command("scan")
def scan(
    file: Annotated[Path, typer.Argument(help="Fichier CSV, XLSX, ODS, JSON ou GeoJSON.")],
    as_json: Annotated[bool, typer.Option("--json", help="Print the findings as JSON.")] = False,
    sample_rows: Annotated[int, typer.Option(
        "--sample-rows", envvar="PATRIMOINE_SCAN_SAMPLE_ROWS",
        help="Rows looked at per column (evenly spaced through the file).")] = 2000,
) -> None:
    """Look for personal data (emails, phones, NIR, IBAN, names, addresses, birth dates,
    plates, home positions) in a file's columns."""
    if sample_rows < 1:
        raise Invalid("Le nombre de lignes à examiner (--sample-rows) doit être positif.")
    table = read_table(file)
    result = scan_rows(table.columns, table.rows, ScanOptions(sample_rows=sample_rows))
    if as_json:
        typer.echo(json.dumps([f.to_dict() for f in result.findings], ensure_ascii=False,
                              indent=2))
        return
    examined = f"{result.sampled_rows} lignes examinées sur {result.total_rows}"
    if not result.findings:
        console.print(f"Aucune donnée personnelle détectée dans {file.name} ({examined}).")
        return
    out = Table(title=f"Données personnelles détectées dans {file.name} ({examined})")
    out.add_column("Colonne")
    out.add_column("Nature")
    out.add_column("Part des lignes", justify="right")
    out.add_column("Lignes", justify="right")
    out.add_column("Exemples masqués")
    out.add_column("Gravité")
    out.add_column("Motif")
    for f in result.findings:
        out.add_row(f.column, KIND_LABELS[f.kind], f"{f.share * 100:.1f} %".replace(".", ","),
                    str(f.count), ", ".join(f.examples), SEVERITY_LABELS[f.severity], f.reason)
    console.print(out)
    console.print("Ces constats sont des suggestions : une personne les confirme ou les écarte.")
