"""The retention API and back-office page: who may do what, slips and visas end to end."""

from __future__ import annotations

import io
import re
from pathlib import Path

from fastapi.testclient import TestClient
from openpyxl import load_workbook

from patrimoine.access import service as accounts
from patrimoine.access.models import Role
from patrimoine.bootstrap import Services
from tests import factories as f
from tests.factories import csrf_of, load, retention_world, set_rule, subscribers_csv, write

API = "/api/v1/retention"


def _token(services: Services, email: str, role: Role | None) -> dict[str, str]:
    with services.db.unit_of_work() as s:
        org = f.organisation(s)
        account = f.account(s, email, roles=[(org, role, None)] if role else [])
        _, secret = accounts.create_api_token(s, account, "tests")
    return {"Authorization": f"Bearer {secret}"}


def _world(services: Services, tmp_path: Path):  # type: ignore[no-untyped-def]
    w = retention_world(services)
    load(services, w.dataset, write(tmp_path, "donnees.csv", subscribers_csv()))
    return w


def test_permissions_and_a_slip_end_to_end(client: TestClient, services: Services,
                                           tmp_path: Path) -> None:
    w = _world(services, tmp_path)
    admin = _token(services, "admin@ville.example", Role.ADMINISTRATOR)
    dpo = _token(services, "dpo@ville.example", Role.DPO)
    agent = _token(services, "agent@ville.example", Role.AGENT)
    outsider = _token(services, "autre@ailleurs.example", None)
    slug = w.dataset.slug

    # Setting the rule is changing the dataset.
    rule = {"duration": 0, "unit": "jours", "start_event": "création",
            "final_fate": "destruction", "legal_reference": "Délibération 2024-12"}
    assert client.put(f"{API}/datasets/{slug}/rule", json=rule).status_code == 401
    assert client.put(f"{API}/datasets/{slug}/rule", json=rule,
                      headers=agent).status_code == 403
    r = client.put(f"{API}/datasets/{slug}/rule", json={**rule, "unit": "lustres"},
                   headers=admin)
    assert r.status_code == 422 and "Unité « lustres »" in r.text
    r = client.put(f"{API}/datasets/{slug}/rule", json=rule, headers=admin)
    assert r.status_code == 200, r.text
    assert r.json()["rule"]["description"] == ("0 jour à compter de la création de "
                                               "l'enregistrement, puis destruction")

    # The plan is seen by the register keepers only.
    assert client.get(f"{API}/plan").status_code == 401
    assert client.get(f"{API}/plan", headers=agent).status_code == 403
    assert client.get(f"{API}/plan", headers=outsider).status_code == 403
    plan = client.get(f"{API}/plan", headers=dpo).json()
    [item] = plan["items"]
    assert item["action"] == "destroy_versions" and item["needs_visa"]
    assert item["fate_label"] == "Destruction"

    # The DPO sees but does not decide; the administrator produces the slip.
    assert client.post(f"{API}/slips", json={"organisation": "ville-de-test"},
                       headers=dpo).status_code == 403
    assert client.post(f"{API}/apply", json={}, headers=dpo).status_code == 403
    r = client.post(f"{API}/slips", json={"organisation": "ville-de-test"}, headers=admin)
    assert r.status_code == 201, r.text
    slip = r.json()
    assert slip["status"] == "awaiting_visa" and len(slip["items"]) == 1

    # Nothing is destroyed before the visa.
    r = client.post(f"{API}/apply", json={}, headers=admin)
    assert r.status_code == 200 and r.json()["done"] == []
    assert "visa" in r.json()["skipped"][0]["reason"]

    xlsx = client.get(f"{API}/slips/{slip['id']}.xlsx", headers=dpo)
    assert xlsx.status_code == 200
    sheet = load_workbook(io.BytesIO(xlsx.content)).active
    assert sheet is not None
    values = [c.value for row in sheet.iter_rows() for c in row if c.value]
    assert "Service versant" in values and "Règle de conservation (DUA)" in values
    assert "Délibération 2024-12" in values

    r = client.post(f"{API}/slips/{slip['id']}/visa", json={"by": "", "reference": ""},
                    headers=admin)
    assert r.status_code == 422 and "directeur des archives" in r.text
    assert client.post(f"{API}/slips/{slip['id']}/visa",
                       json={"by": "M. Archiviste", "reference": "V-1"},
                       headers=dpo).status_code == 403
    assert client.get(f"{API}/slips/{slip['id']}", headers=outsider).status_code == 404
    r = client.post(f"{API}/slips/{slip['id']}/visa",
                    json={"by": "M. Archiviste", "reference": "AD45-2026-031",
                          "date": "2026-01-15"}, headers=admin)
    assert r.status_code == 200, r.text
    assert r.json()["status"] == "approved" and r.json()["visa_at"].startswith("2026-01-15")

    r = client.post(f"{API}/apply", json={}, headers=admin)
    assert [d["slip"] for d in r.json()["done"]] == [slip["reference"]]
    actions = client.get(f"{API}/actions", headers=dpo).json()
    assert actions[0]["action"] == "destroy_versions" and actions[0]["slip_id"] == slip["id"]
    assert client.get(f"{API}/slips/{slip['id']}", headers=dpo).json()["status"] == "executed"


