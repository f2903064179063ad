"""The to-do list of one person, computed from the live tables (nothing is stored): each
item says what waits, and links to the back-office page where it is done.

- publication requests to review: who may publish (chief data officers, administrators);
- personal-data findings to decide, rights requests and breaches near their legal deadline:
  the DPO;
- refused publication requests and versions blocked by the personal-data gate: the referents
  who prepare the dataset;
- elimination slips waiting for the archives' visa: who manages retention;
- deviations from the charter that expired while their items still fail: the holders of
  the role that approved them;
- inventory entries lacking a mandatory field (description, theme): their editors.

`count()` runs on every back-office page (the header's figure): each part is one small
query, skipped at once for a principal without the role it concerns.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlalchemy import ColumnElement, Subquery, func, or_, select, true
from sqlalchemy.orm import InstrumentedAttribute, Session

from patrimoine.access.models import Role
from patrimoine.access.permissions import (
    can_edit_dataset,
    can_publish,
    editable_datasets,
    retention_managed_organisations,
)
from patrimoine.access.principal import Principal
from patrimoine.charter import deviations
from patrimoine.core.clock import now
from patrimoine.datastore.models import DatasetVersion
from patrimoine.inventory.models import Dataset, DatasetChange
from patrimoine.protection import breaches, rights_requests
from patrimoine.protection.deadlines import legal_today
from patrimoine.protection.gate import holds_unresolved_findings
from patrimoine.protection.register.models import Breach, RightsRequest
from patrimoine.protection.register.vocabulary import CLOSED_REQUEST_STATUSES
from patrimoine.publication import service as publication
from patrimoine.retention.models import EliminationSlip, SlipStatus

# A rights request shows on the DPO's list this many days before its deadline.
REQUEST_NOTICE_DAYS = 10
# Incomplete entries listed one by one; beyond, one item leads to the inventory.
INCOMPLETE_SHOWN = 20
WORKFLOW_ACTIONS = ("publication_requested", "publication_withdrawn", "publication_rejected",
                    "published")


@dataclass(frozen=True)
class Item:
    category: str  # French heading of the group
    title: str
    link: str
    detail: str = ""
    due: date | datetime | None = None
    urgent: bool = False


def _orgs(p: Principal, *roles: Role) -> list[int] | None:
    """Organisations where p holds one of `roles`; None (every one) for an instance admin."""
    if p.is_superadmin:
        return None
    return sorted(o for o in p.roles if p.has_role(o, *roles))


def _in(column: InstrumentedAttribute[int], orgs: list[int] | None) -> ColumnElement[bool]:
    return true() if orgs is None else column.in_(orgs)


def _reviews(session: Session, p: Principal) -> list[Item]:
    orgs = _orgs(p, Role.ADMINISTRATOR, Role.CHIEF_DATA_OFFICER)
    if orgs == []:
        return []
    return [Item("Publications à examiner", f"« {r.dataset.title} »",
                 publication.review_link(r.dataset),
                 f"Version {r.request.version}, demandée par {r.request.by.split(' <')[0]}",
                 due=r.request.at)
            for r in publication.pending_requests(session, p)]


def _latest_versions() -> Subquery:
    return (select(DatasetVersion.dataset_id, func.max(DatasetVersion.number).label("number"))
            .group_by(DatasetVersion.dataset_id).subquery())


def _blocked(session: Session, orgs: list[int] | None) -> list[tuple[Dataset, int]]:
    """Datasets of `orgs` whose latest version holds unresolved personal-data findings."""
    latest = _latest_versions()
    rows = session.execute(
        select(Dataset, DatasetVersion.number)
        .join(latest, latest.c.dataset_id == Dataset.id)
        .join(DatasetVersion, (DatasetVersion.dataset_id == Dataset.id)
              & (DatasetVersion.number == latest.c.number))
        .where(_in(Dataset.organisation_id, orgs), holds_unresolved_findings())
        .order_by(Dataset.title))
    return [(d, n) for d, n in rows]


def _findings(session: Session, p: Principal) -> list[Item]:
    orgs = _orgs(p, Role.DPO)
    if orgs == []:
        return []
    return [Item("Données personnelles à décider", f"« {d.title} », version {n}",
                 publication.findings_link(d),
                 "Des colonnes signalées attendent votre décision : la publication est "
                 "bloquée.")
            for d, n in _blocked(session, orgs)]


def _requests(session: Session, p: Principal) -> list[Item]:
    orgs = _orgs(p, Role.DPO)
    if orgs == []:
        return []
    today = legal_today()
    found = session.scalars(select(RightsRequest).where(
        _in(RightsRequest.organisation_id, orgs),
        RightsRequest.status.not_in(CLOSED_REQUEST_STATUSES)))
    items = []
    for r in found:
        c = rights_requests.clock(r, today)
        if c.days_left is not None and c.days_left <= REQUEST_NOTICE_DAYS:
            late = c.days_left < 0
            items.append(Item(
                "Demandes d'exercice de droits à échéance", f"Demande {r.reference}",
                f"/admin/protection/demandes/{r.id}",
                ("En retard : " if late else "Réponse due ") + f"le {c.deadline:%d/%m/%Y}",
                due=c.deadline, urgent=late or c.days_left <= 3))
    return sorted(items, key=lambda i: str(i.due))


def _breaches(session: Session, p: Principal) -> list[Item]:
    orgs = _orgs(p, Role.DPO)
    if orgs == []:
        return []
    at = now()
    items = []
    for b in session.scalars(select(Breach).where(_in(Breach.organisation_id, orgs),
                                                  Breach.closed_at.is_(None))):
        c = breaches.clock(b, at)
        if c.to_notify:
            items.append(Item("Violations de données à notifier", f"Violation {b.reference}",
                              f"/admin/protection/violations/{b.id}",
                              c.label, due=c.deadline, urgent=True))
    return items


def _referent_orgs(p: Principal) -> list[int]:
    return sorted(o for o in p.roles if p.has_role(o, Role.DATA_REFERENT))


def _refused(session: Session, p: Principal) -> list[Item]:
    orgs = _referent_orgs(p)
    if not orgs:
        return []
    last = (select(func.max(DatasetChange.id))
            .where(DatasetChange.action.in_(WORKFLOW_ACTIONS))
            .group_by(DatasetChange.dataset_id))
    rows = session.execute(
        select(Dataset, DatasetChange)
        .join(DatasetChange, DatasetChange.dataset_id == Dataset.id)
        .where(DatasetChange.id.in_(last), DatasetChange.action == "publication_rejected",
               Dataset.organisation_id.in_(orgs)))
    items = []
    for dataset, change in rows:
        if can_edit_dataset(p, dataset) and not can_publish(p, dataset):
            reason = (change.changes or {}).get("reason", [None, ""])[1] or ""
            items.append(Item("Publications refusées à reprendre", f"« {dataset.title} »",
                              publication.status_link(dataset), f"Motif : {reason}",
                              due=change.at))
    return items


def _gated(session: Session, p: Principal) -> list[Item]:
    orgs = _referent_orgs(p)
    if not orgs:
        return []
    return [Item("Versions bloquées par le contrôle des données personnelles",
                 f"« {d.title} », version {n}", publication.findings_link(d),
                 "Anonymisez les colonnes signalées, ou attendez la décision du DPO.")
            for d, n in _blocked(session, orgs)
            if can_edit_dataset(p, d) and not p.has_role(d.organisation_id, Role.DPO)]


def _slips(session: Session, p: Principal) -> list[Item]:
    orgs = retention_managed_organisations(p)
    if orgs == []:
        return []
    found = session.scalars(select(EliminationSlip).where(
        _in(EliminationSlip.organisation_id, orgs),
        EliminationSlip.status == SlipStatus.AWAITING_VISA).order_by(EliminationSlip.created_at))
    return [Item("Bordereaux d'élimination en attente du visa des archives",
                 f"Bordereau {s.reference}", f"/admin/conservation/bordereaux/{s.id}",
                 "Enregistrez le visa (ou le refus) du service d'archives.", due=s.created_at,
                 urgent=now() - s.created_at > timedelta(days=60))
            for s in found]


def _incomplete(session: Session, p: Principal) -> list[Item]:
    if not p.is_superadmin and not any(
            p.has_role(o, Role.ADMINISTRATOR, Role.CHIEF_DATA_OFFICER, Role.DATA_REFERENT)
            for o in p.roles):
        return []
    lacking = or_(Dataset.description == "", Dataset.theme.is_(None), Dataset.theme == "")
    where = (editable_datasets(p), lacking)
    total = session.scalar(select(func.count()).select_from(Dataset).where(*where)) or 0
    items = []
    for d in session.scalars(select(Dataset).where(*where).order_by(Dataset.title)
                             .limit(INCOMPLETE_SHOWN)):
        missing = [name for name, empty in (
            ("description", not (d.description or "").strip()),
            ("thème", not (d.theme or "").strip()),
        ) if empty]
        items.append(Item("Fiches incomplètes", f"« {d.title} »",
                          f"/admin/inventaire/{d.slug}/modifier",
                          "À compléter : " + ", ".join(missing)))
    if total > INCOMPLETE_SHOWN:
        items.append(Item("Fiches incomplètes",
                          f"… et {total - INCOMPLETE_SHOWN} autres fiches incomplètes",
                          "/admin/inventaire"))
    return items


def _deviations(session: Session, p: Principal) -> list[Item]:
    if not p.is_superadmin and not any(
            p.has_role(o, Role.CHIEF_DATA_OFFICER, Role.DPO, Role.ADMINISTRATOR)
            for o in p.roles):
        return []
    today = now().date()
    return [Item("Écarts à la charte expirés", f"{d.scope} — règle « {d.rule_id} »",
                 f"/admin/charte/ecarts#ecart-{d.id}",
                 f"Écart expiré le {d.expires_on:%d/%m/%Y} et toujours en échec : "
                 "renouvelez-le ou corrigez ce qu'il couvrait.", due=d.expires_on, urgent=True)
            for d in deviations.expired_to_review(session, p, today)]


PARTS = (_breaches, _reviews, _findings, _requests, _refused, _gated, _slips, _deviations,
         _incomplete)


def items(session: Session, p: Principal) -> list[Item]:
    """Everything waiting for `p`, urgent first, grouped by category."""
    if p.is_anonymous:
        return []
    found = [item for part in PARTS for item in part(session, p)]
    order = {part: i for i, part in enumerate(dict.fromkeys(i.category for i in found))}
    return sorted(found, key=lambda i: (not i.urgent, order[i.category]))


def count(session: Session, p: Principal) -> int:
    return len(items(session, p))
