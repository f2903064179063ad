"""The demo territory: a fictional métropole, its ville-centre, its CCAS and member communes,
their directions, accounts for every role and an inventory whose mix follows the Troyes audit.

Everything is built from one seed, so two loads give the same territory (passwords aside,
which are random unless PATRIMOINE_DEMO_PASSWORD fixes them). The steps that load it are
listed in demo/loader.py.
"""

from __future__ import annotations

import random
import secrets
from dataclasses import dataclass, field

from sqlalchemy.orm import Session

from patrimoine.access import audit
from patrimoine.access import service as accounts
from patrimoine.access.models import ROLE_LABELS, Account, Role
from patrimoine.access.principal import Principal
from patrimoine.core.settings import Settings
from patrimoine.demo import vocabulary as v
from patrimoine.inventory import service as inventory
from patrimoine.inventory.models import Department, Organisation, OrganisationKind

SEED = 20_240_611
PASSWORD_ENV = "PATRIMOINE_DEMO_PASSWORD"

Credential = tuple[str, str, str]  # email, role label in French, password


@dataclass(frozen=True)
class OrganisationSpec:
    key: str
    name: str
    kind: OrganisationKind
    parent: str | None
    # Short place name, for spatial coverage and e-mail domains.
    place: str
    domain: str
    directions: tuple[v.Direction, ...]
    # The territory is fictional, its places are not: each body borrows the official code
    # (SIREN) of Tours Métropole Val de Loire or of one of its communes, so that its datasets'
    # spatial coverage has a real geometry (interop/geography.py). A CCAS has none of its own.
    siren: str | None = None


METROPOLE, VILLE, CCAS = "metropole", "ville", "ccas"
COMMUNES = ("belvoir", "saint-florent", "montaigu", "varennes")

ORGANISATIONS: tuple[OrganisationSpec, ...] = (
    OrganisationSpec(METROPOLE, "Métropole de Val-de-Loire", OrganisationKind.METROPOLE, None,
                     "Val-de-Loire", "valdeloire.example", v.METROPOLE_DIRECTIONS, "243700754"),
    OrganisationSpec(VILLE, "Ville de Ligérac", OrganisationKind.VILLE, METROPOLE,
                     "Ligérac", "ligerac.example", v.VILLE_DIRECTIONS, "213702616"),
    OrganisationSpec(CCAS, "CCAS de Ligérac", OrganisationKind.CCAS, VILLE,
                     "Ligérac", "ccas-ligerac.example", v.CCAS_DIRECTIONS),
    OrganisationSpec("belvoir", "Commune de Belvoir-sur-Loire", OrganisationKind.COMMUNE,
                     METROPOLE, "Belvoir-sur-Loire", "belvoir-sur-loire.example",
                     v.COMMUNE_DIRECTIONS, "213701220"),
    OrganisationSpec("saint-florent", "Commune de Saint-Florent-des-Prés",
                     OrganisationKind.COMMUNE, METROPOLE, "Saint-Florent-des-Prés",
                     "saint-florent-des-pres.example", v.COMMUNE_DIRECTIONS, "213702145"),
    OrganisationSpec("montaigu", "Commune de Montaigu-la-Rivière", OrganisationKind.COMMUNE,
                     METROPOLE, "Montaigu-la-Rivière", "montaigu-la-riviere.example",
                     v.COMMUNE_DIRECTIONS, "213702087"),
    OrganisationSpec("varennes", "Commune de Varennes-les-Saules", OrganisationKind.COMMUNE,
                     METROPOLE, "Varennes-les-Saules", "varennes-les-saules.example",
                     v.COMMUNE_DIRECTIONS, "213701956"),
)
SPECS = {spec.key: spec for spec in ORGANISATIONS}


@dataclass(frozen=True)
class AccountSpec:
    email: str
    full_name: str
    # (organisation key, role, department name or None); empty for the instance administrator.
    roles: tuple[tuple[str, Role, str | None], ...] = ()
    superadmin: bool = False
    label: str = ""


