"""The charter's back-office pages and API: the dashboard shows each engagement's counts,
its failing items and since when; evaluating from the page stores a run; the forms record a
deviation (then the item shows « écart documenté ») and an action (late, then done, with
its history); the public register of deviations exists only when the charter publishes it."""

from __future__ import annotations

import html
from dataclasses import replace
from datetime import timedelta

import pytest
from fastapi.testclient import TestClient

from patrimoine.access.models import Role
from patrimoine.access.principal import Principal
from patrimoine.bootstrap import Services
from patrimoine.charter import config
from patrimoine.charter.config import Charter, Engagement, RuleUse
from patrimoine.core.clock import now
from patrimoine.protection.register.models import Breach
from patrimoine.protection.register.vocabulary import BreachRisk
from tests import factories as f
from tests.factories import login

SYSTEM = Principal.system("tests")
OWNERS = "inventory.owner_and_confidentiality"
CHARTER = Charter(title="Charte de Ligérac", engagements=(
    Engagement("connaitre", "Connaître nos données", "Chaque jeu a un responsable.",
               (RuleUse(OWNERS),)),))


@pytest.fixture
def town(services: Services) -> int:
    with services.db.unit_of_work() as s:
        ville = f.organisation(s)
        entry = f.dataset(s, ville, "Registre des arbres")
        f.account(s, "cdo@ville.fr", roles=[(ville, Role.CHIEF_DATA_OFFICER, None)])
        f.account(s, "agent@ville.fr", roles=[(ville, Role.AGENT, None)])
        config.save(s, SYSTEM, CHARTER)
        return entry.id


def test_the_dashboard_evaluates_and_shows_failing_items_and_deviations(
        client: TestClient, town: int) -> None:
    token = login(client, "cdo@ville.fr")
    page = client.get("/admin/charte")
    assert page.status_code == 200
    assert "n'a pas encore été évalué" in html.unescape(page.text)
    r = client.post("/admin/charte/evaluer", data={"csrf_token": token,
                                                   "organisation": "ville-de-test"},
                    follow_redirects=True)
    text = html.unescape(r.text)
    assert "Charte évaluée : 1 règle(s), 1 élément(s) en échec." in text
    assert "Connaître nos données" in text
    assert f"en échec depuis le {now():%d/%m/%Y}" in text
    assert "Registre des arbres" in text
    today = now().date()
    r = client.post("/admin/charte/ecarts", data={
        "csrf_token": token, "rule_id": OWNERS, "organisation": "ville-de-test",
        "item": f"dataset:{town}", "item_label": "Registre des arbres",
        "justification": "Responsable désigné au prochain comité de la donnée.",
        "approver_role": "chief_data_officer", "starts_on": today.isoformat(),
        "expires_on": (today + timedelta(days=30)).isoformat(), "link": ""},
        follow_redirects=True)
    assert r.status_code == 200, r.text
    assert "Écart enregistré jusqu'au" in html.unescape(r.text)
    client.post("/admin/charte/evaluer", data={"csrf_token": token,
                                               "organisation": "ville-de-test"})
    text = html.unescape(client.get("/admin/charte").text)
    assert "écart documenté" in text
    assert f"Écart documenté jusqu'au {today + timedelta(days=30):%d/%m/%Y}" in text
    api = client.get("/api/v1/charter/evaluation").json()
    assert api["rules"][0]["deviations"] == 1
    assert api["failures"][0]["outcome"] == "deviation"
    assert client.get("/api/v1/charter/trend").json()["connaitre"][-1]["deviations"] == 1
    r = client.post("/admin/charte/ecarts/1/fin", data={"csrf_token": token},
                    follow_redirects=True)
    assert f"L'écart prend fin le {today:%d/%m/%Y}." in html.unescape(r.text)
    assert client.get("/api/v1/charter/deviations").json()[0]["expires_on"] == \
        today.isoformat()


def test_a_deviation_form_with_mistakes_says_them_in_french(client: TestClient,
                                                            town: int) -> None:
    token = login(client, "cdo@ville.fr")
    r = client.post("/admin/charte/ecarts", data={
        "csrf_token": token, "rule_id": OWNERS, "organisation": "ville-de-test",
        "justification": "court", "approver_role": "chief_data_officer",
        "starts_on": "2026-01-10", "expires_on": "pas une date"})
    assert r.status_code == 422
    text = html.unescape(r.text)
    assert "L'écart n'a pas été enregistré" in text
    assert "Expiration : date invalide" in text
    assert "court" in text  # what was typed is kept


