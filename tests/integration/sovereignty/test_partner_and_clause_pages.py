"""Pages of the charter's partners (a sheet per signatory: corrections, yearly actions,
history), the public list of signatories, and the page where an organisation edits the
clauses its contracts should carry."""

from __future__ import annotations

import re

from fastapi.testclient import TestClient

from patrimoine.access.models import Role
from patrimoine.bootstrap import Services
from tests import factories as f

PARTNERS = "/admin/souverainete/partenaires"


def _world(services: Services) -> str:
    with services.db.unit_of_work() as s:
        org = f.organisation(s, "Ville de Test")
        f.account(s, "agd@ville.example", roles=[(org, Role.CHIEF_DATA_OFFICER, None)])
        f.account(s, "agent@ville.example", roles=[(org, Role.AGENT, None)])
        return org.slug


def test_a_partner_sheet_is_corrected_and_gets_its_yearly_actions(
        client: TestClient, services: Services) -> None:
    slug = _world(services)
    csrf = f.login(client, "agd@ville.example")
    signed = {"csrf_token": csrf, "organisation": slug, "name": "Coopérative des mobilités",
              "siren": "900 100 017", "kind": "company", "signed_on": "2024-03-12",
              "commitments": "Ouvrir ses données de trafic.", "public": "on"}
    r = client.post(PARTNERS, data=signed, follow_redirects=False)
    assert r.status_code == 303
    sheet = r.headers["location"]
    assert re.fullmatch(rf"{PARTNERS}/\d+", sheet)
    client.post(PARTNERS, data={**signed, "name": "Association discrète",
                                "siren": "900100025", "kind": "association", "public": ""})

    # A wrong SIREN: the sheet comes back with the message, nothing changed.
    fields = {k: v for k, v in signed.items() if k != "organisation"}
    r = client.post(sheet, data={**fields, "name": "Mobilités SCIC", "siren": "900100018"})
    assert r.status_code == 422
    assert "SIREN « 900100018 » invalide" in r.text
    assert "Coopérative des mobilités" in client.get(sheet).text
    r = client.post(sheet, data={**fields, "name": "Mobilités SCIC",
                                 "renewal_on": "2027-03-12"}, follow_redirects=False)
    assert r.status_code == 303
    page = client.get(sheet).text
    assert "<h1>Mobilités SCIC</h1>" in page and "12/03/2027" in page
    assert "sovereignty.partner.updated" in page

    r = client.post(f"{sheet}/actions", data={"csrf_token": csrf, "year": "2023",
                                              "description": "Avant la signature"})
    assert r.status_code == 422 and "précède la signature" in r.text
    r = client.post(f"{sheet}/actions", data={"csrf_token": csrf, "year": "2025",
                                              "description": ""})
    assert r.status_code == 422 and 'id="a-description-error"' in r.text
    r = client.post(f"{sheet}/actions", data={
        "csrf_token": csrf, "year": "2025",
        "description": "Jeu de données des trajets publié."}, follow_redirects=False)
    assert r.status_code == 303
    assert "Jeu de données des trajets publié." in client.get(sheet).text

    # The public list: anyone reads the public signatories and their actions, not the others.
    client.cookies.clear()
    public = client.get("/charte/signataires")
    assert public.status_code == 200
    assert "Mobilités SCIC" in public.text and "Jeu de données des trajets publié." in public.text
    assert "Association discrète" not in public.text
    assert "Charte de Ville de Test (1)" in public.text

    # Staff read the sheet, without the forms; a post is refused.
    csrf = f.login(client, "agent@ville.example")
    page = client.get(sheet).text
    assert "Mobilités SCIC" in page and "Enregistrer l&#39;action" not in page
    r = client.post(f"{sheet}/actions", data={"csrf_token": csrf, "year": "2026",
                                              "description": "Essai"})
    assert r.status_code == 403


def test_the_clause_set_is_edited_and_extended(client: TestClient, services: Services) -> None:
    slug = _world(services)
    csrf = f.login(client, "agd@ville.example")
    page = client.get(f"/admin/souverainete/clauses/{slug}")
    assert page.status_code == 200
    assert page.text.count('class="panel" id="clause-') == 7  # Orléans' seven, by default
    assert "Hébergement dans l&#39;Union européenne" in page.text

    r = client.post(f"/admin/souverainete/clauses/{slug}", data={
        "csrf_token": csrf, "code": "Code Source", "title": "Code source", "rank": "7"})
    assert r.status_code == 422
    assert "Code : lettres minuscules sans accent, chiffres et tirets" in r.text
    r = client.post(f"/admin/souverainete/clauses/{slug}", data={
        "csrf_token": csrf, "code": "code-source", "title": "Code source ouvert",
        "text": "Les développements financés sont publiés sous licence libre.",
        "rank": "7"}, follow_redirects=False)
    assert r.status_code == 303
    r = client.post(f"/admin/souverainete/clauses/{slug}", data={
        "csrf_token": csrf, "code": "reversibilite", "title": "Réversibilité et portabilité",
        "text": "Restitution complète, testée chaque année.", "rank": "4",
        "reversibility": "on"}, follow_redirects=False)
    assert r.status_code == 303
    page = client.get(f"/admin/souverainete/clauses/{slug}").text
    assert page.count('class="panel" id="clause-') == 8
    assert "Code source ouvert" in page and "Réversibilité et portabilité" in page
    api = client.get(f"/api/v1/sovereignty/organisations/{slug}/clauses").json()
    assert [c["code"] for c in api][-1] == "code-source"
    assert next(c for c in api if c["code"] == "reversibilite")["reversibility"] is True

    csrf = f.login(client, "agent@ville.example")
    assert client.get(f"/admin/souverainete/clauses/{slug}").status_code == 200
    r = client.post(f"/admin/souverainete/clauses/{slug}", data={
        "csrf_token": csrf, "code": "x", "title": "X"})
    assert r.status_code == 403
