"""The steps that load the demo territory, in order, and the loading itself.

Each step is `step(ctx: DemoContext)`: it creates rows through a capability's service
functions with `ctx.principal`, draws randomness from `ctx.rng` only (seeded per step, so the
territory stays deterministic) and finds what earlier steps built in `ctx.organisations`,
`ctx.departments` and `ctx.accounts`. A new capability adds its demo content by writing its
step in its own module of this package and listing it in `STEPS`.
"""

from __future__ import annotations

import os
import random
from collections.abc import Callable

from sqlalchemy import select
from sqlalchemy.orm import Session

from patrimoine.access import service as accounts
from patrimoine.access.principal import Principal
from patrimoine.core.errors import Conflict
from patrimoine.core.settings import Settings
from patrimoine.demo.charter import build_charter
from patrimoine.demo.inventory import build_inventory
from patrimoine.demo.protection import build_protection
from patrimoine.demo.published import build_published
from patrimoine.demo.report import build_report
from patrimoine.demo.retention import build_retention
from patrimoine.demo.sovereignty import build_sovereignty
from patrimoine.demo.territory import (
    PASSWORD_ENV,
    SEED,
    Credential,
    DemoContext,
    build_accounts,
    build_organisations,
)
from patrimoine.demo.transparency import build_transparency
from patrimoine.inventory.models import Organisation

Step = Callable[[DemoContext], None]

# (label in French, step), in loading order.
STEPS: tuple[tuple[str, Step], ...] = (
    ("Organisations et directions", build_organisations),
    ("Comptes et rôles", build_accounts),
    ("Inventaire des données", build_inventory),
    ("Données publiées sur le portail", build_published),
    ("Registre RGPD, demandes et violations", build_protection),
    ("Durées de conservation et bordereau d'élimination", build_retention),
    ("Cartographie applicative et contrats", build_sovereignty),
    ("Algorithmes publics et données d'intérêt général", build_transparency),
    ("Charte de la donnée : engagements, écarts et plan d'actions", build_charter),
    ("Rapport annuel de la charte (brouillon)", build_report),
)


def is_empty(session: Session) -> bool:
    """True when the store holds no organisation yet (a fresh install)."""
    return session.scalar(select(Organisation.id).limit(1)) is None


def load_demo(
    session: Session,
    *,
    password: str | None = None,
    settings: Settings | None = None,
    seed: int = SEED,
    on_step: Callable[[int, int, str], None] | None = None,
) -> list[Credential]:
    """Build the demo territory in an empty store; return (email, role, password) per account.

    `password` (else PATRIMOINE_DEMO_PASSWORD) gives every account the same known password;
    otherwise each gets a random one, which is returned here and stored only hashed.
    `on_step(index, total, label)` is called before each step, for a progress display.
    `settings` name the data folder: without them, steps that write data files (the
    published datasets and their versions) are skipped.
    """
    if not is_empty(session):
        raise Conflict("Le territoire de démonstration ne se charge que dans une base vide : "
                       "des organisations existent déjà.")
    password = password or os.environ.get(PASSWORD_ENV) or None
    if password is not None:
        accounts.check_password_strength(password)
    ctx = DemoContext(session=session, principal=Principal.system("chargement de la démonstration"),
                      rng=random.Random(seed), password=password, settings=settings)
    for index, (label, step) in enumerate(STEPS):
        if on_step is not None:
            on_step(index, len(STEPS), label)
        # Each step draws from its own sequence, so adding a step changes no other content.
        ctx.rng = random.Random(f"{seed}:{label}")
        step(ctx)
    if on_step is not None:
        on_step(len(STEPS), len(STEPS), "Terminé")
    return ctx.credentials
