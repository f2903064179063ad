"""patrimoine audit …: check and read the audit log."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.table import Table

from patrimoine.access import audit
from patrimoine.cli.common import console, err_console, services
from patrimoine.core.errors import Invalid

app = typer.Typer(help="Vérifier et consulter le journal d'audit.", no_args_is_help=True)

BROKEN_EXIT = 1


@app.command("verify")
def verify(
    anchor: Annotated[bool, typer.Option(
        help="Avancer l'ancre (data_dir/audit-anchor) au dernier enregistrement si le "
             "journal est intact.")] = True,
    as_json: Annotated[bool, typer.Option("--json",
                                          help="Afficher le rapport en JSON.")] = False,
    empreintes: Annotated[Path | None, typer.Option(
        help="Une copie gardée ailleurs des empreintes publiées (/journal/empreintes.json) : "
             "le journal doit toujours y correspondre.", exists=True, dir_okay=False)] = None,
) -> None:
    """Vérifier le chaînage du journal d'audit, son ancre et ses empreintes publiées.

    Aucune entrée modifiée ni supprimée (au milieu, ou à la fin depuis la dernière ancre),
    et le journal correspond à chaque empreinte publiée (celles de la base et celles de la
    copie donnée). Code de sortie 0 si le journal est intact, 1 sinon (avec la première
    entrée en défaut)."""
    heads: list[audit.Head] = []
    if empreintes is not None:
        try:
            heads = audit.heads_from_json(json.loads(empreintes.read_text(encoding="utf-8")))
        except (UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise Invalid(f"{empreintes} n'est pas un document JSON.") from exc
    svc = services()
    try:
        with svc.db.unit_of_work() as session:
            report = audit.verify_with_anchor(session, svc.settings.data_dir, update=anchor,
                                              heads=heads)
            anchored = audit.read_anchor(svc.settings.data_dir)
    finally:
        svc.db.dispose()
    if as_json:
        console.print_json(json.dumps({
            "ok": report.ok, "checked": report.checked, "broken_at": report.broken_at,
            "reason": report.reason,
            "anchor": anchored.__dict__ if anchored else None,
        }))
    elif report.ok:
        console.print(f"Journal d'audit intact : {report.checked} entrée(s) vérifiée(s)"
                      + (f", ancre à l'entrée n° {anchored.last_id}." if anchored else "."))
    else:
        err_console.print(f"[red]Journal d'audit altéré[/red] : entrée n° {report.broken_at} "
                          f"— {report.reason}.")
        err_console.print(f"{report.checked} entrée(s) lue(s) avant l'anomalie.")
    if not report.ok:
        raise typer.Exit(BROKEN_EXIT)


@app.command("publish-head")
def publish_head(
    as_json: Annotated[bool, typer.Option("--json", help="Un document JSON.")] = False,
) -> None:
    """Publier l'empreinte du jour du journal d'audit (page /journal/empreintes du portail).

    À lancer chaque jour (minuteur systemd ou cron) ; le serveur la publie aussi à son
    démarrage et chaque nuit. La première publication d'un jour reste : relancer ne la
    change pas."""
    svc = services()
    try:
        with svc.db.unit_of_work() as session:
            head = audit.publish_head(session)
    finally:
        svc.db.dispose()
    if as_json:
        console.print_json(json.dumps(head.as_dict() if head else None))
    elif head is None:
        console.print("Journal d'audit vide : aucune empreinte à publier.")
    else:
        console.print(f"Empreinte du {head.day:%d/%m/%Y} : entrée n° {head.last_id} "
                      f"({head.count} entrée(s)), {head.hash}.")


def _moment(text: str | None, what: str) -> datetime | None:
    if not text:
        return None
    try:
        value = datetime.fromisoformat(text)
    except ValueError as exc:
        raise Invalid(f"Date « {text} » invalide pour {what} : AAAA-MM-JJ ou "
                      "AAAA-MM-JJTHH:MM attendu.") from exc
    return value if value.tzinfo else value.replace(tzinfo=UTC)


@app.command("list")
def list_events(
    target: Annotated[str | None, typer.Option(
        help="Cible exacte (dataset:slug) ou préfixe terminé par « : » ou « * ».")] = None,
    action: Annotated[str | None, typer.Option(
        help="Action exacte (grant.create) ou préfixe terminé par « . » ou « * »."
    )] = None,
    actor: Annotated[str | None, typer.Option(
        help="Partie du nom ou de l'adresse de l'auteur.")] = None,
    since: Annotated[str | None, typer.Option(
        help="À partir de cette date (UTC, ISO 8601).")] = None,
    until: Annotated[str | None, typer.Option(help="Avant cette date (UTC, ISO 8601).")] = None,
    limit: Annotated[int, typer.Option(help="Nombre d'entrées affichées (1 à 1000).")] = 50,
    offset: Annotated[int, typer.Option(help="Nombre d'entrées sautées.")] = 0,
    as_json: Annotated[bool, typer.Option("--json", help="Un document JSON.")] = False,
) -> None:
    """Lister les entrées du journal d'audit, des plus récentes aux plus anciennes."""
    filters = audit.EventFilters(target=target, action=action, actor=actor,
                                 since=_moment(since, "--since"), until=_moment(until, "--until"))
    svc = services()
    try:
        with svc.db.unit_of_work() as session:
            events, total = audit.list_events(session, filters, limit=limit, offset=offset)
            rows: list[dict[str, Any]] = [
                {"id": e.id, "at": e.at.isoformat(), "actor": e.actor_label,
                 "action": e.action, "target": e.target, "details": e.details,
                 "hash": e.hash} for e in events]
    finally:
        svc.db.dispose()
    if as_json:
        console.print_json(json.dumps({"total": total, "limit": limit, "offset": offset,
                                       "events": rows}, ensure_ascii=False))
        return
    if not rows:
        console.print("Aucune entrée ne correspond.")
        return
    table = Table(title=f"Journal d'audit : {total} entrée(s), {len(rows)} affichée(s)")
    for name in ("N°", "Date (UTC)", "Par", "Action", "Cible", "Détails"):
        table.add_column(name)
    for r in rows:
        table.add_row(str(r["id"]), r["at"][:19].replace("T", " "), r["actor"], r["action"],
                      r["target"], json.dumps(r["details"], ensure_ascii=False)[:120])
    console.print(table)