def test_an_agent_reads_the_charter_but_records_nothing(client: TestClient, town: int) -> None:
    token = login(client, "agent@ville.fr")
    assert client.get("/admin/charte").status_code == 200
    assert "Évaluer maintenant" not in client.get("/admin/charte").text
    r = client.post("/admin/charte/evaluer", data={"csrf_token": token,
                                                   "organisation": "ville-de-test"})
    assert r.status_code == 403
    r = client.post("/admin/charte/actions", data={
        "csrf_token": token, "engagement": "connaitre", "title": "Une action",
        "owner": "Moi", "due_on": "2030-01-01"})
    assert r.status_code == 403


def test_an_action_is_late_then_done_with_its_history(client: TestClient, town: int) -> None:
    token = login(client, "cdo@ville.fr")
    yesterday = (now().date() - timedelta(days=1)).isoformat()
    r = client.post("/admin/charte/actions", data={
        "csrf_token": token, "engagement": "connaitre", "organisation": "ville-de-test",
        "title": "Nommer un responsable par jeu", "owner": "Direction générale",
        "due_on": yesterday, "rule_ids": [OWNERS]}, follow_redirects=True)
    assert r.status_code == 200, r.text
    text = html.unescape(r.text)
    assert "En retard" in text and "inscription" in text
    url = str(r.url)
    r = client.post(url, data={
        "csrf_token": token, "engagement": "connaitre", "organisation": "ville-de-test",
        "title": "Nommer un responsable par jeu", "owner": "Direction générale",
        "due_on": yesterday, "rule_ids": [OWNERS], "done_on": now().date().isoformat()})
    assert r.status_code == 422
    assert "preuve" in html.unescape(r.text)
    r = client.post(url, data={
        "csrf_token": token, "engagement": "connaitre", "organisation": "ville-de-test",
        "title": "Nommer un responsable par jeu", "owner": "Direction générale",
        "due_on": yesterday, "rule_ids": [OWNERS], "done_on": now().date().isoformat(),
        "evidence": "Note de service du 2 mai."}, follow_redirects=True)
    text = html.unescape(r.text)
    assert "Réalisée" in text
    assert "Réalisée le : — →" in text
    assert client.get("/api/v1/charter/actions").json()[0]["status"] == "done"


def test_the_public_register_of_deviations_follows_the_charter(
        client: TestClient, services: Services, town: int) -> None:
    assert client.get("/charte/ecarts").status_code == 404
    with services.db.unit_of_work() as s:
        config.save(s, SYSTEM, replace(CHARTER, publish_deviations=True))
    r = client.get("/charte/ecarts")
    assert r.status_code == 200
    assert "Écarts à la « Charte de Ligérac »" in html.unescape(r.text)


def test_the_api_needs_a_reader_of_the_charter(client: TestClient, town: int) -> None:
    assert client.get("/api/v1/charter").status_code == 401
    login(client, "agent@ville.fr")
    body = client.get("/api/v1/charter").json()
    assert body["engagements"][0]["rules"] == [{"id": OWNERS}]
    assert client.get("/api/v1/charter/evaluation").json()["run"] is None


def test_failing_items_are_named_only_to_who_may_see_them(
        client: TestClient, services: Services, town: int) -> None:
    with services.db.unit_of_work() as s:
        org = f.organisation(s)
        s.add(Breach(organisation_id=org.id, reference="V-2026-001",
                     title="Fuite du fichier des bénéficiaires", risk=BreachRisk.HIGH,
                     aware_at=now() - timedelta(days=10)))
        config.save(s, SYSTEM, Charter(engagements=(
            Engagement("proteger", "Protéger", rules=(RuleUse("protection.breaches_notified"),)),
        )))
    token = login(client, "cdo@ville.fr")
    client.post("/admin/charte/evaluer", data={"csrf_token": token,
                                               "organisation": "ville-de-test"})
    assert "Fuite du fichier des bénéficiaires" in html.unescape(client.get("/admin/charte").text)
    login(client, "agent@ville.fr")
    text = html.unescape(client.get("/admin/charte").text)
    assert "Fuite du fichier" not in text
    assert "1 autre(s) élément(s) en échec que votre rôle ne permet pas de consulter" in text
    api = client.get("/api/v1/charter/evaluation").json()
    assert api["failures"] == [] and api["failures_hidden"] == 1
