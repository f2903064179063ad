"""patrimoine charter …: evaluate the charter, import and export it, record deviations and
the action plan."""

from __future__ import annotations

import json
import sys
from datetime import date
from pathlib import Path
from typing import Annotated

import typer
from pydantic import ValidationError
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn
from rich.table import Table

from patrimoine.access.models import Role
from patrimoine.access.principal import Principal
from patrimoine.charter import actions, config, deviations, evaluations
from patrimoine.charter.engine import Evaluation, evaluate
from patrimoine.charter.rules.base import (
    HIGHEST_SEVERITY,
    OUTCOME_LABELS,
    RULES,
    SEVERITY_LABELS,
    Outcome,
)
from patrimoine.cli.common import command_services, console, organisation_id
from patrimoine.core.errors import Invalid, NotFound

app = typer.Typer(help="La charte de la donnée : évaluation, écarts, plan d'actions.",
                  no_args_is_help=True)
deviation_app = typer.Typer(help="Écarts documentés (dérogations).", no_args_is_help=True)
action_app = typer.Typer(help="Plan d'actions de la charte.", no_args_is_help=True)
app.add_typer(deviation_app, name="deviation")
app.add_typer(action_app, name="action")

CLI = "ligne de commande"
JsonOpt = Annotated[bool, typer.Option("--json", help="Sortie en JSON.")]
OrgOpt = Annotated[str | None, typer.Option(
    "--organisation", help="Nom ou identifiant (slug) de l'organisation (par défaut toutes).")]
ByOpt = Annotated[str | None, typer.Option("--by", help="Qui agit (nom, courriel).")]



def _principal(by: str | None = None) -> Principal:
    return Principal.system(f"{CLI} ({by})" if by else CLI)



def _fr(day: date) -> str:
    return day.strftime("%d/%m/%Y")


COLUMNS = ((Outcome.PASSED, "Respect."), (Outcome.FAILED, "Échecs"),
           (Outcome.DEVIATION, "Écarts"), (Outcome.NOT_APPLICABLE, "S. o."))


def _print(result: Evaluation, max_items: int) -> None:
    console.print(f"[bold]{result.charter_title}[/bold] — évaluation du "
                  f"{result.at:%d/%m/%Y à %H:%M}")
    for e in result.engagements:
        table = Table(title=e.title, title_justify="left", expand=True)
        table.add_column("Règle", ratio=1)
        table.add_column("Gravité")
        for _, heading in COLUMNS:
            table.add_column(heading, justify="right")
        for r in e.rules:
            c = r.counts
            table.add_row(f"{r.rule.title} [dim]({r.rule.id})[/dim]",
                          SEVERITY_LABELS[r.rule.severity],
                          *(str(c[o.value]) for o, _ in COLUMNS))
        console.print(table)
    console.print("[dim]" + " ; ".join(f"{h} : {OUTCOME_LABELS[o].lower()}"
                                      for o, h in COLUMNS) + "[/dim]")
    for r in result.rules:
        shown = r.failures + r.deviations
        if not shown:
            continue
        console.print(f"\n[bold]{r.rule.title}[/bold] ({r.rule.id}) : "
                      f"{len(r.failures)} en échec, {len(r.deviations)} écart(s) documenté(s)")
        for item in shown[:max_items]:
            mark = "✗" if item.outcome == Outcome.FAILED else "≈"
            console.print(f"  {mark} {item.label} — {item.reason} [dim]{item.link}[/dim]",
                          highlight=False)
        if len(shown) > max_items:
            console.print(f"  … et {len(shown) - max_items} autre(s).")
    if result.highest_failed:
        console.print(f"\n[red]Une règle de gravité « {SEVERITY_LABELS[HIGHEST_SEVERITY]} » "
                      "n'est pas respectée.[/red]")


@app.command("evaluate")
def evaluate_command(organisation: OrgOpt = None, as_json: JsonOpt = False,
                     max_items: Annotated[int, typer.Option(
                         "--max-items", min=0, help="Éléments en échec affichés par règle.")] = 10,
                     record: Annotated[bool, typer.Option(
                         "--record/--no-record",
                         help="Enregistrer l'évaluation (tendance, « en échec depuis »).")] = True,
                     ) -> None:
    """Évaluer chaque règle de la charte ; code de sortie 1 si une règle de la gravité la plus
    haute n'est pas respectée."""
    svc = command_services()
    with svc.db.unit_of_work() as s:
        org = organisation_id(s, organisation)
        scope = None if org is None else [org]
        if as_json:
            result = evaluate(s, scope)
        else:
            with Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
                          console=console, transient=True) as bar:
                task = bar.add_task("Évaluation", total=None)

                def step(label: str, total: int) -> None:
                    bar.update(task, total=total, description=label[:60])
                    if label != "Lecture des registres":
                        bar.advance(task)
                result = evaluate(s, scope, progress=step)
        if record:
            evaluations.record(s, _principal(), result)
    if as_json:
        sys.stdout.write(json.dumps(result.as_dict(), ensure_ascii=False, indent=2) + "\n")
    else:
        _print(result, max_items)
    if result.highest_failed:
        raise typer.Exit(1)


