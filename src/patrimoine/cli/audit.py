"""patrimoine audit …: check and read the audit log."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Annotated

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
        help="Move the anchor (data_dir/audit-anchor) to the current tip when intact.")] = True,
    as_json: Annotated[bool, typer.Option("--json", help="Print the report as JSON.")] = False,
) -> None:
    """Check the hash chain of the audit log and its anchor: every entry unchanged, none
    removed (in the middle, or at the end since the last anchor). Exit code 0 when intact,
    1 with the first broken entry otherwise."""
    svc = services()
    try:
        with svc.db.unit_of_work() as session:
            report = audit.verify_with_anchor(session, svc.settings.data_dir, update=anchor)
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
        help="Target, exact (dataset:slug) or a prefix ending with ':' or '*'.")] = None,
    action: Annotated[str | None, typer.Option(
        help="Action, exact (grant.create) or a prefix ending with '.' or '*'.")] = None,
    actor: Annotated[str | None, typer.Option(help="Part of the actor's name or e-mail.")] = None,
    since: Annotated[str | None, typer.Option(help="From this date (UTC, ISO 8601).")] = None,
    until: Annotated[str | None, typer.Option(help="Before this date (UTC, ISO 8601).")] = None,
    limit: Annotated[int, typer.Option(help="Entries shown (1 to 1000).")] = 50,
    offset: Annotated[int, typer.Option(help="Entries skipped.")] = 0,
    as_json: Annotated[bool, typer.Option("--json", help="One JSON document.")] = False,
) -> None:
    """List audit entries, newest first."""
    filters = audit.EventFilters(target=target, action=action, actor=actor,
                                 since=_moment(since, "--since"), until=_moment(until, "--until"))
    svc = services()
    try:
        with svc.db.unit_of_work() as session:
            events, total = audit.list_events(session, filters, limit=limit, offset=offset)
            rows = [{"id": e.id, "at": e.at.isoformat(), "actor": e.actor_label,
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
