"""The demo territory: deterministic, shaped like the Troyes audit, every role present, and
`patrimoine demo --if-empty` safe to run at every start."""

from __future__ import annotations

from collections import Counter
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from patrimoine.access import audit
from patrimoine.access.models import Account, AuditEvent, Role
from patrimoine.access.permissions import public_datasets
from patrimoine.access.principal import Principal
from patrimoine.core.db import Database
from patrimoine.core.errors import Conflict
from patrimoine.demo import territory
from patrimoine.demo.inventory import SCALE, SERVICE_COMMUN, fit_themes, largest_remainder
from patrimoine.demo.loader import is_empty, load_demo
from patrimoine.demo.published import PENDING, SPECS_PUBLISHED
from patrimoine.demo.vocabulary import METROPOLE_DIRECTIONS, THEMES
from patrimoine.inventory import queries
from patrimoine.inventory.models import (
    AccessLevel,
    Dataset,
    DatasetChange,
    Organisation,
    OrganisationKind,
)
from tests import factories as f
from tests.conftest import Cli, DemoTemplate

pytestmark = pytest.mark.heavy

PASSWORD = "demo-mot-de-passe"
AUDIT_ORGS = ("Métropole de Val-de-Loire", "Ville de Ligérac", "CCAS de Ligérac")

# The Troyes audit's tables (004_dd5f860e0b054be1.txt), in percent.
TROYES_SOURCE = {"Interne": 69.0, "Externe": 29.0, "Interne/Externe": 2.0}
TROYES_SHARING = {"Oui": 69.2, "Non": 24.5, "À définir": 6.3}
TROYES_CONFIDENTIALITY = {"Non": 69.0, "Oui": 20.0, "À définir": 11.0}


def _inventory(session: Session) -> list[tuple[Any, ...]]:
    """Everything an entry says, without its random uid and its load timestamps."""
    rows = session.scalars(select(Dataset).order_by(Dataset.slug))
    return [
        (d.slug, d.title, d.description, d.organisation.name,
         d.department.name if d.department else None, d.theme, d.source, d.producer,
         d.confidentiality, d.sharing, d.access_level, d.contains_personal_data,
         d.cost_per_year, d.update_frequency, d.licence, tuple(d.keywords),
         d.spatial_coverage, d.temporal_start, d.temporal_end, d.contact_name,
         d.contact_email, d.lifecycle_stage)
        for d in rows
    ]


def _organisations(session: Session) -> list[tuple[str, str, str | None]]:
    return [(o.name, o.kind.value, o.website)
            for o in session.scalars(select(Organisation).order_by(Organisation.id))]


def _percentages(session: Session, by: str) -> dict[str, float]:
    return {r.value: r.percent for r in queries.statistics(session, Principal.system("t"), by)}


def test_fit_keeps_direction_counts_and_approaches_theme_counts() -> None:
    assert largest_remainder([1, 1, 1], 10) == [4, 3, 3]
    assert largest_remainder([341, 207, 91, 14], 490) == [256, 155, 68, 11]
    fitted = fit_themes(list(METROPOLE_DIRECTIONS), 1.0)
    for direction, themes in zip(METROPOLE_DIRECTIONS, fitted, strict=True):
        assert set(themes) <= set(direction.themes)


def test_demo_territory(
    cli: Cli, db: Database, client: TestClient, demo_template: DemoTemplate, tmp_path: Path,
) -> None:
    """One load through the command (`make run`'s path), compared with one through the
    function (the suite's demo store): each load costs seconds, so the checks share them."""
    _check_cli_loads_once(cli, db)
    second = _check_a_second_load_is_identical(db, demo_template, tmp_path)
    _check_troyes_mix(db)
    _check_accounts(db, second)
    _check_login_and_visibility(db, client, second)


def _check_cli_loads_once(cli: Cli, db: Database) -> None:
    env = {territory.PASSWORD_ENV: PASSWORD}
    first = cli("demo", "--if-empty", env=env)
    assert first.returncode == 0, first.stderr
    assert "Territoire de démonstration chargé" in first.stdout
    assert "dpo@valdeloire.example" in first.stdout and PASSWORD in first.stdout
    with db.session() as session:
        count = session.scalar(select(func.count(Dataset.id)))

    again = cli("demo", "--if-empty", env=env)
    assert again.returncode == 0, again.stderr
    assert "existent déjà" in again.stdout and PASSWORD not in again.stdout

    refused = cli("demo", env=env)
    assert refused.returncode == 1
    assert "base vide" in refused.stderr and "Traceback" not in refused.stderr
    with db.session() as session:
        assert session.scalar(select(func.count(Dataset.id))) == count


