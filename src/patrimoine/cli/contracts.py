"""patrimoine contracts …: the contracts register (the list with the charter clauses each
contract lacks, one contract's clauses, the reversibility watch)."""

from __future__ import annotations

import json
from typing import Annotated, Any

import typer
from rich.table import Table
from rich.text import Text
from sqlalchemy import select

from patrimoine.access.principal import Principal
from patrimoine.cli.common import console, named_organisation, services
from patrimoine.core.errors import Invalid, NotFound
from patrimoine.core.vocabulary import label
from patrimoine.sovereignty import contracts as ctr
from patrimoine.sovereignty.models import Contract

app = typer.Typer(help="Les contrats et les clauses de la charte qu'ils portent.",
                  no_args_is_help=True)

CLI = Principal.system("ligne de commande")
JsonOpt = Annotated[bool, typer.Option("--json", help="Sortie en JSON.")]
OrgOpt = Annotated[str | None, typer.Option(
    "--organisation", help="Nom ou identifiant (slug) de l'organisation (par défaut toutes).")]


def _day(value: Any) -> str | None:
    return value.isoformat() if value else None


@app.command("list")
def list_(organisation: OrgOpt = None, as_json: JsonOpt = False) -> None:
    """Les contrats, avec les clauses de la charte qu'ils ne portent pas (absentes ou non
    vérifiées)."""
    with services().db.session() as session:
        org = named_organisation(session, organisation)
        rows: list[dict[str, Any]] = [{
            "reference": c.reference, "title": c.title, "kind": c.kind.value,
            "supplier": c.supplier_name, "end_date": _day(c.end_date), "processor": c.processor,
                 "missing_clauses": [k.code for k in ctr.missing_clauses(session, c)]}
                for c in ctr.list_contracts(session, CLI,
                                            organisation_id=org.id if org else None)]
    if as_json:
        typer.echo(json.dumps(rows, ensure_ascii=False, indent=2))
        return
    table = Table(title=f"Contrats ({len(rows)})", title_justify="left")
    for column in ("Référence", "Contrat", "Titulaire", "Fin", "Clauses manquantes"):
        table.add_column(column)
    for r in rows:
        table.add_row(Text(r["reference"]), Text(r["title"]), Text(r["supplier"] or ""),
                      r["end_date"] or "—", Text(", ".join(r["missing_clauses"]) or "aucune"))
    console.print(table)


@app.command("clauses")
def clauses(reference: Annotated[str, typer.Argument(help="Référence du contrat (CTR-0001…).",
                                                     show_default=False)],
            organisation: OrgOpt = None, as_json: JsonOpt = False) -> None:
    """Les clauses de la charte d'un contrat : présente, absente, négociée, sans objet ou
    non vérifiée, avec l'article et la preuve."""
    with services().db.session() as session:
        org = named_organisation(session, organisation)
        query = select(Contract).where(Contract.reference == reference)
        if org is not None:
            query = query.where(Contract.organisation_id == org.id)
        found = list(session.scalars(query))
        if not found:
            raise NotFound(f"Contrat « {reference} » introuvable.")
        if len(found) > 1:
            raise Invalid(f"Plusieurs organisations ont un contrat « {reference} » : "
                          "précisez --organisation.")
        contract = found[0]
        rows: list[dict[str, Any]] = [{"code": line.clause.code, "title": line.clause.title,
                 "status": line.entry.status.value if line.entry else None,
                 "status_label": label(line.entry.status) if line.entry else "Non vérifiée",
                 "article": line.entry.article if line.entry else None,
                 "evidence": line.entry.evidence if line.entry else None}
                for line in ctr.clause_table(session, contract)]
        title = f"{contract.reference} « {contract.title} »"
    if as_json:
        typer.echo(json.dumps({"contract": reference, "clauses": rows}, ensure_ascii=False,
                              indent=2))
        return
    table = Table(title=title, title_justify="left")
    for column in ("Clause", "Statut", "Article", "Preuve"):
        table.add_column(column)
    for r in rows:
        table.add_row(Text(r["title"]), r["status_label"], Text(r["article"] or ""),
                      Text(r["evidence"] or ""))
    console.print(table)


@app.command("watch")
def watch(months: Annotated[int, typer.Option("--mois", "--months",
                                              help="Horizon de la veille, en mois.")] = 12,
          organisation: OrgOpt = None, as_json: JsonOpt = False) -> None:
    """La veille de réversibilité : les contrats finissant dans l'horizon dont la clause de
    réversibilité manque ou n'a jamais été testée avec succès."""
    with services().db.session() as session:
        org = named_organisation(session, organisation)
        rows: list[dict[str, Any]] = [{"reference": w.contract.reference, "title": w.contract.title,
                 "end_date": _day(w.contract.end_date), "reasons": w.reasons}
                for w in ctr.reversibility_watch(session, CLI, months=months,
                                                 organisation_id=org.id if org else None)]
    if as_json:
        typer.echo(json.dumps(rows, ensure_ascii=False, indent=2))
        return
    table = Table(title=f"Réversibilité : {len(rows)} contrat(s) finissant dans les {months} "
                        "mois", title_justify="left")
    for column in ("Référence", "Contrat", "Fin", "Motifs"):
        table.add_column(column)
    for r in rows:
        table.add_row(Text(r["reference"]), Text(r["title"]), r["end_date"] or "—",
                      Text(" ; ".join(r["reasons"])))
    console.print(table)
