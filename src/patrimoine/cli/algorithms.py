"""patrimoine algorithms …: the public algorithms register (list, export of the published
entries in the portal's CSV or JSON, with the fields of docs/transparency.md)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from patrimoine.access.principal import Principal
from patrimoine.cli.common import (
    command_services,
    console,
    organisation_id,
)
from patrimoine.core.vocabulary import label
from patrimoine.transparency import exports, service
from patrimoine.transparency.models import AlgorithmStatus

app = typer.Typer(help="Registre des algorithmes publics.", no_args_is_help=True)

OrgOpt = Annotated[str | None, typer.Option(
    "--organisation", help="Nom ou identifiant (slug) de l'organisation (par défaut toutes).")]




@app.command("list")
def list_(
    organisation: OrgOpt = None,
    status: Annotated[AlgorithmStatus | None, typer.Option(
        "--status", help="draft, published ou withdrawn.")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Sortie en JSON.")] = False,
) -> None:
    """Les algorithmes du registre, publiés ou non."""
    svc = command_services()
    with svc.db.session() as s:
        system = Principal.system("ligne de commande")
        found = service.list_algorithms(s, system,
                                        organisation_id=organisation_id(s, organisation),
                                        status=status)
        rows = [service.algorithm_dict(a, system) for a in found]
    if as_json:
        print(json.dumps(rows, ensure_ascii=False, indent=2))
        return
    table = Table("Référence", "Nom", "Organisation", "Automatisation", "Statut")
    for row in rows:
        table.add_row(row["reference"], row["name"], row["organisation"],
                      row["automation_label"], row["status_label"])
    console.print(table)
    console.print(f"{len(rows)} algorithme(s) ; {label(AlgorithmStatus.PUBLISHED)} : "
                  f"{sum(r['status'] == 'published' for r in rows)}.")


@app.command("export")
def export(
    format: Annotated[str, typer.Option("--format", help="csv ou json.")] = "csv",
    output: Annotated[Path | None, typer.Option(
        "--output", "-o", help="Fichier à écrire (par défaut la sortie standard).")] = None,
) -> None:
    """Le registre public (algorithmes publiés), comme le portail le publie."""
    if format not in ("csv", "json"):
        raise typer.BadParameter("Format « csv » ou « json ».", param_hint="--format")
    svc = command_services()
    base_url = svc.settings.public_url
    with svc.db.session() as s:
        found = service.published_algorithms(s)
        text = (exports.csv_text(found, base_url) if format == "csv"
                else exports.json_text(found, base_url))
    if output is None:
        print(text, end="" if format == "csv" else "\n")
        return
    output.write_text(text, encoding="utf-8", newline="")
    console.print(f"{len(found)} algorithme(s) publié(s) écrit(s) dans {output}.")