def _check_a_second_load_is_identical(
    db: Database, demo: DemoTemplate, tmp_path: Path,
) -> list[tuple[str, str, str]]:
    # The suite's demo template was loaded by the function, with its data folder (the
    # published datasets too) and without PATRIMOINE_DEMO_PASSWORD.
    (tmp_path / "second").mkdir()
    other = Database(demo.copy(tmp_path / "second", tmp_path / "second" / "data"))
    credentials = demo.credentials
    try:
        with db.session() as a, other.session() as b:
            assert _inventory(a) == _inventory(b)
            assert _organisations(a) == _organisations(b)
    finally:
        other.dispose()
    assert [c[0] for c in credentials] == [a.email for a in territory.ACCOUNTS]
    # Without a fixed password, each account gets its own random one.
    passwords = [c[2] for c in credentials]
    assert len(set(passwords)) == len(passwords) and all(len(p) >= 12 for p in passwords)
    assert PASSWORD not in passwords
    return credentials


def _check_troyes_mix(db: Database) -> None:
    with db.session() as session:
        assert not is_empty(session)
        orgs = {o.name: o for o in session.scalars(select(Organisation))}
        kinds = Counter(o.kind for o in orgs.values())
        assert kinds == {OrganisationKind.METROPOLE: 1, OrganisationKind.VILLE: 1,
                         OrganisationKind.CCAS: 1, OrganisationKind.COMMUNE: 4}
        metropole = orgs["Métropole de Val-de-Loire"]
        assert orgs["Ville de Ligérac"].parent_id == metropole.id
        assert orgs["CCAS de Ligérac"].parent_id == orgs["Ville de Ligérac"].id
        assert all(o.departments for o in orgs.values())

        # Size and mix of the inventory (the published demo datasets come on top).
        published = {spec.slug for spec in SPECS_PUBLISHED} | {PENDING.slug}
        datasets = [d for d in session.scalars(select(Dataset)) if d.slug not in published]
        assert len(datasets) + len(published) == session.scalar(select(func.count(Dataset.id)))
        assert 400 <= len(datasets) <= 650
        audit_part = [d for d in datasets if d.organisation.name in AUDIT_ORGS]
        assert abs(len(audit_part) - 653 * SCALE) <= 1
        by_org = Counter(d.organisation.name for d in audit_part)
        assert abs(by_org["Métropole de Val-de-Loire"] - (341 + 91) * SCALE) <= 1
        assert abs(by_org["Ville de Ligérac"] - 207 * SCALE) <= 1
        assert abs(by_org["CCAS de Ligérac"] - 14 * SCALE) <= 1
        shared = [d for d in audit_part if SERVICE_COMMUN in d.keywords]
        assert abs(len(shared) - 91 * SCALE) <= 1
        assert {d.organisation.name for d in shared} == {"Métropole de Val-de-Loire"}
        by_direction = Counter(d.department.name for d in audit_part if d.department)
        assert abs(by_direction["Développement durable - Climat - Énergie"] - 150 * SCALE) <= 1
        assert abs(by_direction["Systèmes d'information"] - 74 * SCALE) <= 1
        assert all(n >= 4 for name, n in Counter(d.organisation.name for d in datasets).items()
                   if name not in AUDIT_ORGS)

        themes = Counter(d.theme for d in audit_part)
        for name, theme in THEMES.items():
            assert abs(themes[name] / len(audit_part) - theme.troyes_count / 653) < 0.015, name

        for by, troyes in (("source", TROYES_SOURCE), ("sharing", TROYES_SHARING),
                           ("confidentiality", TROYES_CONFIDENTIALITY)):
            ours = _percentages(session, by)
            assert set(ours) == set(troyes), by
            for value, percent in troyes.items():
                assert abs(ours[value] - percent) <= 2.0, (by, value, ours)

        # The other fields are filled in realistic, consistent ways.
        assert len({d.title for d in datasets}) > 0.95 * len(datasets)
        assert all(d.title[0].isupper() and "!" not in d.title for d in datasets)
        open_ = [d for d in datasets if d.access_level == AccessLevel.OPEN]
        assert 0.15 < len(open_) / len(datasets) < 0.5
        assert all(d.licence in ("etalab-2.0", "ODbL-1.0") for d in open_)
        assert not any(d.contains_personal_data for d in open_)
        assert all(d.access_level == AccessLevel.RESTRICTED
                   for d in datasets if d.confidentiality.value == "yes")
        assert all(d.producer for d in datasets if d.source and d.source.value == "external")
        assert 0.3 < sum(bool(d.description) for d in datasets) / len(datasets) < 0.8
        assert 0.5 < sum(bool(d.keywords) for d in datasets) / len(datasets) < 0.9
        assert sum(bool(d.contains_personal_data) for d in datasets) > 50
        assert len({d.lifecycle_stage for d in datasets}) == 5
        assert len({d.update_frequency for d in datasets}) >= 7
        assert sum(d.cost_per_year is not None and d.cost_per_year > 0 for d in datasets) > 50

        # History and audit log, written by the system principal.
        changes = session.scalar(select(func.count(DatasetChange.id))
                                 .where(DatasetChange.action == "created"))
        assert changes == len(datasets) + len(published)
        # ...except the publication a referent prepared and asked for (the pending request).
        assert set(session.scalars(select(DatasetChange.action)
                                   .where(DatasetChange.actor_id.is_not(None)))) == {
            "version_published", "publication_requested"}
        assert session.scalar(select(func.count(AuditEvent.id))
                              .where(AuditEvent.action == "dataset.created")) == (
            len(datasets) + len(published))
        assert audit.verify(session).ok


