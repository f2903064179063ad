"""patrimoine protection …: personal-data protection tools."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from patrimoine.cli import protection_findings, protection_register
from patrimoine.cli.common import console
from patrimoine.core.errors import Invalid
from patrimoine.protection.reader import read_tables
from patrimoine.protection.scanner import (
    KIND_LABELS,
    SEVERITY_LABELS,
    ScanOptions,
    ScanResult,
    scan_rows,
)

app = typer.Typer(help="Protection des données personnelles.", no_args_is_help=True)
protection_register.install(app)  # register, requests, breaches, dashboard
protection_findings.install(app)  # findings, decide, anonymise, k-anonymity, gate


@app.command("scan")
def scan(
    file: Annotated[Path, typer.Argument(help="Fichier CSV, XLSX, ODS, JSON ou GeoJSON.")],
    as_json: Annotated[bool, typer.Option("--json", help="Affiche les constats en JSON.")] = False,
    sample_rows: Annotated[int, typer.Option(
        "--sample-rows", envvar="PATRIMOINE_SCAN_SAMPLE_ROWS",
        help="Lignes examinées par colonne, réparties dans tout le fichier.")] = 2000,
) -> None:
    """Cherche des données personnelles dans les colonnes d'un fichier.

    Courriels, téléphones, NIR, IBAN, noms, adresses, dates de naissance, plaques
    d'immatriculation, positions de domiciles."""
    if sample_rows < 1:
        raise Invalid("Le nombre de lignes à examiner (--sample-rows) doit être positif.")
    tables = read_tables(file)
    named = len(tables) > 1
    results = [(t.sheet if named else None,
                scan_rows(t.columns, t.rows, ScanOptions(sample_rows=sample_rows)))
               for t in tables]
    if as_json:
        typer.echo(json.dumps(
            [{**f.to_dict(), **({"sheet": sheet} if sheet else {})}
             for sheet, result in results for f in result.findings],
            ensure_ascii=False, indent=2))
        return
    for sheet, result in results:
        _print(f"{file.name}" + (f", feuille « {sheet} »" if sheet else ""), result)
    console.print("Ces constats sont des suggestions : une personne les confirme ou les écarte.")


def _print(where: str, result: ScanResult) -> None:
    examined = f"{result.sampled_rows} lignes examinées sur {result.total_rows}"
    if not result.findings:
        console.print(f"Aucune donnée personnelle détectée dans {where} ({examined}).")
        return
    out = Table(title=f"Données personnelles détectées dans {where} ({examined})")
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
