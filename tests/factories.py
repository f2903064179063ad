"""Builders of real rows for tests, through the same services the app uses."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from patrimoine.access import service as accounts
from patrimoine.access.models import Account, Role
from patrimoine.access.principal import Principal
from patrimoine.inventory import service as inventory
from patrimoine.inventory.models import Dataset, Department, Organisation, OrganisationKind
from patrimoine.inventory.service import DatasetInput

SYSTEM = Principal.system("tests")
PASSWORD = "mot-de-passe-solide"


def organisation(session: Session, name: str = "Ville de Test",
                 kind: OrganisationKind = OrganisationKind.VILLE) -> Organisation:
    return inventory.find_organisation(session, name) or inventory.create_organisation(
        session, SYSTEM, name=name, kind=kind)


def department(session: Session, org: Organisation, name: str = "Systèmes d'information"
               ) -> Department:
    return inventory.create_department(session, SYSTEM, org, name)


def dataset(session: Session, org: Organisation, title: str = "Consommations d'énergie",
            department: Department | None = None, **fields: Any) -> Dataset:
    data = DatasetInput(title=title, organisation_id=org.id,
                        department_id=department.id if department else None, **fields)
    return inventory.create_dataset(session, SYSTEM, data)


def account(session: Session, email: str = "agent@example.fr", *, superadmin: bool = False,
            roles: list[tuple[Organisation, Role, Department | None]] | None = None) -> Account:
    acc = accounts.create_account(session, email=email, full_name=email.split("@")[0],
                                  password=PASSWORD, is_superadmin=superadmin)
    for org, role, dep in roles or []:
        accounts.grant_role(session, acc, organisation_id=org.id, role=role,
                            department_id=dep.id if dep else None)
    return acc
