"""Sessions end on the server (sign-out, password change), logins are throttled, and the audit
log is read only where the reader's organisations are concerned."""

from __future__ import annotations

from fastapi.testclient import TestClient
from sqlalchemy import select, update

from patrimoine.access.models import AuditEvent, Role
from patrimoine.bootstrap import Services
from patrimoine.core.db import Database
from patrimoine.web.app import create_app
from tests import factories as f
from tests.conftest import Cli

EMAIL = "agd@ville.fr"


def _account(db: Database) -> None:
    with db.unit_of_work() as s:
        f.account(s, EMAIL, roles=[(f.organisation(s), Role.CHIEF_DATA_OFFICER, None)])


def _try(client: TestClient, email: str, password: str) -> int:
    token = f.csrf_of(client.get("/connexion").text)
    return client.post("/connexion", data={"email": email, "password": password,
                                           "csrf_token": token}, follow_redirects=False
                       ).status_code


def test_a_cookie_replayed_after_sign_out_is_anonymous(client: TestClient, db: Database) -> None:
    _account(db)
    csrf = f.login(client, EMAIL)
    kept = dict(client.cookies)
    assert client.get("/api/v1/me").status_code == 200
    r = client.post("/deconnexion", data={"csrf_token": csrf}, follow_redirects=False)
    assert r.status_code == 303
    client.cookies.clear()
    client.cookies.update(kept)  # the cookie as it was before signing out
    assert client.get("/api/v1/me").status_code == 401
    assert client.get("/admin", follow_redirects=False).status_code in (303, 401)


def test_a_password_change_ends_the_other_sessions_only(services: Services, db: Database) -> None:
    _account(db)
    app = create_app(services=services)
    with TestClient(app) as here, TestClient(app) as elsewhere:
        csrf = f.login(here, EMAIL)
        f.login(elsewhere, EMAIL)
        # A token made before the change.
        r = here.post("/api/v1/tokens", json={"name": "script"}, headers={"X-CSRF-Token": csrf})
        secret = r.json()["token"]
        wrong = here.post("/admin/compte/mot-de-passe", data={
            "csrf_token": csrf, "current_password": "pas-le-bon-mot", "new_password":
            "un-nouveau-secret", "new_password_again": "un-nouveau-secret"})
        assert wrong.status_code == 422 and "Le mot de passe actuel est incorrect." in wrong.text
        r = here.post("/admin/compte/mot-de-passe", data={
            "csrf_token": csrf, "current_password": f.PASSWORD, "new_password":
            "un-nouveau-secret", "new_password_again": "un-nouveau-secret"},
            follow_redirects=False)
        assert r.status_code == 303 and r.headers["location"] == "/admin/compte#jetons"
        page = here.get("/admin/compte").text
        assert "Vos autres sessions (1) sont fermées" in page
        assert "API (1) restent valides" in page
        assert here.get("/api/v1/me").status_code == 200
        assert elsewhere.get("/api/v1/me").status_code == 401
        # The token stays valid, as the message says.
        token_client = TestClient(app)
        assert token_client.get("/api/v1/me", headers={"Authorization": f"Bearer {secret}"}
                                ).status_code == 200
    assert _try(TestClient(app), EMAIL, "un-nouveau-secret") == 303


def test_set_password_command_ends_every_session(client: TestClient, db: Database,
                                                 cli: Cli) -> None:
    _account(db)
    f.login(client, EMAIL)
    assert client.get("/api/v1/me").status_code == 200
    result = cli("user", "set-password", EMAIL,
                 env={"PATRIMOINE_NEW_PASSWORD": "un-autre-secret-long"})
    assert result.returncode == 0 and "Sessions web fermées : 1." in result.stdout, result
    assert client.get("/api/v1/me").status_code == 401


