"""What waits for each person: the to-do list from the live tables, the notifications the
workflows send, and the personal-data gate holding a request back until the DPO decides."""

from __future__ import annotations

import re
from datetime import timedelta
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from patrimoine.access.models import Account, Role
from patrimoine.access.principal import Principal
from patrimoine.bootstrap import Services
from patrimoine.core.clock import now
from patrimoine.core.errors import Invalid
from patrimoine.datastore import versions
from patrimoine.inventory.models import Dataset, Organisation
from patrimoine.notifications import service as notifications
from patrimoine.protection import breaches, rights_requests
from patrimoine.protection.deadlines import legal_today
from patrimoine.protection.findings import service as findings
from patrimoine.protection.findings.models import NOT_PERSONAL
from patrimoine.publication import service as publication
from patrimoine.retention.models import EliminationSlip, SlipStatus
from patrimoine.worklist import service as worklist
from tests import factories as f
from tests.factories import CDO, REFERENT, csrf_of, ligerac, login

DPO = "dpo@ligerac.fr"
EMAILS_CSV = "association;contact;montant\n" + "".join(
    f"Club {i};president{i}@club{i}.fr;{100 + i}\n" for i in range(40))


def _principal(services: Services, email: str) -> Principal:
    with services.db.session() as s:
        return Principal.of(s.scalars(select(Account).where(Account.email == email)).one())


def _account_id(services: Services, email: str) -> int:
    return _principal(services, email).account_id or 0


def _items(services: Services, email: str) -> list[worklist.Item]:
    with services.db.session() as s:
        found = worklist.items(s, _principal(services, email))
        assert worklist.count(s, _principal(services, email)) == len(found)
        return found


def _titles(services: Services, email: str, category: str) -> list[str]:
    return [i.title for i in _items(services, email) if i.category == category]


@pytest.fixture
def town(services: Services) -> str:
    """Ligérac with a DPO; returns the slug of the counters' dataset."""
    world = ligerac(services.db)
    with services.db.unit_of_work() as s:
        ville = s.get(Organisation, world.org_id)
        assert ville is not None
        f.account(s, DPO, roles=[(ville, Role.DPO, None)])
    return world.slug


def _load(services: Services, slug: str, path: Path) -> None:
    referent = _principal(services, REFERENT)
    with services.db.unit_of_work() as s:
        dataset = s.scalars(select(Dataset).where(Dataset.slug == slug)).one()
        publication.add_version(s, services.settings, referent, dataset, path)


