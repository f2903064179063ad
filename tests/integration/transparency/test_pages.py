"""Back-office pages of the algorithms register: the list with its facets, the form with
French errors next to the fields, publication by a chief data officer, the history."""

from __future__ import annotations

from fastapi.testclient import TestClient

from patrimoine.access.models import Role
from patrimoine.core.db import Database
from tests import factories as f
from tests.factories import login


def _form(token: str, **fields: str) -> dict[str, str]:
    base = {
        "csrf_token": token, "organisation": "metropole-de-test",
        "name": "Attribution des places en crèche", "contact": "creches@example.fr",
        "purpose": "Classer les demandes de place selon les critères votés.",
        "legal_basis": "Délibération du 12 mars 2025.", "automation": "decision_support",
        "kind": "rules", "public_concerned": "Familles résidentes",
        "parameters": "Quartier | 30 % | Proximité du domicile\nFratrie | 20 %",
        "operations": "Un score est calculé puis la commission attribue les places.",
        "human_oversight": "La commission d'attribution décide.",
        "appeal": "Recours gracieux auprès du maire.", "status": "draft",
        "doc_diagram": "https://example.fr/creches.png"}
    return {**base, **fields}


def test_describe_then_publish_an_algorithm(client: TestClient, db: Database) -> None:
    with db.unit_of_work() as s:
        org = f.organisation(s, "Métropole de Test")
        used = f.dataset(s, org, "Demandes de place en crèche")
        f.account(s, "ref@example.fr", roles=[(org, Role.DATA_REFERENT, None)])
        f.account(s, "agd@example.fr", roles=[(org, Role.CHIEF_DATA_OFFICER, None)])
        used_id = used.id

    token = login(client, "ref@example.fr")
    assert "Demandes de place en crèche" in client.get("/admin/algorithmes/nouveau").text
    bad = client.post("/admin/algorithmes/nouveau", data=_form(
        token, name="", source_code_url="ftp://example.fr/code"))
    assert bad.status_code == 422
    assert 'href="#f-name">Nom de l&#39;algorithme : obligatoire.' in bad.text
    assert "n&#39;est pas une adresse web" in bad.text
    assert 'value="Attribution' not in bad.text and "Proximité du domicile" in bad.text

    created = client.post("/admin/algorithmes/nouveau",
                          data={**_form(token), "dataset_ids": str(used_id)},
                          follow_redirects=False)
    assert created.status_code == 303, created.text
    url = created.headers["location"]
    sheet = client.get(url).text
    assert "ALG-001" in sheet and "Quartier | 30 % | Proximité du domicile" in sheet
    assert "Seuls les administrateurs" in sheet  # the referent is told who publishes
    refused = client.post(url, data=_form(token, status="published", published_on="2026-04-01"))
    assert refused.status_code == 403

    token = login(client, "agd@example.fr")
    done = client.post(url, data={**_form(token, status="published", published_on="2026-04-01"),
                                  "dataset_ids": str(used_id)}, follow_redirects=False)
    assert done.status_code == 303, done.text
    sheet = client.get(url).text
    assert "voir la page publique" in sheet and ">updated<" in sheet and ">created<" in sheet
    listing = client.get("/admin/algorithmes?statut=published&q=creche").text
    assert "Attribution des places en crèche" in listing
    assert "Aucun algorithme" in client.get("/admin/algorithmes?statut=draft").text
    public = client.get(url.replace("/admin/algorithmes", "/algorithmes")).text
    assert "Fratrie" in public and "https://example.fr/creches.png" in public


def test_record_and_answer_a_request_for_the_rules(client: TestClient, db: Database) -> None:
    from patrimoine.access.principal import Principal
    from patrimoine.transparency import service
    with db.unit_of_work() as s:
        org = f.organisation(s, "Métropole de Test")
        algorithm = service.create_algorithm(s, Principal.system("t"), f.full_algorithm(org.id))
        f.account(s, "dpo@example.fr", roles=[(org, Role.DPO, None)])
        algorithm_id = algorithm.id
    token = login(client, "dpo@example.fr")
    created = client.post("/admin/algorithmes/demandes/nouvelle", data={
        "csrf_token": token, "algorithm_id": str(algorithm_id), "requester": "Camille Martin",
        "received_on": "2026-01-31", "status": "received"}, follow_redirects=False)
    assert created.status_code == 303, created.text
    url = created.headers["location"]
    sheet = client.get(url).text
    assert "Réponse due le 02/03/2026" in sheet
    assert "Quotient familial (pondération : Détermine la tranche)" in sheet  # drafted
    incomplete = client.post(url, data={
        "csrf_token": token, "algorithm_id": str(algorithm_id), "requester": "Camille Martin",
        "received_on": "2026-01-31", "status": "answered", "answered_on": "2026-02-20",
        "contribution": "Entièrement automatisée.", "operations": "Calcul du quotient."})
    assert incomplete.status_code == 422 and "il manque" in incomplete.text
    done = client.post(url, data={
        "csrf_token": token, "algorithm_id": str(algorithm_id), "requester": "Camille Martin",
        "received_on": "2026-01-31", "status": "answered", "answered_on": "2026-02-20",
        "contribution": "Entièrement automatisée.", "operations": "Calcul du quotient.",
        "data_and_sources": "Avis d'imposition.", "parameters_applied": "Quotient : 412 €."},
        follow_redirects=False)
    assert done.status_code == 303, done.text
    assert "3. Les paramètres de traitement" in client.get(url).text
    assert "DRA-2026-001" in client.get("/admin/algorithmes/demandes").text


def test_general_interest_pages_follow_the_state_machine(client: TestClient,
                                                         db: Database) -> None:
    with db.unit_of_work() as s:
        org = f.organisation(s, "Métropole de Test")
        f.account(s, "agd@example.fr", roles=[(org, Role.CHIEF_DATA_OFFICER, None)])
    token = login(client, "agd@example.fr")
    base = {"csrf_token": token, "organisation": "metropole-de-test",
            "holder": "Délégataire des parkings", "holder_kind": "concession_holder",
            "data_asked": "Occupation horaire", "basis": "concession", "asked_on": "2026-01-10",
            "state": "asked"}
    bad = client.post("/admin/algorithmes/interet-general/nouvelle",
                      data={**base, "holder_siren": "123456789"})
    assert bad.status_code == 422 and "n&#39;est pas un numéro SIREN valide" in bad.text
    created = client.post("/admin/algorithmes/interet-general/nouvelle", data=base,
                          follow_redirects=False)
    assert created.status_code == 303, created.text
    url = created.headers["location"]
    assert "États suivants possibles : in_discussion, agreed, refused" in client.get(url).text
    refused = client.post(url, data={**base, "state": "refused", "decided_on": "2026-02-01",
                                     "public": "true", "public_summary": "Refus motivé."},
                          follow_redirects=False)
    assert refused.status_code == 303, refused.text
    assert "Refus motivé." in client.get("/donnees-interet-general").text
    back = client.post(url, data={**base, "state": "asked"})
    assert back.status_code == 422 and "c&#39;est un état final" in back.text
    assert "DIG-2026-001" in client.get("/admin/algorithmes/interet-general?etat=refused").text
