"""patrimoine applications …: the application map (import, counts by hosting, location or
organisation, placements that break the hosting strategy)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table
from rich.text import Text

from patrimoine.access.principal import Principal
from patrimoine.cli.common import console, named_organisation, services
from patrimoine.core.errors import Invalid
from patrimoine.sovereignty import applications, importer, strategy

app = typer.Typer(help="La cartographie applicative et la stratégie d'hébergement.",
                  no_args_is_help=True)

CLI = "ligne de commande"
JsonOpt = Annotated[bool, typer.Option("--json", help="Sortie en JSON.")]
OrgOpt = Annotated[str | None, typer.Option(
    "--organisation", help="Nom ou identifiant (slug) de l'organisation.")]
_ACTIONS = {"create": "à créer", "update": "à modifier", "unchanged": "inchangée(s)"}


@app.command("import")
def import_(
    file: Annotated[Path, typer.Argument(help="La cartographie : .xlsx, .ods ou .csv.",
                                         show_default=False)],
    organisation: OrgOpt = None,
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Montrer ce qui changerait, "
                                                            "sans rien écrire.")] = False,
    as_json: JsonOpt = False,
) -> None:
    """Importer la cartographie applicative de la DSI (une ligne par application).

    Les en-têtes Application, Éditeur, Direction, Mode d'hébergement, Hébergeur, Pays,
    Localisation, Certifications, Sensibilité… sont reconnus quels que soient la casse et
    les accents. Rien n'est écrit si une seule ligne est invalide ; importer de nouveau le
    même fichier ne change rien.
    """
    if not file.is_file():
        raise Invalid(f"Fichier introuvable : {file}")
    data = file.read_bytes()
    principal = Principal.system(CLI)
    svc = services()
    with svc.db.unit_of_work() as session:
        org = named_organisation(session, organisation)
        plan = importer.plan_import(session, principal, importer.read_spreadsheet(
            data, file.name), default_organisation=org)
        result = importer.apply_import(session, principal, plan) \
            if plan.ok and not dry_run else None
    if as_json:
        body = plan.as_dict() if result is None else {
            **result.as_dict(), "rows": [r.as_dict() for r in plan.rows]}
        typer.echo(json.dumps(body, ensure_ascii=False, indent=2))
    if not plan.ok:
        if not as_json:
            for error in plan.errors[:200]:
                console.print(Text(f"  {error}"), style="red")
        raise Invalid(f"{len(plan.errors)} erreur(s) dans « {plan.filename} » ; rien n'a été "
                      "importé. Corrigez le fichier puis relancez l'import.")
    if as_json:
        return
    c = (result or plan).counts
    done = "Simulation (--dry-run)" if result is None else "Import terminé"
    console.print(Text(f"{done} : {c['create']} à créer, {c['update']} à modifier, "
                       f"{c['unchanged']} inchangée(s)." if result is None else
                       f"{done} : {c['create']} créée(s), {c['update']} modifiée(s), "
                       f"{c['unchanged']} inchangée(s)."))
    if result is None:
        console.print("Rien n'a été écrit.")


_TITLES = {"hosting": "Mode d'hébergement", "location": "Localisation des données",
           "organisation": "Organisation"}


@app.command("stats")
def stats(
    by: Annotated[str, typer.Option("--by", help="Regrouper par : hosting, location ou "
                                                  "organisation.")] = "hosting",
    organisation: OrgOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Compter les applications en service ou en projet par mode d'hébergement, localisation
    des données ou organisation."""
    principal = Principal.system(CLI)
    svc = services()
    with svc.db.session() as session:
        org = named_organisation(session, organisation)
        rows = applications.stats(session, principal, by,
                                  organisation_id=org.id if org else None)
    total = sum(n for _, n in rows)
    if as_json:
        typer.echo(json.dumps({"by": by, "total": total,
                               "counts": [{"value": v, "count": n} for v, n in rows]},
                              ensure_ascii=False, indent=2))
        return
    table = Table(title=f"Applications par {_TITLES[by].lower()}", title_justify="left")
    table.add_column(_TITLES[by])
    table.add_column("Applications", justify="right")
    table.add_column("Part", justify="right")
    for value, n in rows:
        share = f"{100 * n / total:.1f} %".replace(".", ",") if total else "–"
        table.add_row(Text(value), str(n), share)
    table.add_row("[bold]Total[/bold]", f"[bold]{total}[/bold]", "")
    console.print(table)


@app.command("breaches")
def breaches(organisation: OrgOpt = None, as_json: JsonOpt = False) -> None:
    """Lister les applications placées contre la stratégie d'hébergement."""
    principal = Principal.system(CLI)
    svc = services()
    with svc.db.unit_of_work() as session:
        org = named_organisation(session, organisation)
        found = strategy.breaches(session, principal, [org.id] if org else None)
        rows = [{"reference": b.application.reference, "name": b.application.name,
                 "level": b.level.code, "reasons": list(b.reasons)} for b in found]
    if as_json:
        typer.echo(json.dumps(rows, ensure_ascii=False, indent=2))
        return
    table = Table(title=f"Placements contraires à la stratégie ({len(rows)})",
                  title_justify="left")
    for column in ("Référence", "Application", "Niveau", "Motifs"):
        table.add_column(column)
    for b in rows:
        table.add_row(Text(str(b["reference"])), Text(str(b["name"])), Text(str(b["level"])),
                      Text("\n".join(b["reasons"])))
    console.print(table)
