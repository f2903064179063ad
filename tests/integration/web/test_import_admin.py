"""The inventory import from the back-office, as the chief data officer meets it: unknown
organisations said once and grouped, a request to the administrators (recorded, mailed
through a real SMTP server), the columns' mapping shown and changed, and the confirmation
followed while it runs in the background."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from patrimoine.access.models import AuditEvent, Role
from patrimoine.core.db import Database
from patrimoine.core.settings import Settings
from patrimoine.inventory.models import Dataset
from tests import factories as f
from tests.support.import_jobs import finish_import
from tests.support.smtp import Inbox, smtp_server
from tests.support.spreadsheets import ORGANISATIONS, audit_bytes

CDO = "agd@troyes.fr"
ROOT = "root@troyes.fr"


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


@pytest.fixture
def world(db: Database) -> None:
    with db.unit_of_work() as s:
        ville = f.organisation(s, "Ville de Troyes")
        f.account(s, CDO, roles=[(ville, Role.CHIEF_DATA_OFFICER, None)])
        f.account(s, ROOT, superadmin=True)


def _upload(client: TestClient, data: bytes, filename: str) -> object:
    token = f.csrf_of(client.get("/admin/inventaire/import").text)
    return client.post("/admin/inventaire/import", data={"csrf_token": token},
                       files={"fichier": (filename, data, "application/octet-stream")})


def _count(db: Database) -> int:
    with db.session() as s:
        return int(s.scalar(select(func.count()).select_from(Dataset)) or 0)


def test_unknown_organisations_are_said_once_and_an_administrator_is_asked(
        client: TestClient, db: Database, world: None, inbox: Inbox) -> None:
    csrf = f.login(client, CDO)
    r = _upload(client, audit_bytes("xlsx", title_row=True), "audit-troyes.xlsx")
    assert r.status_code == 422  # type: ignore[attr-defined]
    text = r.text  # type: ignore[attr-defined]
    errors = text.split('id="erreurs"')[1].split("</table>")[0]
    assert errors.count("<tr>") == 2  # the header and one error
    unknown = [o for o in ORGANISATIONS if o != "Ville de Troyes"]
    assert f"{len(unknown)} collectivités inconnues" in errors
    lines = sum(ORGANISATIONS[o] for o in unknown)
    assert f"({lines} lignes écartées)" in errors
    assert "Demander à un administrateur" in text and f"mailto:{ROOT}?" in text
    r = client.post("/admin/inventaire/import/demande", data={"csrf_token": csrf},
                    follow_redirects=False)
    assert r.status_code == 303
    [message] = inbox.to(ROOT)
    body = message.get_body(("plain",)).get_content()  # type: ignore[union-attr]
    assert all(f"« {o} »" in body for o in unknown) and CDO in body
    with db.session() as s:
        event = s.scalar(select(AuditEvent).where(
            AuditEvent.action == "inventory.creation_requested"))
        assert event is not None and sorted(event.details["organisations"]) == sorted(unknown)
    assert _count(db) == 0


def test_the_columns_mapping_is_shown_and_changed(client: TestClient, db: Database,
                                                  world: None) -> None:
    f.login(client, CDO)
    data = ("Collectivité;Nom du tableau de suivi;Notes internes\n"
            "Ville de Troyes;Piscines;Horaires et tarifs\n").encode()
    r = _upload(client, data, "audit.csv")
    text = r.text  # type: ignore[attr-defined]
    assert r.status_code == 200  # type: ignore[attr-defined]
    rows = re.findall(r'<label for="colonne-(\d)">([^<]+)</label>.*?<option value="([^"]*)"'
                      r' selected', text, re.S)
    assert rows == [("0", "Collectivité", "organisation"),
                    ("1", "Nom du tableau de suivi", "title"), ("2", "Notes internes", "")]
    token = f.csrf_of(text)
    twice = client.post("/admin/inventaire/import/colonnes", data={
        "csrf_token": token, "colonne-0": "organisation", "colonne-1": "title",
        "colonne-2": "title"})
    assert twice.status_code == 422 and "choisi pour deux colonnes" in twice.text
    r = client.post("/admin/inventaire/import/colonnes", data={
        "csrf_token": token, "colonne-0": "organisation", "colonne-1": "title",
        "colonne-2": "description"})
    assert r.status_code == 200
    assert '<option value="description" selected>' in r.text
    jeton = re.search(r'name="jeton" value="([^"]+)"', r.text)
    assert jeton is not None
    r = client.post("/admin/inventaire/import/confirmer",
                    data={"csrf_token": token, "jeton": jeton.group(1)}, follow_redirects=False)
    assert r.status_code == 303
    page = finish_import(client, r.headers["location"])
    assert "1 créé, 0 modifié, 0 inchangé" in page.text
    with db.session() as s:
        assert s.scalar(select(Dataset.description)) == "Horaires et tarifs"


def test_the_confirmation_runs_in_the_background_and_reports_its_progress(
        client: TestClient, db: Database, world: None) -> None:
    f.login(client, ROOT)
    r = _upload(client, audit_bytes("xlsx", title_row=True), "audit-troyes.xlsx")
    text = r.text  # type: ignore[attr-defined]
    assert "Créer 3 organisations" in text
    jeton = re.search(r'name="jeton" value="([^"]+)"', text)
    assert jeton is not None
    r = client.post("/admin/inventaire/import/confirmer", data={
        "csrf_token": f.csrf_of(text), "jeton": jeton.group(1), "creer": "1"},
        follow_redirects=False)
    location = r.headers["location"]
    # (The page following a running job: test_import_jobs.py.) Another account does not see the job.
    other = TestClient(client.app)
    f.login(other, CDO)
    assert other.get(f"{location}/etat").status_code == 404
    finish_import(client, location)
    state = client.get(f"{location}/etat").json()
    assert state == {"state": "done", "done": 653, "total": 653,
                     "message": state["message"]}
    assert "653 créés" in state["message"] and "Nouvelles organisations : 3" in state["message"]
    assert _count(db) == 653


def test_unknown_departments_are_grouped_and_asked_of_the_organisations_administrator(
        client: TestClient, db: Database, inbox: Inbox) -> None:
    with db.unit_of_work() as s:
        ville = f.organisation(s, "Ville de Troyes")
        sports = f.department(s, ville, "Sports")
        f.account(s, "ref@troyes.fr", roles=[(ville, Role.DATA_REFERENT, sports)])
        f.account(s, "dsi@troyes.fr", roles=[(ville, Role.ADMINISTRATOR, None)])
        f.account(s, "autre@paris.fr", roles=[(f.organisation(s, "Ville de Paris"),
                                               Role.ADMINISTRATOR, None)])
    csrf = f.login(client, "ref@troyes.fr")
    data = ("Collectivité;Direction;Nom du tableau de suivi\n"
            "Ville de Troyes;Sports;Piscines\n"
            "Ville de Troyes;Culture;Musées\n"
            "Ville de Troyes;Culture;Théâtres\n"
            "Ville de Troyes;Archives;Fonds anciens\n").encode()
    r = _upload(client, data, "audit.csv")
    errors = r.text.split('id="erreurs"')[1].split("</table>")[0]  # type: ignore[attr-defined]
    assert errors.count("<tr>") == 2
    assert "2 directions inconnues dans « Ville de Troyes » : « Culture », « Archives »" \
        in errors
    client.post("/admin/inventaire/import/demande", data={"csrf_token": csrf})
    assert len(inbox.to("dsi@troyes.fr")) == 1 and inbox.to("autre@paris.fr") == []
