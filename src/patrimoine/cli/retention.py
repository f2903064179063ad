"""patrimoine retention …: retention rules, the plan, its application, elimination slips
and their visa, sobriety figures."""

from __future__ import annotations

import json
from datetime import date, datetime, time
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.table import Table
from sqlalchemy import select
from sqlalchemy.orm import Session

from patrimoine.access.principal import Principal
from patrimoine.charter import sobriety
from patrimoine.cli.common import command_services, console
from patrimoine.core.errors import Invalid, NotFound
from patrimoine.core.text import key
from patrimoine.core.vocabulary import label
from patrimoine.inventory.models import Dataset, Organisation
from patrimoine.retention import apply as applier
from patrimoine.retention import holds, planner, slips
from patrimoine.retention import service as rules_service

app = typer.Typer(help="Durées de conservation, éliminations et sobriété.",
                  no_args_is_help=True)

CLI = "ligne de commande"
JsonOpt = Annotated[bool, typer.Option("--json", help="Sortie en JSON.")]
OrgOpt = Annotated[str | None, typer.Option(
    "--organisation", help="Nom ou identifiant (slug) de l'organisation (par défaut toutes).")]



def _principal(by: str | None = None) -> Principal:
    return Principal.system(f"{CLI} ({by})" if by else CLI)


def _organisations(session: Session, name: str | None) -> list[int] | None:
    if not name:
        return None
    for org in session.scalars(select(Organisation)):
        if org.slug == name or key(org.name) == key(name):
            return [org.id]
    raise NotFound(f"Organisation « {name} » introuvable.")


def _dataset(session: Session, slug: str) -> Dataset:
    dataset = session.scalar(select(Dataset).where(Dataset.slug == slug))
    if dataset is None:
        raise NotFound(f"Jeu de données « {slug} » introuvable.")
    return dataset


def _size(n: int) -> str:
    size = float(n)
    for unit in ("o", "Ko", "Mo"):
        if size < 1024:
            return f"{size:,.0f} {unit}".replace(",", " ") if unit == "o" else \
                f"{size:,.1f} {unit}".replace(",", " ").replace(".", ",")
        size /= 1024
    return f"{size:,.1f} Go".replace(",", " ").replace(".", ",")


@app.command("rule")
def rule(
    slug: Annotated[str, typer.Argument(help="Identifiant (slug) du jeu de données.")],
    duration: Annotated[int | None, typer.Option("--duration", help="Durée (nombre).")] = None,
    unit: Annotated[str | None, typer.Option("--unit", help="jours, mois ou ans.")] = None,
    start: Annotated[str | None, typer.Option(
        "--start", help="Événement de départ : created, updated, relationship_end, "
                        "file_closed, date_column (ou son libellé).")] = None,
    fate: Annotated[str | None, typer.Option(
        "--fate", help="Sort final : archives, destruction, sorting (tri), "
                       "anonymisation.")] = None,
    event_date: Annotated[str | None, typer.Option(
        "--event-date", help="Date de l'événement (AAAA-MM-JJ).")] = None,
    date_column: Annotated[str | None, typer.Option(
        "--date-column", help="Colonne de date (conservation ligne à ligne).")] = None,
    reference: Annotated[str | None, typer.Option(
        "--reference", help="Référence réglementaire (tableau de gestion, texte).")] = None,
    anonymisation: Annotated[str | None, typer.Option(
        "--anonymisation", help="Plan d'anonymisation en JSON "
                                "([{\"op\": \"drop\", \"column\": \"email\"}, …]).")] = None,
    clear: Annotated[bool, typer.Option("--clear", help="Retire la règle propre.")] = False,
    as_json: JsonOpt = False,
) -> None:
    """Affiche ou règle la durée de conservation d'un jeu de données."""
    svc = command_services()
    with svc.db.unit_of_work() as session:
        dataset = _dataset(session, slug)
        if clear:
            rules_service.clear_rule(session, _principal(), dataset)
            console.print(f"Règle de conservation de « {dataset.title} » retirée.")
            return
        if duration is not None or unit or start or fate:
            data: dict[str, Any] = {"duration": duration, "unit": unit, "start_event": start,
                                    "final_fate": fate, "event_date": event_date,
                                    "date_column": date_column, "legal_reference": reference}
            if anonymisation:
                try:
                    data["anonymisation"] = json.loads(anonymisation)
                except json.JSONDecodeError:
                    raise Invalid("Le plan d'anonymisation n'est pas du JSON valide.") from None
            rules_service.set_rule(session, _principal(), dataset,
                                   {k: v for k, v in data.items() if v is not None})
        own = rules_service.rule_of(session, dataset)
        if as_json:
            typer.echo(json.dumps(rules_service.rule_json(own), ensure_ascii=False, indent=2))
        elif own is None:
            console.print(f"« {dataset.title} » n'a pas de règle de conservation propre.")
        else:
            console.print(f"{dataset.title} : {own.rule().describe()}.")


