"""Back-office pages of sovereignty: list with search and facets, the form with errors
beside each field, the sheet with its history, contracts and the reversibility watch."""

from __future__ import annotations

from fastapi.testclient import TestClient

from patrimoine.access.models import Role
from patrimoine.access.principal import Principal
from patrimoine.bootstrap import Services
from patrimoine.protection.deadlines import add_months, legal_today
from patrimoine.sovereignty import contracts as ctr
from tests import factories as f


def test_application_pages(client: TestClient, services: Services, system: Principal) -> None:
    with services.db.unit_of_work() as s:
        org = f.organisation(s)
        f.account(s, "dsi@ville.example", roles=[(org, Role.ADMINISTRATOR, None)])
        f.account(s, "agent@ville.example", roles=[(org, Role.AGENT, None)])
        ctr.create_contract(s, system, ctr.ContractInput(
            organisation_id=org.id, title="Maintenance de la paie", supplier_name="Éditeur",
            end_date=add_months(legal_today(), 6)))
        slug = org.slug
    csrf = f.login(client, "dsi@ville.example")
    form = {"csrf_token": csrf, "organisation": slug, "name": "Paie", "status": "in_service",
            "hosting_mode": "saas", "location": "third_country", "host": "",
            "sensitivity": "sensible"}
    r = client.post("/admin/souverainete/applications/nouvelle", data=form)
    assert r.status_code == 422
    assert 'id="f-host-error">Indiquez l&#39;hébergeur' in r.text
    assert 'id="f-transfer_tool-error">' in r.text
    r = client.post("/admin/souverainete/applications/nouvelle", data={
        **form, "host": "Nuage", "country": "Inde", "transfer_tool": "scc",
        "datasets": "inconnu"})
    assert r.status_code == 422 and 'id="f-datasets-error">Jeux de données inconnus' in r.text
    r = client.post("/admin/souverainete/applications/nouvelle", data={
        **form, "host": "Nuage", "country": "Inde", "transfer_tool": "scc",
        "certifications": ["iso27001"]}, follow_redirects=False)
    assert r.status_code == 303
    sheet = client.get(r.headers["location"]).text
    assert "Placement contraire à la stratégie" in sheet and "ISO/IEC 27001" in sheet
    r = client.post(r.headers["location"] + "/modifier", data={
        **form, "host": "Nuage", "location": "france", "hosting_mode": "own",
        "certifications": ["iso27001"]}, follow_redirects=False)
    assert r.status_code == 303
    sheet = client.get(r.headers["location"]).text
    assert "Placement contraire" not in sheet and "updated" in sheet

    f.login(client, "agent@ville.example")
    listing = client.get("/admin/souverainete", params={"q": "pai"}).text
    assert "Paie" in listing and "Infrastructure de la collectivité (1)" in listing
    assert client.get("/admin/souverainete", params={"location": "eu"}).text.count(
        "Aucune application ne correspond") == 1
    assert client.get("/admin/souverainete/applications/nouvelle").status_code == 403
    contracts = client.get("/admin/souverainete/contrats").text
    assert "Maintenance de la paie" in contracts
    assert "clause de réversibilité absente ou non vérifiée" in contracts
    link = contracts.split('href="/admin/souverainete/contrats/')[1].split('"')[0]
    detail = client.get(f"/admin/souverainete/contrats/{link}").text
    assert "Réversibilité" in detail and "Jamais testée." in detail and "created" in detail

    # The DSI records a clause's status and a reversibility test from the contract's page.
    csrf = f.login(client, "dsi@ville.example")
    page_url = f"/admin/souverainete/contrats/{link}"
    r = client.post(f"{page_url}/clauses/reversibilite",
                    data={"csrf_token": csrf, "status": "present"})
    assert r.status_code == 422 and "Indiquez l&#39;article du contrat" in r.text
    r = client.post(f"{page_url}/clauses/reversibilite", follow_redirects=False,
                    data={"csrf_token": csrf, "status": "present", "article": "CCAP 7"})
    assert r.status_code == 303
    r = client.post(f"{page_url}/tests", data={"csrf_token": csrf, "tested_on": "",
                                               "result": "success"})
    assert r.status_code == 422 and "Date du test" in r.text
    r = client.post(f"{page_url}/tests", follow_redirects=False, data={
        "csrf_token": csrf, "tested_on": "2025-10-01", "formats": "CSV, JSON",
        "result": "success"})
    assert r.status_code == 303
    detail = client.get(page_url).text
    assert "formats reçus : CSV, JSON" in detail and "CCAP 7" in detail
    assert "Aucun contrat à surveiller." in client.get("/admin/souverainete/contrats").text