def test_a_blocked_version_waits_for_the_dpo_then_goes_to_the_cdo(
        services: Services, town: str, tmp_path: Path) -> None:
    _load(services, town, f.write(tmp_path, "subventions.csv", EMAILS_CSV))
    referent = _principal(services, REFERENT)
    # The gate blocks: the request is refused, saying where the DPO decides.
    with services.db.unit_of_work() as s:
        dataset = s.scalars(select(Dataset).where(Dataset.slug == town)).one()
        with pytest.raises(Invalid) as refused:
            publication.request_publication(s, referent, dataset, "Merci", services.settings)
    assert "ne peut pas être soumise" in refused.value.message
    assert f"/admin/inventaire/{town}/donnees-personnelles" in refused.value.message
    assert any("contact" in e for e in refused.value.errors)
    # It lands on the DPO's list, and on the referent's as a version to fix; not the CDO's.
    dpo_items = [i for i in _items(services, DPO)
                 if i.category == "Données personnelles à décider"]
    assert [(i.title, i.link) for i in dpo_items] == [
        ("« Comptages vélo », version 1", f"/admin/inventaire/{town}/donnees-personnelles")]
    assert _titles(services, REFERENT,
                   "Versions bloquées par le contrôle des données personnelles") == [
        "« Comptages vélo », version 1"]
    assert _titles(services, CDO, "Publications à examiner") == []

    # The DPO decides: nothing blocks any more, the request goes through, the CDO is told.
    dpo = _principal(services, DPO)
    with services.db.unit_of_work() as s:
        dataset = s.scalars(select(Dataset).where(Dataset.slug == town)).one()
        version = versions.latest_version(s, dataset)
        assert version is not None
        findings.decide(s, dpo, dataset, version, "contact", "email", NOT_PERSONAL,
                        "Adresses publiques des clubs.")
    assert _titles(services, DPO, "Données personnelles à décider") == []
    with services.db.unit_of_work() as s:
        dataset = s.scalars(select(Dataset).where(Dataset.slug == town)).one()
        publication.request_publication(s, referent, dataset, "Merci", services.settings)
    assert _titles(services, CDO, "Publications à examiner") == ["« Comptages vélo »"]
    with services.db.session() as s:
        got = notifications.list_notifications(s, _account_id(services, CDO))
        assert [(n.kind, n.link) for n in got] == [
            ("publication_requested", f"/admin/inventaire/{town}/publication/revue")]
        assert "Message : Merci" in got[0].body
        # The author is not notified of their own request; the DPO is not concerned.
        assert notifications.unread_count(s, _account_id(services, REFERENT)) == 0
        assert notifications.unread_count(s, _account_id(services, DPO)) == 0

    # Refused: the referent is told why, and finds it on the to-do list.
    cdo = _principal(services, CDO)
    with services.db.unit_of_work() as s:
        dataset = s.scalars(select(Dataset).where(Dataset.slug == town)).one()
        publication.reject_request(s, cdo, dataset, "Renommez la colonne montant.")
    assert _titles(services, CDO, "Publications à examiner") == []
    refused_items = [i for i in _items(services, REFERENT)
                     if i.category == "Publications refusées à reprendre"]
    assert [(i.link, i.detail) for i in refused_items] == [
        (f"/admin/inventaire/{town}/publication", "Motif : Renommez la colonne montant.")]
    with services.db.session() as s:
        got = notifications.list_notifications(s, _account_id(services, REFERENT))
        assert [n.kind for n in got] == ["publication_refused"]
        assert got[0].body == "Motif : Renommez la colonne montant."
    # Asked again, the refusal leaves the referent's list.
    with services.db.unit_of_work() as s:
        dataset = s.scalars(select(Dataset).where(Dataset.slug == town)).one()
        publication.request_publication(s, referent, dataset, "", services.settings)
    assert _titles(services, REFERENT, "Publications refusées à reprendre") == []


def test_a_breach_notifies_the_dpo_at_once_and_deadlines_show(services: Services,
                                                             town: str) -> None:
    cdo = _principal(services, CDO)
    with services.db.session() as s:
        org_id = s.scalars(select(Dataset.organisation_id).where(Dataset.slug == town)).one()
    with services.db.unit_of_work() as s:
        breach = breaches.create_breach(s, cdo, breaches.BreachInput(
            organisation_id=org_id, title="Courriel au mauvais destinataire",
            aware_at=now() - timedelta(hours=2), natures=["confidentiality"]))
        breach_id = breach.id
        today = legal_today()
        near = rights_requests.create_request(s, cdo, rights_requests.RequestInput(
            organisation_id=org_id, requester="Jeanne Martin", kind="access",
            received_on=today - timedelta(days=27)))
        rights_requests.create_request(s, cdo, rights_requests.RequestInput(
            organisation_id=org_id, requester="Paul Durand", kind="access",
            received_on=today))
        near_ref, near_id = near.reference, near.id
    with services.db.session() as s:
        got = notifications.list_notifications(s, _account_id(services, DPO))
        assert [(n.kind, n.link) for n in got] == [
            ("breach", f"/admin/protection/violations/{breach_id}")]
        assert "Notification à la CNIL avant le" in got[0].body
    dpo_items = _items(services, DPO)
    breach_items = [i for i in dpo_items if i.category == "Violations de données à notifier"]
    assert len(breach_items) == 1 and breach_items[0].urgent
    assert dpo_items[0] == breach_items[0]  # urgent first
    requests = [i for i in dpo_items if i.category == "Demandes d'exercice de droits à échéance"]
    # Only the request near its one-month deadline, not the one received today.
    assert [(i.title, i.link) for i in requests] == [
        (f"Demande {near_ref}", f"/admin/protection/demandes/{near_id}")]
    # A referent has none of the DPO's work.
    assert not [i for i in _items(services, REFERENT)
                if i.category.startswith(("Violations", "Demandes"))]