@app.command("plan")
def plan(organisation: OrgOpt = None, as_json: JsonOpt = False) -> None:
    """Liste ce qui arrive à échéance.

    Jeux de données, versions, lignes : pourquoi, quel sort final, depuis quand."""
    svc = command_services()
    with svc.db.session() as session:
        result = planner.build_plan(session, svc.settings, _organisations(session, organisation))
        if as_json:
            typer.echo(json.dumps(result.as_json(), ensure_ascii=False, indent=2))
            return
        if not result.items:
            console.print("Rien n'est échu.")
        else:
            table = Table(title=f"Conservation : échéances au {result.today:%d/%m/%Y}")
            for col in ("Jeu de données", "Action", "Sort final", "Échu depuis", "Motif",
                        "Visa"):
                table.add_column(col)
            for item in result.items:
                d = item.as_json()
                visa = item.blocked or ("Visé" if item.slip_status == "approved" else
                                        ("Non requis" if not item.needs_visa else ""))
                table.add_row(item.dataset_slug, d["action_label"], d["fate_label"],
                              f"{item.due_since:%d/%m/%Y}", item.reason, visa)
            console.print(table)
        for w in result.waiting:
            due = f" Prochaine échéance : {w.next_due:%d/%m/%Y}." if w.next_due else ""
            console.print(f"En attente — {w.dataset_slug} : {w.reason}{due}")
        for p in result.problems:
            console.print(f"[yellow]À revoir :[/yellow] {p}")


@app.command("apply")
def apply(organisation: OrgOpt = None, as_json: JsonOpt = False) -> None:
    """Applique ce qui est échu, chaque action enregistrée.

    Versement aux archives, anonymisation, destruction visée."""
    svc = command_services()
    with svc.db.unit_of_work() as session:
        outcome = applier.apply_plan(session, svc.settings, _principal(),
                                     _organisations(session, organisation))
    if as_json:
        typer.echo(json.dumps(outcome.as_json(), ensure_ascii=False, indent=2))
        return
    for d in outcome.done:
        console.print(f"Fait — {d['dataset']} : {planner.ACTION_LABELS[d['action']]}"
                      + (f" (bordereau {d['slip']})" if d["slip"] else ""))
    for s in outcome.skipped:
        console.print(f"Non fait — {s['dataset']} : {s['reason']}")
    if not outcome.done and not outcome.skipped:
        console.print("Rien n'est échu.")


@app.command("slip")
def slip(
    organisation: Annotated[str, typer.Option("--organisation",
                                              help="Organisation concernée.")],
    as_json: JsonOpt = False,
) -> None:
    """Établit le bordereau d'élimination des destructions échues de l'organisation."""
    svc = command_services()
    with svc.db.unit_of_work() as session:
        orgs = _organisations(session, organisation)
        assert orgs
        made = slips.create_slip(session, svc.settings, _principal(), orgs[0])
        data = slips.slip_json(made)
    if as_json:
        typer.echo(json.dumps(data, ensure_ascii=False, indent=2))
    else:
        console.print(f"Bordereau {data['reference']} (n° {data['id']}) établi : "
                      f"{len(data['items'])} élément(s), en attente du visa.")


@app.command("slips")
def list_slips(as_json: JsonOpt = False) -> None:
    """Liste les bordereaux d'élimination et leur visa."""
    svc = command_services()
    with svc.db.session() as session:
        found = [slips.slip_json(s) for s in slips.list_slips(session, _principal())]
    if as_json:
        typer.echo(json.dumps(found, ensure_ascii=False, indent=2))
        return
    for s in found:
        visa = f", visa {s['visa_reference']} par {s['visa_by']}" if s["visa_by"] else ""
        console.print(f"{s['id']} {s['reference']} — {s['status_label']}{visa} — "
                      f"{len(s['items'])} élément(s)")


@app.command("export-slip")
def export_slip(
    slip_id: Annotated[int, typer.Argument(help="Numéro du bordereau.")],
    output: Annotated[Path, typer.Option("--output", "-o", help="Fichier XLSX à écrire.")],
) -> None:
    """Écrit le bordereau d'élimination en tableur (XLSX)."""
    svc = command_services()
    with svc.db.session() as session:
        found = slips.get_slip(session, _principal(), slip_id)
        org = session.get(Organisation, found.organisation_id)
        assert org is not None
        output.write_bytes(slips.slip_xlsx(found, org))
    console.print(f"Bordereau écrit dans {output}.")