@app.command("rules")
def rules_command(as_json: JsonOpt = False) -> None:
    """Lister les règles de la bibliothèque, leurs paramètres et leur gravité."""
    if as_json:
        sys.stdout.write(json.dumps([r.as_dict() for r in RULES.values()], ensure_ascii=False,
                                    indent=2) + "\n")
        return
    table = Table(title="Règles de la charte")
    for name in ("Identifiant", "Titre", "Gravité", "Référence", "Paramètres"):
        table.add_column(name)
    for r in RULES.values():
        table.add_row(r.id, r.title, SEVERITY_LABELS[r.severity], r.reference,
                      ", ".join(f"{k} = {v}" for k, v in r.parameters.items()))
    console.print(table)


@app.command("export")
def export_command(file: Annotated[Path, typer.Argument(
        help="Fichier .yaml, .yml ou .toml (« - » : la sortie standard, en YAML).")]) -> None:
    """Écrire la charte (engagements, règles, paramètres) en YAML ou en TOML."""
    svc = command_services()
    fmt = "yaml" if str(file) == "-" else config.format_of(file.name)
    with svc.db.session() as s:
        text = config.export_text(s, fmt)
    if str(file) == "-":
        sys.stdout.write(text)
    else:
        file.write_text(text, encoding="utf-8")
        console.print(f"Charte écrite dans {file}.")


@app.command("import")
def import_command(file: Annotated[Path, typer.Argument(help="Fichier .yaml, .yml ou .toml.")],
                   by: ByOpt = None) -> None:
    """Remplacer la charte par celle du fichier (YAML ou TOML)."""
    fmt = config.format_of(file.name)
    try:
        text = file.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise NotFound(f"Fichier « {file} » introuvable.") from None
    except UnicodeDecodeError:
        raise Invalid(f"Le fichier « {file} » n'est pas en UTF-8.") from None
    svc = command_services()
    with svc.db.unit_of_work() as s:
        charter = config.import_text(s, _principal(by), text, fmt)
    rules = sum(len(e.rules) for e in charter.engagements)
    console.print(f"Charte « {charter.title} » enregistrée : {len(charter.engagements)} "
                  f"engagement(s), {rules} règle(s).")


def _invalid(exc: ValidationError) -> Invalid:
    parts = [str(e["msg"]).removeprefix("Value error, ") for e in exc.errors()]
    return Invalid("Saisie invalide : " + " ; ".join(parts) + ".")


@deviation_app.command("add")
def deviation_add(
        rule: Annotated[str, typer.Option("--rule", help="Identifiant de la règle.")],
        justification: Annotated[str, typer.Option("--justification", help="Pourquoi.")],
        until: Annotated[str, typer.Option("--until", help="Date d'expiration (AAAA-MM-JJ).")],
        role: Annotated[Role, typer.Option("--role", help="Rôle qui approuve l'écart.")],
        item: Annotated[str | None, typer.Option(
            "--item", help="Élément concerné (« dataset:42 ») ; sans : toute la portée.")] = None,
        organisation: OrgOpt = None,
        start: Annotated[str | None, typer.Option(
            "--from", help="Date de début (AAAA-MM-JJ, par défaut aujourd'hui).")] = None,
        link: Annotated[str | None, typer.Option("--link", help="Lien vers l'expérimentation.")
                        ] = None,
        by: ByOpt = None) -> None:
    """Enregistrer un écart documenté à une règle."""
    svc = command_services()
    with svc.db.unit_of_work() as s:
        try:
            data = deviations.DeviationInput(
                rule_id=rule, item=item, organisation_id=organisation_id(s, organisation),
                justification=justification, approver_role=role.value,
                starts_on=start or date.today(), expires_on=until, link=link)
        except ValidationError as exc:
            raise _invalid(exc) from None
        d = deviations.record(s, _principal(by), data)
    console.print(f"Écart n° {d.id} enregistré sur « {RULES[d.rule_id].title} » "
                  f"({d.scope}), jusqu'au {_fr(d.expires_on)}.")


