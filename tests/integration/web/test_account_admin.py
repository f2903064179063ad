"""Administration on the web: invitations and resets delivered by a real SMTP server
(aiosmtpd), one-time links, accounts and their roles, organisations, one's own sessions."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select, update

from patrimoine.access.models import Account, AccountLink, AuditEvent, Role
from patrimoine.core.clock import now
from patrimoine.core.db import Database
from patrimoine.core.settings import Settings
from patrimoine.inventory.models import Department, Organisation
from tests import factories as f
from tests.support.postgres import free_port
from tests.support.smtp import Inbox, smtp_server

ADMIN = "admin@ville.fr"


@pytest.fixture
def inbox() -> Iterator[Inbox]:
    with smtp_server() as box:
        yield box


@pytest.fixture
def settings(tmp_path: Path, database_url: str, inbox: Inbox) -> Settings:
    return Settings(data_dir=tmp_path / "data", database_url=database_url,
                    secret_key="test-secret-key", warm_layouts=False,
                    public_url="http://testserver", smtp_host="127.0.0.1",
                    smtp_port=inbox.port, smtp_tls="none",
                    smtp_sender="Patrimoine <donnees@ville.test>")


def _world(db: Database) -> tuple[int, int]:
    with db.unit_of_work() as s:
        org = f.organisation(s, "Ville de Troyes")
        dep = f.department(s, org, "Sports")
        f.account(s, ADMIN, roles=[(org, Role.ADMINISTRATOR, None)])
        return org.id, dep.id


def _actions(db: Database) -> list[str]:
    with db.session() as s:
        return list(s.scalars(select(AuditEvent.action).order_by(AuditEvent.id)))


def _login(client: TestClient, email: str, password: str) -> int:
    client.cookies.clear()
    token = f.csrf_of(client.get("/connexion").text)
    return client.post("/connexion", data={"email": email, "password": password,
                                           "csrf_token": token},
                       follow_redirects=False).status_code


def test_an_invitation_is_mailed_and_its_link_sets_the_password_once(
        client: TestClient, db: Database, inbox: Inbox) -> None:
    org_id, dep_id = _world(db)
    csrf = f.login(client, ADMIN)
    r = client.post("/admin/comptes/inviter", data={
        "csrf_token": csrf, "full_name": "Rémi Référent", "email": "Remi@Ville.fr",
        "organisation_id": str(org_id), "role": "data_referent",
        "department_id": str(dep_id)}, follow_redirects=False)
    assert r.status_code == 303, r.text
    # The same address again: refused, the form kept.
    again = client.post("/admin/comptes/inviter", data={
        "csrf_token": csrf, "full_name": "Rémi Référent", "email": "remi@ville.fr",
        "organisation_id": str(org_id), "role": "data_referent", "department_id": ""})
    assert again.status_code == 409 and "Un compte existe déjà" in again.text
    assert 'value="Rémi Référent"' in again.text
    [message] = inbox.to("remi@ville.fr")
    assert message["Subject"] == "Votre compte Patrimoine"
    assert message["From"] == "Patrimoine <donnees@ville.test>"
    body = message.get_body(("plain",))
    assert body is not None and "admin vous a créé un compte" in body.get_content()
    link = Inbox.link(message)
    secret = link.rsplit("/", 1)[1]
    with db.session() as s:  # only the hash is stored
        stored = s.scalars(select(AccountLink.secret_hash)).all()
        assert stored and secret not in stored
        account = s.scalar(select(Account).where(Account.email == "remi@ville.fr"))
        assert account is not None
        assert [(m.role, m.department_id) for m in account.memberships] == \
            [(Role.DATA_REFERENT, dep_id)]
    client.cookies.clear()
    path = link.replace("http://testserver", "")
    page = client.get(path)
    assert page.status_code == 200 and "Bienvenue, Rémi Référent" in page.text
    assert page.headers["cache-control"] == "no-store"
    token = f.csrf_of(page.text)
    short = client.post(path, data={"csrf_token": token, "password": "court",
                                    "password_again": "court"})
    assert short.status_code == 422 and "au moins 10 caractères" in short.text
    r = client.post(path, data={"csrf_token": token, "password": "un-secret-choisi",
                                "password_again": "un-secret-choisi"}, follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == "/connexion"
    assert _login(client, "remi@ville.fr", "un-secret-choisi") == 303
    # Used once: the same link no longer works.
    again = client.get(path)
    assert again.status_code == 410 and "plus valable" in again.text
    assert {"account.invite", "account.link_issued", "account.invitation_accepted"} \
        <= set(_actions(db))


def test_a_reset_is_asked_without_telling_whether_the_account_exists(
        client: TestClient, db: Database, inbox: Inbox) -> None:
    _world(db)
    answers = []
    for address in (ADMIN, "personne@ville.fr"):
        token = f.csrf_of(client.get("/mot-de-passe-oublie").text)
        r = client.post("/mot-de-passe-oublie", data={"csrf_token": token, "email": address})
        assert r.status_code == 200
        answers.append(r.text.replace(address, ""))
    assert answers[0] == answers[1]
    assert "Si cette adresse existe, un message a été envoyé." in answers[0]
    assert inbox.to("personne@ville.fr") == []
    [message] = inbox.to(ADMIN)
    path = Inbox.link(message).replace("http://testserver", "")
    # A second request ends the first link: only the newest works.
    token = f.csrf_of(client.get("/mot-de-passe-oublie").text)
    client.post("/mot-de-passe-oublie", data={"csrf_token": token, "email": ADMIN})
    assert client.get(path).status_code == 410
    newest = Inbox.link(inbox.to(ADMIN)[-1]).replace("http://testserver", "")
    token = f.csrf_of(client.get(newest).text)
    r = client.post(newest, data={"csrf_token": token, "password": "nouveau-secret-1",
                                  "password_again": "nouveau-secret-1"}, follow_redirects=False)
    assert r.status_code == 303
    assert _login(client, ADMIN, f.PASSWORD) == 401
    assert _login(client, ADMIN, "nouveau-secret-1") == 303


def test_reset_requests_are_limited_like_logins(client: TestClient, db: Database,
                                                 inbox: Inbox, settings: Settings) -> None:
    _world(db)
    statuses = []
    for _ in range(settings.login_failures_per_account + 1):
        token = f.csrf_of(client.get("/mot-de-passe-oublie").text)
        statuses.append(client.post("/mot-de-passe-oublie",
                                    data={"csrf_token": token, "email": ADMIN}).status_code)
    assert statuses[:-1] == [200] * settings.login_failures_per_account
    assert statuses[-1] == 429
    assert len(inbox.to(ADMIN)) == settings.login_failures_per_account


def test_an_expired_link_is_refused(client: TestClient, db: Database, inbox: Inbox) -> None:
    _world(db)
    token = f.csrf_of(client.get("/mot-de-passe-oublie").text)
    client.post("/mot-de-passe-oublie", data={"csrf_token": token, "email": ADMIN})
    path = Inbox.link(inbox.to(ADMIN)[0]).replace("http://testserver", "")
    with db.unit_of_work() as s:
        s.execute(update(AccountLink).values(expires_at=now() - timedelta(seconds=1)))
    assert client.get(path).status_code == 410


def test_without_smtp_the_administrator_gets_a_link_to_hand_over(
        client: TestClient, db: Database, inbox: Inbox) -> None:
    org_id, _ = _world(db)
    settings = client.app.state.services.settings  # type: ignore[attr-defined]
    settings.smtp_host = ""
    csrf = f.login(client, ADMIN)
    r = client.post("/admin/comptes/inviter", data={
        "csrf_token": csrf, "full_name": "Dora DPO", "email": "dora@ville.fr",
        "organisation_id": str(org_id), "role": "dpo", "department_id": ""})
    assert r.status_code == 200 and "transmettez ce lien vous-même" in r.text
    assert r.headers["cache-control"] == "no-store"
    assert inbox.messages == []
    found = re.search(r'value="(http://testserver/compte/lien/[^"]+)"', r.text)
    assert found is not None
    link = found.group(1)
    client.cookies.clear()
    page = client.get(link.replace("http://testserver", ""))
    assert page.status_code == 200 and "dora@ville.fr" in page.text
    forgotten = client.get("/mot-de-passe-oublie").text
    assert "Demandez à un administrateur" in forgotten
    # Nothing is said to be sent when nothing can be.
    r = client.post("/mot-de-passe-oublie", data={"csrf_token": f.csrf_of(page.text),
                                                  "email": ADMIN})
    assert r.status_code == 503 and "un message a été envoyé" not in r.text
    assert inbox.messages == []


def test_roles_deactivation_and_the_limits_of_an_organisation_administrator(
        client: TestClient, db: Database, inbox: Inbox) -> None:
    org_id, dep_id = _world(db)
    with db.unit_of_work() as s:
        other = f.organisation(s, "Troyes Champagne Métropole")
        agent = f.account(s, "agent@ville.fr",
                          roles=[(s.get(Organisation, org_id), Role.AGENT, None)])
        both = f.account(s, "deux@ville.fr", roles=[
            (s.get(Organisation, org_id), Role.AGENT, None), (other, Role.AGENT, None)])
        agent_id, both_id, other_id = agent.id, both.id, other.id
    csrf = f.login(client, ADMIN)
    listed = client.get("/admin/comptes").text
    assert "agent@ville.fr" in listed and "deux@ville.fr" in listed
    # An account holding a role elsewhere is beyond this organisation's administrator.
    assert client.get(f"/admin/comptes/{both_id}").status_code == 404
    r = client.post(f"/admin/comptes/{agent_id}/roles", data={
        "csrf_token": csrf, "organisation_id": str(other_id), "role": "agent"})
    assert r.status_code == 403
    r = client.post(f"/admin/comptes/{agent_id}/roles", data={
        "csrf_token": csrf, "organisation_id": str(org_id), "role": "data_referent",
        "department_id": str(dep_id)}, follow_redirects=False)
    assert r.status_code == 303
    r = client.post(f"/admin/comptes/{agent_id}/activation",
                    data={"csrf_token": csrf, "active": "0"}, follow_redirects=False)
    assert r.status_code == 303
    assert _login(client, "agent@ville.fr", f.PASSWORD) == 401
    with db.session() as s:
        account = s.get(Account, agent_id)
        assert account is not None and not account.is_active  # kept, never deleted
        assert {m.role for m in account.memberships} == {Role.AGENT, Role.DATA_REFERENT}
    assert {"account.role_granted", "account.deactivate"} <= set(_actions(db))


def test_organisations_are_edited_and_their_departments_added_and_renamed(
        client: TestClient, db: Database, inbox: Inbox) -> None:
    org_id, dep_id = _world(db)
    with db.unit_of_work() as s:
        f.account(s, "root@ville.fr", superadmin=True)
    csrf = f.login(client, ADMIN)
    assert client.get("/admin/organisations/nouvelle").status_code == 403
    r = client.post("/admin/organisations/ville-de-troyes", data={
        "csrf_token": csrf, "name": "Ville de Troyes", "kind": "ville", "siren": "123",
        "website": ""})
    assert r.status_code == 422 and "9 chiffres" in r.text
    r = client.post("/admin/organisations/ville-de-troyes", data={
        "csrf_token": csrf, "name": "Ville de Troyes", "kind": "ville",
        "siren": "211 003 876", "website": "https://www.ville-troyes.fr"},
        follow_redirects=False)
    assert r.status_code == 303
    client.post("/admin/organisations/ville-de-troyes/directions",
                data={"csrf_token": csrf, "name": "Culture"})
    client.post(f"/admin/organisations/ville-de-troyes/directions/{dep_id}",
                data={"csrf_token": csrf, "name": "Sports et loisirs"})
    csrf = f.login(client, "root@ville.fr")
    r = client.post("/admin/organisations/nouvelle", data={
        "csrf_token": csrf, "name": "Troyes Champagne Métropole", "kind": "metropole",
        "parent_id": "", "siren": "", "website": ""}, follow_redirects=False)
    assert r.status_code == 303
    with db.session() as s:
        metro = s.scalar(select(Organisation).where(Organisation.kind == "metropole"))
        assert metro is not None
        metro_id = metro.id
    r = client.post("/admin/organisations/ville-de-troyes", data={
        "csrf_token": csrf, "name": "Ville de Troyes", "kind": "ville",
        "parent_id": str(metro_id), "siren": "211003876", "website": ""},
        follow_redirects=False)
    assert r.status_code == 303
    r = client.post(f"/admin/organisations/{metro.slug}", data={
        "csrf_token": csrf, "name": metro.name, "kind": "metropole",
        "parent_id": str(org_id), "siren": "", "website": ""})
    assert r.status_code == 422 and "elle-même" in r.text
    with db.session() as s:
        org = s.get(Organisation, org_id)
        assert org is not None
        assert (org.siren, org.parent_id) == ("211003876", metro_id)
        assert sorted(d.name for d in s.scalars(select(Department))) == \
            ["Culture", "Sports et loisirs"]
    assert {"organisation.update", "department.create", "department.rename",
            "organisation.create"} <= set(_actions(db))


def test_ones_own_sessions_are_listed_and_one_is_ended(
        client: TestClient, db: Database, inbox: Inbox) -> None:
    _world(db)
    elsewhere = TestClient(client.app)
    f.login(elsewhere, ADMIN)
    csrf = f.login(client, ADMIN)
    page = client.get("/admin/compte").text
    assert page.count("/fermer") == 1 and "Cette session" in page
    found = re.search(r"/admin/compte/sessions/(\d+)/fermer", page)
    assert found is not None
    session_id = found.group(1)
    r = client.post(f"/admin/compte/sessions/{session_id}/fermer", data={"csrf_token": csrf},
                    follow_redirects=False)
    assert r.status_code == 303
    assert elsewhere.get("/api/v1/me").status_code == 401
    assert client.get("/api/v1/me").status_code == 200


def test_an_invitation_that_cannot_be_mailed_creates_nothing_and_keeps_the_form(
        client: TestClient, db: Database, inbox: Inbox) -> None:
    org_id, _ = _world(db)
    settings = client.app.state.services.settings  # type: ignore[attr-defined]
    settings.smtp_port = free_port()  # nothing listens there
    csrf = f.login(client, ADMIN)
    r = client.post("/admin/comptes/inviter", data={
        "csrf_token": csrf, "full_name": "Dora DPO", "email": "dora@ville.fr",
        "organisation_id": str(org_id), "role": "dpo", "department_id": ""})
    assert r.status_code == 422 and "n&#39;a pas pu être envoyé" in r.text
    assert 'value="dora@ville.fr"' in r.text
    with db.session() as s:
        assert s.scalar(select(Account).where(Account.email == "dora@ville.fr")) is None
    assert "account.invite" not in _actions(db)