def _check_accounts(db: Database, credentials: list[tuple[str, str, str]]) -> None:
    """Every role, a mutualised DPO, referents of one department each; credentials given in
    the command's table work on the store it loaded."""
    with db.session() as session:
        orgs = list(session.scalars(select(Organisation)))
        assert all(email.endswith(".example") for email, _, _ in credentials)
        accounts = list(session.scalars(select(Account)))
        assert {a.email for a in accounts} == {c[0] for c in credentials}
        assert any(a.is_superadmin for a in accounts)
        roles = {m.role for a in accounts for m in a.memberships}
        assert roles == set(Role)
        dpo = [a for a in accounts if any(m.role == Role.DPO for m in a.memberships)]
        assert len(dpo) == 1
        assert {m.organisation_id for m in dpo[0].memberships} == {o.id for o in orgs}
        referents = [m for a in accounts for m in a.memberships if m.role == Role.DATA_REFERENT]
        assert referents and all(m.department_id is not None for m in referents)
        labels = dict((c[0], c[1]) for c in credentials)
        assert "mutualisé" in labels[dpo[0].email]
        assert all(label for label in labels.values())


def _check_login_and_visibility(db: Database, client: TestClient,
                                credentials: list[tuple[str, str, str]]) -> None:
    # A demo account logs in through the form, then the API answers for it.
    referent = next(e for e, label, _ in credentials if label.startswith("Référent données"))
    page = client.get("/connexion")
    token = page.text.split('name="csrf_token" value="', 1)[1].split('"', 1)[0]
    r = client.post("/connexion", data={"email": referent, "password": PASSWORD,
                                        "csrf_token": token, "next": "/admin"},
                    follow_redirects=False)
    assert r.status_code == 303, r.text
    assert client.get("/api/v1/me").json()["email"] == referent
    client.cookies.clear()
    # Anonymous visitors see the public entries only: open and published.
    listing = client.get("/api/v1/datasets").json()
    with db.session() as session:
        public = session.scalar(select(func.count(Dataset.id)).where(public_datasets()))
    assert listing["total"] == public


def test_load_refuses_a_store_that_has_organisations(db: Database) -> None:
    with db.unit_of_work() as session:
        assert is_empty(session)
        f.organisation(session)
    with db.unit_of_work() as session, pytest.raises(Conflict, match="base vide"):
        load_demo(session, password=PASSWORD)
