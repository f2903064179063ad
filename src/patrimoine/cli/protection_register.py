"""patrimoine protection register|requests|breaches …: the GDPR register from the command line.

The command line acts as the operator of the instance (every organisation).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table
from sqlalchemy.orm import Session

from patrimoine.access.principal import Principal
from patrimoine.cli.common import console, err_console, services
from patrimoine.core.errors import Invalid
from patrimoine.inventory.models import Organisation
from patrimoine.inventory.service import find_organisation
from patrimoine.protection import breaches, dashboard, rights_requests
from patrimoine.protection.register import spreadsheet

CLI = Principal.system("ligne de commande")

register_app = typer.Typer(help="Le registre des activités de traitement (article 30 du RGPD).",
                           no_args_is_help=True)
requests_app = typer.Typer(help="Les demandes d'exercice des droits des personnes.",
                           no_args_is_help=True)
breaches_app = typer.Typer(help="Les violations de données personnelles.", no_args_is_help=True)


def install(app: typer.Typer) -> None:
    """Add the register's command groups to `patrimoine protection`."""
    app.add_typer(register_app, name="register")
    app.add_typer(requests_app, name="requests")
    app.add_typer(breaches_app, name="breaches")
    app.command("dashboard")(show_dashboard)


def _organisation_id(session: Session, organisation: str | None) -> int | None:
    if organisation is None:
        return None
    org = find_organisation(session, organisation)
    if org is None:
        raise Invalid(f"Organisation « {organisation} » introuvable.")
    return org.id


@register_app.command("export")
def export(
    file: Annotated[Path, typer.Argument(help="Fichier à écrire : .xlsx ou .csv.")],
    organisation: Annotated[str, typer.Option("--organisation", "-o",
                                              help="Nom ou identifiant de l'organisation.")],
    fmt: Annotated[str | None, typer.Option("--format", help="xlsx ou csv (sinon d'après "
                                                             "l'extension du fichier).")] = None,
) -> None:
    """Exporter le registre d'une organisation au format du modèle de la CNIL."""
    fmt = (fmt or file.suffix.lstrip(".")).lower()
    if fmt not in ("xlsx", "csv"):
        raise Invalid(f"Format « {fmt or file.name} » inconnu : choisissez un fichier .xlsx "
                      "ou .csv (ou --format).")
    svc = services()
    with svc.db.session() as session:
        org = find_organisation(session, organisation)
        if org is None:
            raise Invalid(f"Organisation « {organisation} » introuvable.")
        data = spreadsheet.export_register(session, CLI, org, fmt)
        count = len(spreadsheet.export_rows(session, CLI, org)[1])
    try:
        file.write_bytes(data)
    except OSError as exc:
        raise Invalid(f"Impossible d'écrire « {file} » : {exc.strerror}.") from exc
    console.print(f"Registre de {org.name} exporté : {count} traitement(s) dans {file}.")


_ACTIONS = {"create": "[green]à créer[/green]", "update": "[yellow]à modifier[/yellow]",
            "unchanged": "[dim]inchangé[/dim]"}


@register_app.command("import")
def import_(
    file: Annotated[Path, typer.Argument(help="Le registre : .xlsx, .ods ou .csv.")],
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Montrer ce qui changerait sans "
                                                            "rien écrire.")] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Afficher le plan ou le résultat en "
                                                         "JSON.")] = False,
) -> None:
    """Importer un registre au format du modèle de la CNIL (tout ou rien).

    Chaque ligne est rattachée à son organisation (colonne « Organisation ») et, par sa
    référence, au traitement existant qu'elle met à jour ; sans référence, elle en crée un.
    """
    try:
        data = file.read_bytes()
    except OSError as exc:
        raise Invalid(f"Impossible de lire « {file} » : {exc.strerror}.") from exc
    svc = services()
    with svc.db.unit_of_work() as session:
        plan = spreadsheet.plan_register_import(session, CLI, data, file.name)
        if as_json and (dry_run or not plan.ok):
            typer.echo(json.dumps(plan.as_dict(), ensure_ascii=False, indent=2))
            if not plan.ok:
                raise typer.Exit(2)
            return
        if not as_json:
            table = Table(title=f"Import de {file.name}")
            for column in ("Ligne", "Organisation", "Référence", "Traitement", "Action"):
                table.add_column(column)
            for row in plan.rows:
                table.add_row(str(row.line), row.organisation, row.reference or "—", row.name,
                              _ACTIONS[row.action])
            console.print(table)
            for error in plan.errors:
                err_console.print(f"[red]{error}[/red]")
        if not plan.ok:
            raise Invalid(f"{len(plan.errors)} erreur(s) : rien n'a été importé.")
        if dry_run:
            console.print("Simulation : rien n'a été écrit.")
            return
        result = spreadsheet.apply_register_import(session, CLI, plan)
    if as_json:
        typer.echo(json.dumps(result, ensure_ascii=False, indent=2))
        return
    counts = result["counts"]
    console.print(f"Import terminé : {counts['create']} traitement(s) créé(s), "
                  f"{counts['update']} modifié(s), {counts['unchanged']} inchangé(s).")


