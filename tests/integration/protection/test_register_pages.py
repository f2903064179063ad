"""Back-office pages of the GDPR register: dashboard, register with export and import,
activity sheet, requests and breaches; who sees what."""

from __future__ import annotations

import html
from datetime import UTC, date, datetime, timedelta

from fastapi.testclient import TestClient

from patrimoine.access.models import Role
from patrimoine.access.principal import Principal
from patrimoine.core.db import Database
from patrimoine.protection import breaches, dpia, rights_requests
from patrimoine.protection.register import service as register
from patrimoine.protection.register import spreadsheet
from tests import factories as f
from tests.factories import csrf_of, full_activity, login

SYSTEM = Principal.system("tests")


def _text(client: TestClient, url: str) -> str:
    r = client.get(url)
    assert r.status_code == 200, r.text
    return html.unescape(r.text)


def test_pages(client: TestClient, db: Database) -> None:
    with db.unit_of_work() as s:
        a, b = f.organisation(s, "Commune A"), f.organisation(s, "Commune B")
        activity = register.create_activity(s, SYSTEM, full_activity(a.id))
        register.create_activity(s, SYSTEM, full_activity(b.id, name="Traitement de B"))
        done = register.create_activity(s, SYSTEM, full_activity(a.id, reference="T-0002",
                                                                 name="Portage de repas"))
        dpia.create_dpia(s, SYSTEM, done, dpia.DpiaInput(
            started_on=date(2026, 1, 5), risks=[{"kind": "disappearance", "likelihood": 2,
                                                 "severity": 4}]))
        rights_requests.create_request(s, SYSTEM, rights_requests.RequestInput(
            organisation_id=a.id, kind="erasure", requester="Paul",
            received_on=date.today() - timedelta(days=40)))
        breaches.create_breach(s, SYSTEM, breaches.BreachInput(
            organisation_id=a.id, title="Rançongiciel", natures=["availability"],
            aware_at=datetime.now(UTC) - timedelta(hours=10), risk="high"))
        f.account(s, "dpo@a.example", roles=[(a, Role.DPO, None)])
        f.account(s, "agent@a.example", roles=[(a, Role.AGENT, None)])
        activity_id, slug = activity.id, a.slug
        export = spreadsheet.export_register(s, SYSTEM, a, "csv")

    login(client, "dpo@a.example")
    board = _text(client, "/admin/protection")
    assert "Protection des données" in board and "Commune B" not in board
    assert "Rançongiciel" in board and "personnes à informer" in board
    assert "Gestion des dossiers d'aide sociale facultative" in board  # its DPIA is missing
    page = client.get(f"/admin/protection/registre?organisation={slug}")
    listing = html.unescape(page.text)
    assert "Requise et manquante" in listing and "En cours" in listing
    assert "format=xlsx" in listing
    sheet = _text(client, f"/admin/protection/traitements/{activity_id}")
    assert "Éditeur Solis — contrat MAR-2024-017" in sheet
    assert "5 ans à compter de la clôture du dossier" in sheet
    assert "Analyse d'impact requise et manquante" in sheet
    requests_page = _text(client, "/admin/protection/demandes")
    assert "DDP-" in requests_page and "en retard de" in requests_page
    assert "Rançongiciel" in _text(client, "/admin/protection/violations")

    # Import from the back-office: a simulation, then a file with an error.
    token = csrf_of(page.text)
    r = client.post("/admin/protection/registre/import",
                    data={"csrf_token": token, "dry_run": "1"},
                    files={"file": ("registre.csv", export)})
    assert r.status_code == 200
    assert "Simulation" in r.text and "inchangé" in html.unescape(r.text)
    bad = "Organisation;Nom du traitement;Base légale\nCommune A;X;Au petit bonheur\n"
    r = client.post("/admin/protection/registre/import", data={"csrf_token": token},
                    files={"file": ("faux.csv", bad.encode())})
    assert r.status_code == 422
    assert "Ligne 2, colonne « Base légale (article 6) »" in html.unescape(r.text)

    client.cookies.clear()
    login(client, "agent@a.example")
    listing = _text(client, "/admin/protection/registre")
    assert "Requise et manquante" in listing and "Importer un registre" not in listing
    assert "réservées au délégué" in _text(client, "/admin/protection/demandes")
    assert "Rançongiciel" not in _text(client, "/admin/protection/violations")
    client.cookies.clear()
    assert client.get("/admin/protection", follow_redirects=False).status_code == 303