def test_slips_awaiting_the_visa_and_incomplete_entries(services: Services, town: str) -> None:
    with services.db.unit_of_work() as s:
        org_id = s.scalars(select(Dataset.organisation_id).where(Dataset.slug == town)).one()
        slip = EliminationSlip(organisation_id=org_id, reference="BE-2026-01",
                               status=SlipStatus.AWAITING_VISA, service="Mobilités",
                               created_by="agd")
        s.add(slip)
        s.flush()
        slip_id = slip.id
        pools = s.scalars(select(Dataset).where(Dataset.slug == "entrees-des-piscines")).one()
        pools.theme = None
    cdo_items = _items(services, CDO)
    slips = [i for i in cdo_items
             if i.category == "Bordereaux d'élimination en attente du visa des archives"]
    assert [(i.title, i.link) for i in slips] == [
        ("Bordereau BE-2026-01", f"/admin/conservation/bordereaux/{slip_id}")]
    incomplete = [i for i in cdo_items if i.category == "Fiches incomplètes"]
    assert [(i.title, i.detail) for i in incomplete] == [
        ("« Entrées des piscines »", "À compléter : thème")]
    # The referent of Mobilités edits neither the pools' entry nor the slips.
    assert _titles(services, REFERENT, "Fiches incomplètes") == []
    assert _titles(services, REFERENT,
                   "Bordereaux d'élimination en attente du visa des archives") == []
    assert _titles(services, "referent.sports@ligerac.fr", "Fiches incomplètes") == [
        "« Entrées des piscines »"]


def test_pages_of_the_todo_list_and_notifications(client: TestClient, services: Services,
                                                  town: str, tmp_path: Path) -> None:
    _load(services, town, f.write(tmp_path, "subventions.csv", EMAILS_CSV))
    token = login(client, REFERENT)
    status = client.get(f"/admin/inventaire/{town}/publication").text
    assert f'href="/admin/inventaire/{town}/donnees-personnelles">Voir les constats' in status
    assert re.search(r'disabled aria-describedby="controle">Demander la publication', status)
    r = client.post(f"/admin/inventaire/{town}/publication/demander",
                    data={"csrf_token": token, "note": ""}, follow_redirects=False)
    assert "ne peut pas être soumise" in client.get(r.headers["location"]).text

    token = login(client, DPO)
    todo = client.get("/admin/a-faire").text
    assert f'href="/admin/inventaire/{town}/donnees-personnelles">« Comptages vélo »' in todo
    assert client.get(f"/admin/inventaire/{town}/donnees-personnelles").status_code == 200

    # A breach recorded by the CDO: the DPO's header counts it, opening marks it read.
    cdo = _principal(services, CDO)
    with services.db.unit_of_work() as s:
        org_id = s.scalars(select(Dataset.organisation_id).where(Dataset.slug == town)).one()
        breach_id = breaches.create_breach(s, cdo, breaches.BreachInput(
            organisation_id=org_id, title="Perte d'un ordinateur portable",
            aware_at=now() - timedelta(hours=1), natures=["availability"])).id
    page = client.get("/admin/notifications").text
    assert 'Notifications <span class="badge">1<' in page
    assert "Violation de données VIO-" in page
    note_id = int(re.search(r'/admin/notifications/(\d+)/ouvrir', page).group(1))  # type: ignore[union-attr]
    r = client.post(f"/admin/notifications/{note_id}/ouvrir", data={"csrf_token": token},
                    follow_redirects=False)
    assert r.headers["location"] == f"/admin/protection/violations/{breach_id}"
    assert 'Notifications <span class="badge">' not in client.get("/admin/notifications").text
    # Someone else's notification is not found; the form needs its CSRF token.
    assert client.post(f"/admin/notifications/{note_id + 999}/ouvrir",
                       data={"csrf_token": token}).status_code == 404
    assert client.post(f"/admin/notifications/{note_id}/ouvrir").status_code == 403

    # E-mail choices per kind: stored, shown, a value not offered is refused in French.
    form = client.get("/admin/notifications/preferences").text
    assert 'name="kind:breach" value="immediate" checked' in form
    assert 'name="kind:publication_requested" value="digest" checked' in form
    r = client.post("/admin/notifications/preferences",
                    data={"csrf_token": csrf_of(form), "kind:breach": "none",
                          "kind:publication_requested": "immediate"}, follow_redirects=False)
    assert r.status_code == 303
    form = client.get(r.headers["location"]).text
    assert 'name="kind:breach" value="none" checked' in form
    assert 'name="kind:publication_requested" value="immediate" checked' in form
    r = client.post("/admin/notifications/preferences",
                    data={"csrf_token": token, "kind:breach": "toujours"})
    assert r.status_code == 422 and "Choix de notification inconnu" in r.text
