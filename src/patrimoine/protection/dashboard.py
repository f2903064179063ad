"""What a DPO looks at first: missing DPIAs, overdue requests, breaches whose 72 hours run.

Counts cover the organisations the principal may see: the register of each (staff), and
requests and breaches (administrators, chief data officers and DPOs). A mutualised DPO
gets one line per organisation and a total.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from patrimoine.access.permissions import (
    can_handle_protection_cases,
    can_read_register,
    register_organisations,
)
from patrimoine.access.principal import Principal
from patrimoine.core.clock import now
from patrimoine.inventory.models import Organisation
from patrimoine.protection import breaches, dpia, rights_requests
from patrimoine.protection.breaches import NotificationState
from patrimoine.protection.deadlines import legal_today
from patrimoine.protection.dpia import DpiaState
from patrimoine.protection.register import service as register

COUNTERS = ("activities", "dpia_required", "dpia_missing", "dpia_in_progress",
            "requests_open", "requests_overdue", "breaches_open", "breaches_within_72h",
            "breaches_overdue", "persons_to_inform", "personal_datasets_unregistered")


def dashboard(session: Session, principal: Principal, organisation_id: int | None = None,
              at: datetime | None = None) -> dict[str, Any]:
    at = at or now()
    today = legal_today(at)
    scope = register_organisations(principal)
    orgs = session.scalars(select(Organisation).order_by(Organisation.name))
    visible = [o for o in orgs if (scope is None or o.id in scope)
               and (organisation_id is None or o.id == organisation_id)
               and can_read_register(principal, o.id)]
    per_org: dict[int, dict[str, int]] = defaultdict(lambda: dict.fromkeys(COUNTERS, 0))
    for org in visible:
        counts = per_org[org.id]
        for activity in register.list_activities(session, principal, organisation_id=org.id):
            counts["activities"] += 1
            state = dpia.assess(activity).state
            counts["dpia_required"] += state not in (DpiaState.NOT_REQUIRED, DpiaState.EXEMPTED)
            counts["dpia_missing"] += state == DpiaState.MISSING
            counts["dpia_in_progress"] += state == DpiaState.IN_PROGRESS
        counts["personal_datasets_unregistered"] = len(
            register.unregistered_personal_datasets(session, principal, org.id))
        if not can_handle_protection_cases(principal, org.id):
            continue
        for request in rights_requests.list_requests(session, principal, organisation_id=org.id):
            c = rights_requests.clock(request, today)
            counts["requests_open"] += c.days_left is not None
            counts["requests_overdue"] += c.overdue
        for breach in breaches.list_breaches(session, principal, organisation_id=org.id,
                                             open_only=True):
            b = breaches.clock(breach, at)
            counts["breaches_open"] += 1
            counts["breaches_within_72h"] += b.state == NotificationState.RUNNING
            counts["breaches_overdue"] += b.state == NotificationState.OVERDUE
            counts["persons_to_inform"] += b.persons_to_inform
    rows = [{"organisation_id": o.id, "organisation": o.name, "slug": o.slug,
             "cases_visible": can_handle_protection_cases(principal, o.id), **per_org[o.id]}
            for o in visible]
    total = {k: sum(per_org[o.id][k] for o in visible) for k in COUNTERS}
    return {"at": at.isoformat(), "organisations": rows, "total": total}