def test_request_and_breach_forms(client: TestClient, db: Database) -> None:
    with db.unit_of_work() as s:
        a = f.organisation(s, "Commune A")
        f.account(s, "dpo@a.example", roles=[(a, Role.DPO, None)])
        f.account(s, "agent@a.example", roles=[(a, Role.AGENT, None)])
    login(client, "dpo@a.example")
    form = client.get("/admin/protection/demandes/nouvelle")
    token = csrf_of(form.text)
    base = {"csrf_token": token, "organisation": "commune-a", "kind": "access",
            "requester": "Jeanne Martin", "received_on": "2026-01-31", "status": "received"}
    r = client.post("/admin/protection/demandes/nouvelle", data=base, follow_redirects=False)
    assert r.status_code == 303
    # Saturday 28 February 2026 rolls to Monday 2 March (Regulation 1182/71 art. 3(4)).
    assert "réponse due le 02/03/2026" in _text(client, "/admin/protection/demandes")
    with db.session() as s:
        request_id = rights_requests.list_requests(s, SYSTEM)[0].id
    late = {**base, "extension_informed_on": "2026-03-03", "extension_reasons": "Volume"}
    r = client.post(f"/admin/protection/demandes/{request_id}", data=late)
    assert r.status_code == 422
    assert "Prolongation refusée" in html.unescape(r.text)
    refused = {**base, "status": "refused", "answered_on": "2026-02-20", "answer": "Non.",
               "refusal_reason": "Demande abusive"}
    r = client.post(f"/admin/protection/demandes/{request_id}", data=refused)
    assert r.status_code == 422 and "réclamation auprès de la CNIL" in html.unescape(r.text)
    r = client.post(f"/admin/protection/demandes/{request_id}", data={
        **refused, "answer": "Non. Vous pouvez introduire une réclamation auprès de la CNIL."},
        follow_redirects=False)
    assert r.status_code == 303
    r = client.post("/admin/protection/demandes/nouvelle", data={**base, "received_on": "x"})
    assert r.status_code == 422 and "date invalide" in html.unescape(r.text)

    breach = {"csrf_token": token, "organisation": "commune-a", "title": "Vol d'un ordinateur",
              "aware_at": "2026-03-02T09:00", "natures": ["confidentiality", "availability"],
              "risk": "risk", "notified_at": "2026-03-06T10:00"}
    r = client.post("/admin/protection/violations/nouvelle", data=breach)
    assert r.status_code == 422 and "motifs du retard" in html.unescape(r.text)
    r = client.post("/admin/protection/violations/nouvelle", data={**breach, "natures": []})
    assert r.status_code == 422 and "au moins une valeur" in html.unescape(r.text)
    r = client.post("/admin/protection/violations/nouvelle", data={
        **breach, "late_notification_reasons": "Découverte un vendredi soir"},
        follow_redirects=False)
    assert r.status_code == 303
    with db.session() as s:
        recorded = breaches.list_breaches(s, SYSTEM)[0]
        # Paris time in winter is UTC+1.
        assert recorded.aware_at == datetime(2026, 3, 2, 8, 0, tzinfo=UTC)
        assert recorded.natures == ["confidentiality", "availability"]
    assert "Vol d" in _text(client, f"/admin/protection/violations/{recorded.id}")

    client.cookies.clear()
    login(client, "agent@a.example")
    assert client.get("/admin/protection/demandes/nouvelle").status_code == 403
    assert client.get(f"/admin/protection/demandes/{request_id}").status_code == 404


