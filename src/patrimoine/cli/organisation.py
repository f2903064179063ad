"""patrimoine organisation …: the organisations of the instance and their departments."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.table import Table

from patrimoine.access.principal import Principal
from patrimoine.cli.common import console, services
from patrimoine.core.errors import Invalid
from patrimoine.inventory import queries
from patrimoine.inventory import service as inventory
from patrimoine.inventory.models import OrganisationKind

app = typer.Typer(help="Les organisations (métropole, ville, CCAS, communes) et leurs directions.",
                  no_args_is_help=True)
CLI = Principal.system("ligne de commande")
KINDS = ", ".join(k.value for k in OrganisationKind)


@app.command("create")
def create(
    name: Annotated[str, typer.Argument(help="Nom, par exemple « Ville de Troyes ».")],
    kind: Annotated[str, typer.Option(
        help=f"Type, parmi : {KINDS}.")] = OrganisationKind.OTHER.value,
    parent: Annotated[str | None, typer.Option(
        help="Nom ou identifiant (slug) de l'organisation parente.")] = None,
    siren: Annotated[str | None, typer.Option(help="Numéro SIREN (9 chiffres).")] = None,
) -> None:
    """Créer une organisation."""
    try:
        org_kind = OrganisationKind(kind)
    except ValueError:
        raise Invalid(f"Type d'organisation inconnu « {kind} » ; valeurs possibles : "
                      f"{KINDS}.") from None
    svc = services()
    with svc.db.unit_of_work() as session:
        parent_id = None
        if parent:
            found = inventory.find_organisation(session, parent)
            if found is None:
                raise Invalid(f"Organisation parente « {parent} » introuvable.")
            parent_id = found.id
        org = inventory.create_organisation(session, CLI, name=name, kind=org_kind,
                                            parent_id=parent_id, siren=siren)
        console.print(f"Organisation créée : {org.name} ({org.slug})")


@app.command("add-department")
def add_department(
    organisation: Annotated[str, typer.Argument(
        help="Nom ou identifiant (slug) de l'organisation.")],
    name: Annotated[str, typer.Argument(help="Nom de la direction.")],
) -> None:
    """Ajouter une direction à une organisation."""
    svc = services()
    with svc.db.unit_of_work() as session:
        org = inventory.find_organisation(session, organisation)
        if org is None:
            raise Invalid(f"Organisation « {organisation} » introuvable.")
        dep = inventory.create_department(session, CLI, org, name)
        console.print(f"Direction : {dep.name} ({org.name})")


@app.command("list")
def list_organisations() -> None:
    """Lister les organisations et leurs directions."""
    svc = services()
    with svc.db.unit_of_work() as session:
        table = Table(title="Organisations")
        for column in ("Nom", "Identifiant", "Type", "Directions"):
            table.add_column(column)
        for org in queries.organisations(session):
            table.add_row(org.name, org.slug, org.kind.value,
                          ", ".join(d.name for d in org.departments) or "—")
        console.print(table)
