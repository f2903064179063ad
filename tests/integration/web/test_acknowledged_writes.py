"""A write is saved before it is acknowledged: the request's unit of work commits before the
response is sent, and a commit that fails is answered as an error, never a 200.

The real server is killed (SIGKILL, no shutdown) right after each acknowledged write kind
(API JSON write, back-office form post, upload of a new version, grant, GDPR register entry
through the API), restarted for the next, and each change is found saved with its audit
event; a read right after a 200 sees the new value."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import httpx2 as httpx
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import event, func, select
from sqlalchemy.exc import IntegrityError, OperationalError
from sqlalchemy.orm import Session

from patrimoine.access import audit
from patrimoine.access.models import AuditEvent
from patrimoine.bootstrap import Services
from patrimoine.core.clock import now
from patrimoine.core.db import Database
from patrimoine.core.settings import Settings
from patrimoine.datastore.models import DatasetVersion
from patrimoine.grants.models import DatasetGrant
from patrimoine.inventory.models import Dataset, Organisation
from patrimoine.protection.register.models import Breach, RightsRequest
from patrimoine.web.app import create_app
from tests import factories as f
from tests.factories import GRANTS_SLUG, PASSWORD, csrf_of, grants_world
from tests.support import server

pytestmark = pytest.mark.heavy

DATASET_API = f"/api/v1/datasets/{GRANTS_SLUG}"


@pytest.fixture
def world(db: Database, settings: Settings) -> f.GrantsWorld:
    return grants_world(db, settings)


def _bearer(world: f.GrantsWorld, email: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {world.tokens[email]}"}


def _dataset_body(db: Database, description: str) -> dict[str, Any]:
    with db.session() as s:
        entry = s.scalars(select(Dataset).where(Dataset.slug == GRANTS_SLUG)).one()
        return {"title": entry.title, "organisation_id": entry.organisation_id,
                "access_level": entry.access_level, "description": description}


def _org_id(db: Database) -> int:
    with db.session() as s:
        return s.scalars(select(Organisation.id).where(Organisation.slug == "ville-de-test")
                         ).one()


def _last_event(db: Database) -> int:
    with db.session() as s:
        return int(s.scalar(select(func.max(AuditEvent.id))) or 0)


def _login(http: httpx.Client, email: str) -> None:
    token = csrf_of(http.get("/connexion").text)
    r = http.post("/connexion", data={"email": email, "password": PASSWORD,
                                      "csrf_token": token})
    assert r.status_code == 303, r.text


@pytest.fixture
def serving(cli_env: dict[str, str], tmp_path: Path) -> Iterator[Callable[[], httpx.Client]]:
    """Start the real server; each call kills the previous one with SIGKILL first."""
    running: list[server.Server] = []
    clients: list[httpx.Client] = []

    def restart() -> httpx.Client:
        if running:
            server.kill(running.pop())
        running.append(server.start({**cli_env, "PATRIMOINE_WARM_LAYOUTS": "0"},
                                    tmp_path / f"serve-{len(clients)}.log"))
        clients.append(httpx.Client(base_url=running[-1].url, timeout=60))
        return clients[-1]

    yield restart
    for client in clients:
        client.close()
    for running_server in running:
        server.kill(running_server)


def test_each_acknowledged_write_survives_a_kill_right_after_it(
        db: Database, world: f.GrantsWorld, serving: Callable[[], httpx.Client],
        tmp_path: Path) -> None:
    cdo, dpo = _bearer(world, "cdo@ville.fr"), _bearer(world, "dpo@ville.fr")
    org_id = _org_id(db)
    csv = f.write(tmp_path, "badges.csv", "badge;rue\n" + "".join(
        f"B{i};Rue {i}\n" for i in range(30)))

    def api_json(http: httpx.Client) -> httpx.Response:
        return http.put(DATASET_API, headers=cdo,
                        json=_dataset_body(db, "Décrit juste avant l'arrêt brutal."))

    def form_post(http: httpx.Client) -> httpx.Response:
        _login(http, "dpo@ville.fr")
        token = csrf_of(http.get("/admin/protection/violations/nouvelle").text)
        return http.post("/admin/protection/violations/nouvelle", data={
            "csrf_token": token, "organisation": "ville-de-test",
            "title": "Clé USB perdue", "aware_at": "2026-03-02T09:00",
            "natures": ["confidentiality"], "risk": "unlikely",
            "no_risk_reason": "Clé chiffrée."})

    def upload(http: httpx.Client) -> httpx.Response:
        with csv.open("rb") as fh:
            return http.post(f"{DATASET_API}/versions", headers=cdo,
                             files={"file": ("badges.csv", fh, "text/csv")})

    def grant(http: httpx.Client) -> httpx.Response:
        return http.post(f"{DATASET_API}/grants", headers=cdo, json={
            "grantee_kind": "account", "grantee": "alice@autre.fr",
            "purpose": "Évaluation du dispositif",
            "valid_until": (now() + timedelta(days=30)).isoformat()})

    def register_entry(http: httpx.Client) -> httpx.Response:
        return http.post("/api/v1/protection/requests", headers=dpo, json={
            "organisation_id": org_id, "kind": "access", "requester": "Jeanne Martin",
            "received_on": date.today().isoformat()})

    def saved(s: Session, what: str) -> bool:
        if what == "api_json":
            return s.scalar(select(Dataset.description).where(Dataset.slug == GRANTS_SLUG)
                            ) == "Décrit juste avant l'arrêt brutal."
        if what == "form_post":
            return s.scalar(select(func.count()).select_from(Breach)
                            .where(Breach.title == "Clé USB perdue")) == 1
        if what == "upload":
            return s.scalar(select(func.max(DatasetVersion.number))) == 2
        if what == "grant":
            return s.scalar(select(func.count()).select_from(DatasetGrant)) == 1
        return s.scalar(select(func.count()).select_from(RightsRequest)) == 1

    writes = {"api_json": api_json, "form_post": form_post, "upload": upload,
              "grant": grant, "register_entry": register_entry}
    lost = []
    for what, write in writes.items():
        http = serving()
        before = _last_event(db)
        r = write(http)
        assert r.status_code in (200, 201, 303), (what, r.status_code, r.text[:500])
        serving()  # kill -9 at once, then start again on the same store
        with db.session() as s:
            if not saved(s, what) or _last_event(db) <= before:
                lost.append(what)
    assert lost == [], f"acknowledged but lost after kill -9: {lost}"
    with db.session() as s:
        assert audit.verify(s).ok


def test_a_read_right_after_a_write_sees_it(db: Database, world: f.GrantsWorld,
                                            serving: Callable[[], httpx.Client]) -> None:
    http = serving()
    cdo = _bearer(world, "cdo@ville.fr")
    stale = []
    for i in range(20):
        text = f"Description n° {i}"
        assert http.put(DATASET_API, headers=cdo,
                        json=_dataset_body(db, text)).status_code == 200
        if http.get(DATASET_API, headers=cdo).json()["description"] != text:
            stale.append(i)
    assert stale == []


@pytest.mark.parametrize(("failure", "status", "message"), [
    (OperationalError("COMMIT", {}, Exception("disk I/O error")), 500, "erreur interne"),
    (IntegrityError("COMMIT", {}, Exception("UNIQUE constraint failed")), 409,
     "rien n'a été enregistré"),
])
def test_a_failed_commit_is_answered_as_an_error_not_a_200(
        services: Services, world: f.GrantsWorld, failure: Exception, status: int,
        message: str) -> None:
    """The database refusing the commit (disk full, I/O error, a conflict found at commit):
    the client is told, in French, and nothing is saved."""

    def refuse(_session: Session) -> None:
        raise failure

    app = create_app(services=services)
    event.listen(Session, "before_commit", refuse)
    try:
        with TestClient(app, raise_server_exceptions=False) as client:
            r = client.put(DATASET_API, headers=_bearer(world, "cdo@ville.fr"),
                           json=_dataset_body(services.db, "Jamais enregistré."))
    finally:
        event.remove(Session, "before_commit", refuse)
    assert r.status_code == status, r.text
    assert message in r.json()["error"]
    with services.db.session() as s:
        assert s.scalar(select(Dataset.description).where(Dataset.slug == GRANTS_SLUG)
                        ) != "Jamais enregistré."