@requests_app.command("overdue")
def overdue(
    organisation: Annotated[str | None, typer.Option("--organisation", "-o",
                                                     help="Nom ou identifiant.")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Afficher en JSON.")] = False,
) -> None:
    """Lister les demandes dont le délai légal est dépassé sans réponse.

    Un mois, ou trois avec prolongation, prorogé au premier jour ouvrable s'il expire un
    samedi, un dimanche ou un jour férié."""
    svc = services()
    with svc.db.session() as session:
        found = rights_requests.list_requests(
            session, CLI, organisation_id=_organisation_id(session, organisation), overdue=True)
        rows = [rights_requests.request_dict(r) for r in found]
        names = {r.organisation_id: find_name(session, r.organisation_id) for r in found}
    if as_json:
        typer.echo(json.dumps([{k: r[k] for k in ("id", "organisation_id", "reference", "kind",
                                                  "received_on", "deadline", "extended",
                                                  "status", "days_left")} for r in rows],
                              ensure_ascii=False, indent=2))
        return
    if not rows:
        console.print("Aucune demande en retard.")
        return
    table = Table(title=f"Demandes en retard ({len(rows)})")
    for column in ("Organisation", "Référence", "Type", "Reçue le", "Échéance", "Retard",
                   "Statut"):
        table.add_column(column)
    for r in rows:
        table.add_row(names[r["organisation_id"]], r["reference"], r["kind_label"],
                      _fr(r["received_on"]), _fr(r["deadline"]) + (" (prolongée)" if
                                                                   r["extended"] else ""),
                      f"{-r['days_left']} j", r["status_label"])
    console.print(table)


@breaches_app.command("pending")
def pending(
    organisation: Annotated[str | None, typer.Option("--organisation", "-o",
                                                     help="Nom ou identifiant.")] = None,
) -> None:
    """Lister les violations ouvertes dont la notification reste à faire.

    Notification à la CNIL (72 heures) ou, en cas de risque élevé, information des personnes
    concernées (article 34) : la même liste que le tableau de bord du DPO.
    """
    svc = services()
    with svc.db.session() as session:
        found = breaches.breaches_to_notify(
            session, CLI, organisation_id=_organisation_id(session, organisation))
        rows = [(find_name(session, b.organisation_id), breaches.breach_dict(b)) for b in found]
    if not rows:
        console.print("Aucune notification en attente.")
        return
    table = Table(title="Violations à notifier")
    for column in ("Organisation", "Référence", "Violation", "Échéance (72 h)", "Reste",
                   "Personnes à informer"):
        table.add_column(column)
    for name, b in rows:
        left = b["hours_left"]
        remaining = ("notifiée" if left is None else f"{left:.0f} h" if left >= 0
                     else f"[red]en retard de {-left:.0f} h[/red]")
        table.add_row(name, b["reference"], b["title"], b["deadline"][:16].replace("T", " "),
                      remaining, "oui (article 34)" if b["persons_to_inform"] else "")
    console.print(table)


def show_dashboard(
    as_json: Annotated[bool, typer.Option("--json", help="Afficher en JSON.")] = False,
) -> None:
    """Tableau de bord du DPO : AIPD manquantes, demandes en retard, violations en cours."""
    svc = services()
    with svc.db.session() as session:
        board = dashboard.dashboard(session, CLI)
    if as_json:
        typer.echo(json.dumps(board, ensure_ascii=False, indent=2))
        return
    table = Table(title="Protection des données")
    for column in ("Organisation", "Traitements", "AIPD manquantes", "Demandes ouvertes",
                   "Demandes en retard", "Violations (72 h en cours)", "Violations en retard"):
        table.add_column(column, justify="right" if column != "Organisation" else "left")
    for r in [*board["organisations"], {"organisation": "[b]Total[/b]", **board["total"]}]:
        table.add_row(r["organisation"], str(r["activities"]), str(r["dpia_missing"]),
                      str(r["requests_open"]), str(r["requests_overdue"]),
                      str(r["breaches_within_72h"]), str(r["breaches_overdue"]))
    console.print(table)


def find_name(session: Session, organisation_id: int) -> str:
    org = session.get(Organisation, organisation_id)
    return org.name if org is not None else str(organisation_id)


def _fr(iso: str) -> str:
    y, m, d = iso.split("-")
    return f"{d}/{m}/{y}"