_ALL = (METROPOLE, VILLE, CCAS, *COMMUNES)
ACCOUNTS: tuple[AccountSpec, ...] = (
    AccountSpec("admin@valdeloire.example", "Camille Rousseau", superadmin=True,
                label="Administrateur de l'instance — toutes les organisations"),
    AccountSpec("s.lambert@valdeloire.example", "Sophie Lambert",
                ((METROPOLE, Role.ADMINISTRATOR, None), (VILLE, Role.ADMINISTRATOR, None))),
    AccountSpec("a.mercier@valdeloire.example", "Antoine Mercier",
                tuple((o, Role.CHIEF_DATA_OFFICER, None) for o in (METROPOLE, VILLE, CCAS))),
    AccountSpec("dpo@valdeloire.example", "Nadia Benali",
                tuple((o, Role.DPO, None) for o in _ALL),
                label="Délégué à la protection des données mutualisé — métropole, ville, CCAS "
                      "et 4 communes"),
    AccountSpec("j.girard@valdeloire.example", "Julien Girard",
                ((METROPOLE, Role.DATA_REFERENT, "Développement durable - Climat - Énergie"),)),
    AccountSpec("e.faure@ligerac.example", "Émilie Faure",
                ((VILLE, Role.DATA_REFERENT, "Culture - Labels et patrimoine - Vie associative"),)),
    AccountSpec("t.morel@valdeloire.example", "Thomas Morel",
                ((METROPOLE, Role.AGENT, "Mobilités"),)),
    AccountSpec("m.petit@belvoir-sur-loire.example", "Marie Petit",
                (("belvoir", Role.ADMINISTRATOR, None),)),
    AccountSpec("contact@observatoire-ligerien.example", "Observatoire ligérien de l'habitat",
                ((METROPOLE, Role.PARTNER, None),)),
)


@dataclass
class DemoContext:
    """What the steps share: the session, the acting principal (the system, so history and
    audit entries name the demo loader), a random source seeded for the current step, and what
    earlier steps built."""

    session: Session
    principal: Principal
    rng: random.Random
    password: str | None
    # The data folder's settings, for steps that write files (published data); None skips them.
    settings: Settings | None = None
    organisations: dict[str, Organisation] = field(default_factory=dict)
    departments: dict[tuple[str, str], Department] = field(default_factory=dict)
    accounts: dict[str, Account] = field(default_factory=dict)
    credentials: list[Credential] = field(default_factory=list)

    def department(self, org_key: str, name: str) -> Department:
        return self.departments[(org_key, name)]


def build_organisations(ctx: DemoContext) -> None:
    for spec in ORGANISATIONS:
        parent = ctx.organisations[spec.parent].id if spec.parent else None
        org = inventory.create_organisation(ctx.session, ctx.principal, name=spec.name,
                                            kind=spec.kind, parent_id=parent,
                                            siren=spec.siren)
        org.website = f"https://www.{spec.domain}"
        ctx.organisations[spec.key] = org
        for direction in spec.directions:
            if (spec.key, direction.name) not in ctx.departments:
                ctx.departments[(spec.key, direction.name)] = inventory.create_department(
                    ctx.session, ctx.principal, org, direction.name)


def _role_label(spec: AccountSpec, ctx: DemoContext) -> str:
    if spec.label:
        return spec.label
    role = spec.roles[0][1]
    places = []
    for org_key, _role, department in spec.roles:
        name = ctx.organisations[org_key].name
        places.append(f"{department} ({name})" if department else name)
    return f"{ROLE_LABELS[role]} — {', '.join(places)}"


def build_accounts(ctx: DemoContext) -> None:
    for spec in ACCOUNTS:
        password = ctx.password or secrets.token_urlsafe(12)
        account = accounts.create_account(ctx.session, email=spec.email, full_name=spec.full_name,
                                          password=password, is_superadmin=spec.superadmin)
        for org_key, role, department in spec.roles:
            dep = ctx.department(org_key, department) if department else None
            accounts.grant_role(ctx.session, account, organisation_id=ctx.organisations[org_key].id,
                                role=role, department_id=dep.id if dep else None)
        audit.record(ctx.session, ctx.principal, "account.create", f"account:{account.id}",
                     {"email": account.email, "superadmin": spec.superadmin})
        ctx.accounts[spec.email] = account
        ctx.credentials.append((spec.email, _role_label(spec, ctx), password))