def test_logins_are_throttled_per_account_without_telling_it_exists(
        client: TestClient, db: Database, services: Services) -> None:
    _account(db)
    limit = services.settings.login_failures_per_account
    answers = {email: [_try(client, email, "mauvais-mot") for _ in range(limit + 1)]
               for email in (EMAIL, "personne@ville.fr")}
    # The same answers whether the account exists or not: refused, then locked.
    assert answers[EMAIL] == answers["personne@ville.fr"] == [401] * (limit - 1) + [429, 429]
    token = f.csrf_of(client.get("/connexion").text)
    locked = client.post("/connexion", data={"email": EMAIL, "password": f.PASSWORD,
                                             "csrf_token": token})
    assert locked.status_code == 429  # even the right password, while locked
    assert "Trop de tentatives de connexion ont échoué" in locked.text
    assert locked.headers["retry-after"] == str(services.settings.login_failure_window_seconds)
    with db.session() as s:
        locks = s.scalars(select(AuditEvent.target)
                          .where(AuditEvent.action == "account.login_locked")).all()
    assert sorted(locks) == [f"login:{EMAIL}", "login:personne@ville.fr"]


def test_logins_are_throttled_per_address(services: Services, db: Database) -> None:
    _account(db)
    services.settings.login_failures_per_address = 4
    client = TestClient(create_app(services=services))
    codes = [_try(client, f"inconnu{i}@ville.fr", "mauvais-mot") for i in range(5)]
    assert codes == [401, 401, 401, 429, 429]
    assert _try(client, EMAIL, f.PASSWORD) == 429  # from this address, for a while
    with db.session() as s:
        assert s.scalar(select(AuditEvent.target).where(
            AuditEvent.action == "account.login_locked")) == "address:testclient"


def test_a_success_forgets_the_account_failures(client: TestClient, db: Database,
                                                services: Services) -> None:
    _account(db)
    for _ in range(services.settings.login_failures_per_account - 1):
        assert _try(client, EMAIL, "mauvais-mot") == 401
    assert _try(client, EMAIL, f.PASSWORD) == 303
    client.cookies.clear()
    assert _try(client, EMAIL, "mauvais-mot") == 401  # counting starts over


def test_audit_log_is_scoped_to_the_reader_organisations(services: Services,
                                                         db: Database) -> None:
    with db.unit_of_work() as s:
        ville, autre = f.organisation(s, "Ville"), f.organisation(s, "Autre Ville")
        f.dataset(s, ville, "Budget de la ville")
        f.dataset(s, autre, "Dossiers de l'autre ville")
        f.account(s, "admin@ville.fr", roles=[(ville, Role.ADMINISTRATOR, None)])
        f.account(s, "dpo@autre.fr", roles=[(autre, Role.DPO, None)])
        f.account(s, "root@instance.fr", superadmin=True)
        autre_id = autre.id
    app = create_app(services=services)
    seen = {}
    for email in ("admin@ville.fr", "dpo@autre.fr", "root@instance.fr"):
        client = TestClient(app)
        f.login(client, email)
        events = client.get("/api/v1/audit", params={"limit": 1000}).json()["events"]
        page = client.get("/admin/journal").text
        seen[email] = ({e["target"].split(":")[0] + ":" + str(e["details"].get("slug"))
                        for e in events}, page)
    assert {"dataset:budget-de-la-ville"} == {t for t in seen["admin@ville.fr"][0]
                                              if t.startswith("dataset")}
    assert "dossiers-de-l-autre-ville" not in seen["admin@ville.fr"][1]
    assert {t for t in seen["dpo@autre.fr"][0] if t.startswith("dataset")} == {
        "dataset:dossiers-de-l-autre-ville"}
    assert "budget-de-la-ville" not in seen["dpo@autre.fr"][1]
    everything = seen["root@instance.fr"][0]
    assert {"dataset:budget-de-la-ville", "dataset:dossiers-de-l-autre-ville"} <= everything
    assert any(t.startswith("account:") for t in everything)  # the logins: instance only
    assert not any(t.startswith("account:") for t in seen["admin@ville.fr"][0])

    # The check covers the whole chain, but tells nothing of others' entries.
    admin = TestClient(app)
    f.login(admin, "admin@ville.fr")
    report = admin.get("/api/v1/audit/verify").json()
    assert report["ok"] and report["anchor"] is None
    with db.unit_of_work() as s:
        theirs = s.scalar(select(AuditEvent.id).where(AuditEvent.organisation_id == autre_id))
        s.execute(update(AuditEvent).where(AuditEvent.id == theirs)
                  .values(target="dataset:falsifie"))
    report = admin.get("/api/v1/audit/verify").json()
    assert not report["ok"] and report["broken_at"] is None
    assert "ne concerne pas vos organisations" in report["reason"]