@deviation_app.command("end")
def deviation_end(deviation_id: Annotated[int, typer.Argument(help="Numéro de l'écart.")],
                  on: Annotated[str | None, typer.Option(
                      "--on", help="Dernier jour de l'écart (AAAA-MM-JJ, par défaut "
                                   "aujourd'hui).")] = None,
                  by: ByOpt = None) -> None:
    """Mettre fin à un écart avant son expiration."""
    try:
        last = date.fromisoformat(on) if on else date.today()
    except ValueError:
        raise Invalid(f"Date invalide : « {on} » (attendu AAAA-MM-JJ).") from None
    svc = command_services()
    with svc.db.unit_of_work() as s:
        d = deviations.end(s, _principal(by), deviation_id, last)
    console.print(f"Écart n° {d.id} : prend fin le {_fr(d.expires_on)}.")


@deviation_app.command("list")
def deviation_list(organisation: OrgOpt = None, as_json: JsonOpt = False) -> None:
    """Lister les écarts documentés."""
    svc = command_services()
    today = date.today()
    with svc.db.session() as s:
        org = organisation_id(s, organisation)
        found = deviations.listed(s, None if org is None else [org])
    if as_json:
        sys.stdout.write(json.dumps([d.as_dict(today) for d in found], ensure_ascii=False,
                                    indent=2) + "\n")
        return
    table = Table(title="Écarts documentés")
    for name in ("N°", "Règle", "Portée", "Du", "Au", "État", "Approuvé par"):
        table.add_column(name)
    for d in found:
        v = d.as_dict(today)
        table.add_row(str(d.id), d.rule_id, d.scope, _fr(d.starts_on), _fr(d.expires_on),
                      v["state_label"], d.approved_by)
    console.print(table)


@action_app.command("add")
def action_add(
        engagement: Annotated[str, typer.Option("--engagement", help="Code de l'engagement.")],
        title: Annotated[str, typer.Option("--title", help="Intitulé de l'action.")],
        owner: Annotated[str, typer.Option("--owner", help="Responsable.")],
        due: Annotated[str, typer.Option("--due", help="Échéance (AAAA-MM-JJ).")],
        rule: Annotated[list[str] | None, typer.Option(
            "--rule", help="Règle que l'action vise (répétable).")] = None,
        organisation: OrgOpt = None,
        evidence: Annotated[str, typer.Option("--evidence", help="Preuve de réalisation.")] = "",
        by: ByOpt = None) -> None:
    """Inscrire une action au plan de la charte."""
    svc = command_services()
    with svc.db.unit_of_work() as s:
        try:
            data = actions.ActionInput(engagement=engagement, title=title, owner=owner,
                                       due_on=due, rule_ids=rule or [], evidence=evidence,
                                       organisation_id=organisation_id(s, organisation))
        except ValidationError as exc:
            raise _invalid(exc) from None
        a = actions.create(s, _principal(by), data)
    console.print(f"Action n° {a.id} inscrite : « {a.title} », échéance le {_fr(a.due_on)}.")


@action_app.command("done")
def action_done(action_id: Annotated[int, typer.Argument(help="Numéro de l'action.")],
                evidence: Annotated[str, typer.Option("--evidence", help="Preuve.")],
                on: Annotated[str | None, typer.Option(
                    "--on", help="Date de réalisation (AAAA-MM-JJ, par défaut aujourd'hui).")
                              ] = None,
                by: ByOpt = None) -> None:
    """Marquer une action réalisée, avec sa preuve."""
    svc = command_services()
    with svc.db.unit_of_work() as s:
        row = actions.get(s, action_id)
        current = actions.ActionInput(
            engagement=row.engagement.code, organisation_id=row.organisation_id,
            title=row.title, owner=row.owner, due_on=row.due_on, rule_ids=list(row.rule_ids),
            evidence=row.evidence, started_on=row.started_on, done_on=row.done_on)
        try:
            data = actions.ActionInput.model_validate(
                current.model_dump() | {"evidence": evidence, "done_on": on or date.today()})
        except ValidationError as exc:
            raise _invalid(exc) from None
        a = actions.update(s, _principal(by), action_id, data)
    console.print(f"Action n° {a.id} réalisée le {_fr(a.done_on or date.today())}.")


@action_app.command("list")
def action_list(organisation: OrgOpt = None, as_json: JsonOpt = False) -> None:
    """Lister le plan d'actions et le statut de chaque action."""
    svc = command_services()
    today = date.today()
    with svc.db.session() as s:
        org = organisation_id(s, organisation)
        found = actions.listed(s, None if org is None else [org])
    if as_json:
        sys.stdout.write(json.dumps([a.as_dict(today) for a in found], ensure_ascii=False,
                                    indent=2) + "\n")
        return
    table = Table(title="Plan d'actions")
    for name in ("N°", "Engagement", "Action", "Responsable", "Échéance", "Statut"):
        table.add_column(name)
    for a in found:
        table.add_row(str(a.id), a.engagement_title, a.title, a.owner, _fr(a.due_on),
                      actions.STATUS_LABELS[a.status(today)])
    console.print(table)