def test_activity_form(client: TestClient, db: Database) -> None:
    with db.unit_of_work() as s:
        a = f.organisation(s, "Commune A")
        f.account(s, "dpo@a.example", roles=[(a, Role.DPO, None)])
        f.account(s, "agent@a.example", roles=[(a, Role.AGENT, None)])
    login(client, "dpo@a.example")
    token = csrf_of(client.get("/admin/protection/traitements/nouveau").text)
    data = {
        "csrf_token": token, "organisation": "commune-a", "name": "Cantine scolaire",
        "status": "active", "purpose": "Inscrire et facturer", "legal_basis": "public_task",
        "data_subjects": "Enfants\nParents", "data_categories": "État civil\nVie personnelle",
        "special_categories": ["health"],
        "processors": "Éditeur | contrat : MAR-1",
        "retention_rules": "Toutes les données | durée : 1 an | à compter de : la fin de "
                           "l'année scolaire | sort final : Destruction",
        "dpia_criteria": ["vulnerable_persons"],
    }
    r = client.post("/admin/protection/traitements/nouveau", data=data)
    assert r.status_code == 422 and "condition de l'article 9.2" in html.unescape(r.text)
    r = client.post("/admin/protection/traitements/nouveau",
                    data={**data, "art9_condition": "h", "retention_rules": "1 an"})
    assert r.status_code == 422
    assert "Durées de conservation : valeur « 1 an » non reconnue" in html.unescape(r.text)
    r = client.post("/admin/protection/traitements/nouveau", data={**data, "art9_condition": "h"},
                    follow_redirects=False)
    assert r.status_code == 303, html.unescape(r.text)
    sheet_url = r.headers["location"]
    sheet = _text(client, sheet_url)
    assert "Analyse d'impact requise et manquante" in sheet
    # "la fin de l'année scolaire" is a usual wording of "the closure of the file".
    assert "1 an à compter de la clôture du dossier, puis destruction" in sheet
    edit = _text(client, f"{sheet_url}/modifier")
    # The form offers the fixed list of starting events.
    assert "« la fin de la relation ou du contrat », « la clôture du dossier »" in edit
    assert "Éditeur | contrat : MAR-1" in edit
    r = client.post(f"{sheet_url}/modifier", data={**data, "art9_condition": "h",
                                                   "name": "Restauration scolaire"},
                    follow_redirects=False)
    assert r.status_code == 303
    assert "Restauration scolaire" in _text(client, sheet_url)
    client.cookies.clear()
    login(client, "agent@a.example")
    assert client.get(f"{sheet_url}/modifier").status_code == 403
    assert client.get("/admin/protection/traitements/nouveau").status_code == 403


def test_dpia_form(client: TestClient, db: Database) -> None:
    with db.unit_of_work() as s:
        a = f.organisation(s, "Commune A")
        activity_id = register.create_activity(s, SYSTEM, full_activity(a.id)).id
        f.account(s, "dpo@a.example", roles=[(a, Role.DPO, None)])
    login(client, "dpo@a.example")
    url = f"/admin/protection/traitements/{activity_id}/aipd"
    token = csrf_of(client.get(url).text)
    base = {"csrf_token": token, "started_on": "2026-02-01", "decision": "pending",
            "illegitimate_access_likelihood": "3", "illegitimate_access_severity": "4",
            "measures": "Chiffrement\nHabilitations"}
    r = client.post(url, data={**base, "disappearance_likelihood": "2"})
    assert r.status_code == 422 and "vraisemblance et la gravité" in html.unescape(r.text)
    r = client.post(url, data={**base, "decision": "favourable", "decided_on": "2026-03-01",
                               "decision_by": "Le maire"})
    assert r.status_code == 422 and "avis du DPO" in html.unescape(r.text)
    r = client.post(url, data=base, follow_redirects=False)
    assert r.status_code == 303
    sheet = _text(client, f"/admin/protection/traitements/{activity_id}")
    assert "Analyse d'impact : en cours" in sheet and "élevé" in sheet
    with db.session() as s:
        dpia_id = register.get_activity(s, SYSTEM, activity_id).dpias[0].id
    assert "Habilitations" in _text(client, f"/admin/protection/aipd/{dpia_id}")
    r = client.post(f"/admin/protection/aipd/{dpia_id}", data={
        **base, "decision": "favourable", "decided_on": "2026-03-01", "decision_by": "Le maire",
        "dpo_opinion": "Favorable", "dpo_opinion_on": "2026-02-20"}, follow_redirects=False)
    assert r.status_code == 303
    assert "Analyse d'impact : réalisée" in _text(client, f"/admin/protection/traitements/"
                                                          f"{activity_id}")


def test_public_register_page(client: TestClient, db: Database) -> None:
    with db.unit_of_work() as s:
        a = f.organisation(s, "Commune A")
        hidden = register.create_activity(s, SYSTEM, full_activity(a.id, name="Traitement interne"))
        rights_requests.create_request(s, SYSTEM, rights_requests.RequestInput(
            organisation_id=a.id, kind="access", requester="Jeanne Secrète",
            received_on=date.today()))
    assert client.get("/organisations/commune-a/registre-rgpd").status_code == 404
    with db.unit_of_work() as s:
        register.create_activity(s, SYSTEM, full_activity(
            a.id, reference="T-0002", name="Aides facultatives", public=True))
        register.create_activity(s, SYSTEM, full_activity(
            a.id, reference="T-0003", name="Ancien traitement", public=True, status="ended"))
    page = _text(client, "/organisations/commune-a/registre-rgpd")
    assert "Aides facultatives" in page and "Mission d'intérêt public" in page
    assert "5 ans à compter de la clôture du dossier" in page
    assert "dpo@valdeloire.example" in page and "réclamation auprès" in page
    assert "Traitement interne" not in page and "Ancien traitement" not in page
    assert "Jeanne" not in page and "MAR-2024-017" not in page  # no contract details
    assert hidden.public is False