def test_contract_form(client: TestClient, services: Services) -> None:
    with services.db.unit_of_work() as s:
        org = f.organisation(s)
        f.account(s, "cdo@ville.example", roles=[(org, Role.CHIEF_DATA_OFFICER, None)])
        slug = org.slug
    csrf = f.login(client, "cdo@ville.example")
    form = {"csrf_token": csrf, "organisation": slug, "title": "Hébergement",
            "kind": "public_contract", "supplier_name": "Hébergeur",
            "supplier_siret": "732 829 320 00075", "start_date": "2026-01-01",
            "end_date": "2025-01-01", "applications": "APP-0404"}
    r = client.post("/admin/souverainete/contrats/nouveau", data=form)
    assert r.status_code == 422
    assert 'id="f-supplier_siret-error">SIRET « 732 829 320 00075 » invalide' in r.text
    assert 'id="f-end_date-error">La date de fin précède la date de début.' in r.text
    r = client.post("/admin/souverainete/contrats/nouveau", data={
        **form, "supplier_siret": "732 829 320 00074", "end_date": "2029-12-31"})
    assert r.status_code == 422
    assert 'id="f-applications-error">Applications inconnues' in r.text
    r = client.post("/admin/souverainete/contrats/nouveau", follow_redirects=False, data={
        **form, "supplier_siret": "732 829 320 00074", "end_date": "2029-12-31",
        "applications": "", "processor": "on"})
    assert r.status_code == 303
    edit = client.get(r.headers["location"] + "/modifier").text
    assert 'value="73282932000074"' in edit and 'value="2029-12-31"' in edit
    assert 'name="processor" type="checkbox" checked' in edit


def test_partners_page(client: TestClient, services: Services) -> None:
    with services.db.unit_of_work() as s:
        org = f.organisation(s)
        f.account(s, "cdo@ville.example", roles=[(org, Role.CHIEF_DATA_OFFICER, None)])
        slug = org.slug
    csrf = f.login(client, "cdo@ville.example")
    form = {"csrf_token": csrf, "organisation": slug, "name": "Coopérative",
            "siren": "900 100 018", "kind": "company", "signed_on": ""}
    r = client.post("/admin/souverainete/partenaires", data=form)
    assert r.status_code == 422 and 'id="f-signed_on-error">' in r.text
    r = client.post("/admin/souverainete/partenaires", data={**form, "signed_on": "2025-01-02"})
    assert r.status_code == 422 and "SIREN « 900 100 018 » invalide" in r.text
    r = client.post("/admin/souverainete/partenaires", follow_redirects=False, data={
        **form, "siren": "900 100 017", "signed_on": "2025-01-02", "public": "on"})
    assert r.status_code == 303
    listing = client.get("/admin/souverainete/partenaires").text
    assert "Coopérative" in listing and "900100017" in listing and "02/01/2025" in listing


def test_strategy_page(client: TestClient, services: Services) -> None:
    with services.db.unit_of_work() as s:
        org = f.organisation(s)
        f.account(s, "cdo@ville.example", roles=[(org, Role.CHIEF_DATA_OFFICER, None)])
        f.account(s, "agent@ville.example", roles=[(org, Role.AGENT, None)])
        slug = org.slug
    csrf = f.login(client, "cdo@ville.example")
    url = f"/admin/souverainete/strategie/{slug}"
    assert "Données sensibles (santé, social, sécurité)" in client.get(url).text
    r = client.post(url, data={"csrf_token": csrf, "code": "secret", "label": "Secret"})
    assert r.status_code == 422 and "Modes d&#39;hébergement admis :" in r.text
    r = client.post(url, follow_redirects=False, data={
        "csrf_token": csrf, "code": "secret", "label": "Secret défense", "rank": "9",
        "allowed_modes": ["own"], "allowed_locations": ["france"]})
    assert r.status_code == 303
    assert "Secret défense" in client.get(url).text
    csrf = f.login(client, "agent@ville.example")
    assert "Secret défense" in client.get(url).text  # staff read the strategy
    assert client.post(url, data={"csrf_token": csrf, "code": "x", "label": "X",
                                  "allowed_modes": ["own"],
                                  "allowed_locations": ["france"]}).status_code == 403