def test_sobriety_api(client: TestClient, services: Services, tmp_path: Path) -> None:
    w = _world(services, tmp_path)
    with services.db.unit_of_work() as s:
        org = f.organisation(s)
        twin = f.dataset(s, org, "Abonnés des médiathèques")
        s.flush()
        twin_id = twin.id
    from patrimoine.inventory.models import Dataset
    load(services, Dataset(id=twin_id), write(tmp_path, "twin.csv", subscribers_csv()))
    dpo = _token(services, "dpo@ville.example", Role.DPO)
    data = client.get(f"{API}/sobriety", headers=dpo).json()
    [volume] = data["volumes"]
    assert volume["versions"] == 2 and volume["versions_bytes"] > 0
    assert volume["total_bytes"] >= volume["versions_bytes"]
    [group] = data["same_content"]
    assert {d["dataset"] for d in group["datasets"]} == {w.dataset.slug,
                                                         "abonnes-des-mediatheques"}
    assert data["unread"] == []  # stored today: not a year old
    assert client.get(f"{API}/sobriety").status_code == 401


def test_back_office_page_slip_and_visa(client: TestClient, services: Services,
                                        tmp_path: Path) -> None:
    w = _world(services, tmp_path)
    set_rule(services, w.dataset, duration=0, unit="days", start_event="created",
             final_fate="destruction")
    _token(services, "admin@ville.example", Role.ADMINISTRATOR)
    token = csrf_of(client.get("/connexion").text)
    r = client.post("/connexion", data={"email": "admin@ville.example", "password": f.PASSWORD,
                                        "csrf_token": token}, follow_redirects=False)
    assert r.status_code == 303
    page = client.get("/admin/conservation")
    assert page.status_code == 200
    assert "Établir le bordereau d'élimination" in page.text
    assert w.dataset.title in page.text
    r = client.post("/admin/conservation/bordereaux",
                    data={"organisation": str(w.org_id), "csrf_token": csrf_of(page.text)},
                    follow_redirects=True)
    assert r.status_code == 200 and "Bordereau d'élimination BE-" in r.text
    assert "En attente (article R212-14" in r.text
    action = re.search(r'action="(/admin/conservation/bordereaux/\d+/visa)"', r.text)
    assert action
    r = client.post(action.group(1), data={"by": "Mme Archiviste", "reference": "V-9",
                                           "decision": "approved",
                                           "csrf_token": csrf_of(r.text)}, follow_redirects=True)
    assert r.status_code == 200 and "Visé, élimination à exécuter" in r.text
    page = client.get("/admin/conservation")
    r = client.post("/admin/conservation/appliquer", data={"csrf_token": csrf_of(page.text)},
                    follow_redirects=True)
    assert r.status_code == 200 and "1 action(s) de conservation effectuée(s)" in r.text
    assert "Rien n'est échu." in r.text
    # The executed slip says what was destroyed.
    slip = client.get(action.group(1).removesuffix("/visa"))
    assert re.search(r"lignes, \d+ fichiers \([\d\u202f]+ octets\) détruits", slip.text)


def test_page_refuses_agents(client: TestClient, services: Services) -> None:
    _token(services, "agent@ville.example", Role.AGENT)
    token = csrf_of(client.get("/connexion").text)
    client.post("/connexion", data={"email": "agent@ville.example", "password": f.PASSWORD,
                                    "csrf_token": token})
    assert client.get("/admin/conservation").status_code == 403


def test_rule_form(client: TestClient, services: Services, tmp_path: Path) -> None:
    w = _world(services, tmp_path)
    _token(services, "admin@ville.example", Role.ADMINISTRATOR)
    token = csrf_of(client.get("/connexion").text)
    client.post("/connexion", data={"email": "admin@ville.example", "password": f.PASSWORD,
                                    "csrf_token": token})
    url = f"/admin/conservation/jeux/{w.dataset.slug}"
    page = client.get(url)
    assert page.status_code == 200 and "n'a pas de règle propre" in page.text
    assert '<option value="date_fin_abonnement">' in page.text
    r = client.post(url, data={"duration": "5", "unit": "years", "start_event": "date_column",
                               "final_fate": "anonymisation",
                               "date_column": "date_fin_abonnement",
                               "csrf_token": csrf_of(page.text)})
    assert r.status_code == 422 and "versions entières" in r.text
    r = client.post(url, data={"duration": "5", "unit": "years", "start_event": "date_column",
                               "final_fate": "destruction",
                               "date_column": "date_fin_abonnement",
                               "legal_reference": "Tableau de gestion 2024",
                               "csrf_token": csrf_of(page.text)}, follow_redirects=True)
    assert r.status_code == 200
    assert ("Règle en vigueur : 5 ans à compter de la date de la colonne « "
            "date_fin_abonnement » de chaque ligne, puis destruction") in r.text