@app.command("visa")
def visa(
    slip_id: Annotated[int, typer.Argument(help="Numéro du bordereau.")],
    by: Annotated[str, typer.Option("--by", help="Qui a visé (directeur des archives).")],
    reference: Annotated[str, typer.Option("--reference", help="Référence du visa.")],
    on: Annotated[str | None, typer.Option("--date", help="Date du visa (AAAA-MM-JJ).")] = None,
    refused: Annotated[bool, typer.Option("--refused", help="Visa refusé.")] = False,
    reason: Annotated[str | None, typer.Option("--reason", help="Motif du refus.")] = None,
) -> None:
    """Enregistre le visa du directeur des archives sur un bordereau.

    Article R212-14 du Code du patrimoine ; la destruction peut ensuite être appliquée."""
    at = None
    if on:
        try:
            at = datetime.combine(date.fromisoformat(on), time(12)).astimezone()
        except ValueError:
            raise Invalid(f"Date de visa invalide : « {on} » (AAAA-MM-JJ attendu).") from None
    svc = command_services()
    with svc.db.unit_of_work() as session:
        found = slips.record_visa(session, _principal(), slip_id, by=by, reference=reference,
                                  at=at, refused=refused, reason=reason)
        status = label(found.status)
        ref = found.reference
    console.print(f"Bordereau {ref} : {status.lower()}.")


@app.command("hold")
def hold(
    slug: Annotated[str, typer.Argument(help="Jeu de données gelé.")],
    kind: Annotated[str, typer.Option("--kind", help="litigation (contentieux), cada, audit, "
                                                     "other.")],
    reason: Annotated[str, typer.Option("--reason", help="Motif : n° de requête, demande "
                                                         "CADA, mission d'audit.")],
    by: Annotated[str | None, typer.Option("--by", help="Qui pose le gel.")] = None,
    version: Annotated[int | None, typer.Option("--version", help="Une version (par défaut "
                                                                  "tout le jeu).")] = None,
    start: Annotated[str | None, typer.Option("--from", help="Début (AAAA-MM-JJ).")] = None,
    until: Annotated[str | None, typer.Option("--until", help="Fin (AAAA-MM-JJ).")] = None,
    review: Annotated[str | None, typer.Option("--review", help="Date de réexamen.")] = None,
) -> None:
    """Pose un gel juridique : rien de ces données n'est éliminé, trié ni versé tant qu'il
    dure (contentieux, demande CADA, contrôle)."""
    svc = command_services()
    with svc.db.unit_of_work() as session:
        placed = holds.place_hold(session, _principal(by), _dataset(session, slug), kind=kind,
                                  reason=reason, starts_on=start, ends_on=until,
                                  review_on=review, version=version)
        text, number = holds.describe(placed), placed.id
    console.print(f"Gel juridique n° {number} posé : {text}", markup=False)


@app.command("holds")
def list_holds(organisation: OrgOpt = None, as_json: JsonOpt = False) -> None:
    """Les gels juridiques, en vigueur ou levés."""
    svc = command_services()
    with svc.db.session() as session:
        found = [holds.hold_json(h) for h in
                 holds.list_holds(session, _organisations(session, organisation))]
    if as_json:
        typer.echo(json.dumps(found, ensure_ascii=False, indent=2))
        return
    if not found:
        console.print("Aucun gel juridique.")
    for h in found:
        state = "en vigueur" if h["in_force"] else (
            f"levé : {h['release_reason']}" if h["released_at"] else "hors période")
        console.print(f"{h['id']} — {h['description']} — {state}", markup=False)


@app.command("release")
def release(
    hold_id: Annotated[int, typer.Argument(help="Numéro du gel.")],
    reason: Annotated[str, typer.Option("--reason", help="Pourquoi il est levé.")],
    by: Annotated[str | None, typer.Option("--by", help="Qui lève le gel.")] = None,
) -> None:
    """Lève un gel juridique (avec son motif)."""
    svc = command_services()
    with svc.db.unit_of_work() as session:
        holds.release_hold(session, _principal(by), hold_id, reason)
    console.print(f"Gel juridique n° {hold_id} levé.")


@app.command("sobriety")
def sobriety_cmd(organisation: OrgOpt = None, as_json: JsonOpt = False) -> None:
    """Volume stocké par organisation, jeux de données non lus depuis un an, doublons."""
    svc = command_services()
    with svc.db.session() as session:
        result = sobriety.compute(session, svc.settings, _organisations(session, organisation))
    if as_json:
        typer.echo(json.dumps(result.as_json(), ensure_ascii=False, indent=2))
        return
    table = Table(title="Volume stocké par organisation")
    for col in ("Organisation", "Jeux", "Versions", "Versions (octets)", "Caches",
                "Archives", "Total"):
        table.add_column(col)
    for v in result.volumes:
        table.add_row(v.organisation, str(v.datasets), str(v.versions), _size(v.versions_bytes),
                      _size(v.cache_bytes), _size(v.archives_bytes), _size(v.total_bytes))
    console.print(table)
    console.print(f"Jeux de données non lus depuis un an : {len(result.unread)}")
    for u in result.unread:
        console.print(f"  - {u['title']} (dernière lecture : {u['last_read'] or 'jamais'})")
    console.print(f"Contenus identiques dans plusieurs jeux : {len(result.same_content)}")
    for g in result.same_content:
        console.print("  - " + ", ".join(d["title"] for d in g["datasets"]))
    console.print(f"Titres quasi identiques : {len(result.similar_titles)}")
    for p in result.similar_titles:
        console.print(f"  - « {p['a']['title']} » / « {p['b']['title']} »")
