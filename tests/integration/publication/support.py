"""A small organisation with a referent, a chief data officer and an agent, and CSV files."""

from __future__ import annotations

import re
from dataclasses import dataclass

from fastapi.testclient import TestClient

from patrimoine.access.models import Role
from patrimoine.core.db import Database
from patrimoine.inventory.models import AccessLevel
from tests import factories as f

REFERENT = "referent@ligerac.fr"
CDO = "agd@ligerac.fr"
AGENT = "agent@ligerac.fr"
OTHER_REFERENT = "referent.sports@ligerac.fr"

DESCRIPTION = ("Nombre de passages de vélos enregistrés chaque jour par les compteurs "
               "permanents de la ville.")
COUNTERS_CSV = ("compteur;date;passages;code_insee;latitude;longitude\n"
                + "".join(f"Écluse {i % 3};2025-01-{1 + i % 28:02d};{100 + i};45{i % 10:03d};"
                          f"47,9{i % 10};1,90{i % 7}\n" for i in range(60)))


@dataclass
class World:
    org_id: int
    slug: str
    sports_slug: str


def build(db: Database, *, licence: str | None = "Licence Ouverte 2.0",
          description: str = DESCRIPTION) -> World:
    with db.unit_of_work() as s:
        ville = f.organisation(s, "Ville de Ligérac")
        mobility = f.department(s, ville, "Mobilités")
        sports = f.department(s, ville, "Sports")
        counters = f.dataset(s, ville, "Comptages vélo", department=mobility,
                             description=description, licence=licence, theme="Mobilité",
                             access_level=AccessLevel.INTERNAL, contains_personal_data=False)
        piscines = f.dataset(s, ville, "Entrées des piscines", department=sports,
                             description=DESCRIPTION, licence="ODbL")
        f.account(s, REFERENT, roles=[(ville, Role.DATA_REFERENT, mobility)])
        f.account(s, OTHER_REFERENT, roles=[(ville, Role.DATA_REFERENT, sports)])
        f.account(s, CDO, roles=[(ville, Role.CHIEF_DATA_OFFICER, None)])
        f.account(s, AGENT, roles=[(ville, Role.AGENT, mobility)])
        return World(ville.id, counters.slug, piscines.slug)


def csrf_of(html: str) -> str:
    match = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert match, "no CSRF token in the page"
    return match.group(1)


def login(client: TestClient, email: str) -> str:
    client.cookies.clear()
    token = csrf_of(client.get("/connexion").text)
    r = client.post("/connexion", data={"email": email, "password": f.PASSWORD,
                                        "csrf_token": token}, follow_redirects=False)
    assert r.status_code == 303, r.text
    return csrf_of(client.get("/admin/compte").text)
