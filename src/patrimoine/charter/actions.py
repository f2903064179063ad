"""The action plan: actions under the charter's engagements (title, owner, due date, the
rules they aim to fix, the evidence of what was done), with their status computed as in
Nantes' report: done, in progress, or late (past due and not done). Every change is written
to the audit log (target `charter_action:<id>`), which is the action's history.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator
from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from patrimoine.access import audit
from patrimoine.access.models import AuditEvent
from patrimoine.access.permissions import can_manage_charter, require
from patrimoine.access.principal import Principal
from patrimoine.charter import config
from patrimoine.charter.models import CharterAction, CharterEngagement
from patrimoine.charter.rules.base import RULES
from patrimoine.core.clock import now
from patrimoine.core.errors import Invalid, NotFound

DONE, IN_PROGRESS, LATE = "done", "in_progress", "late"
STATUS_LABELS = {DONE: "Réalisée", IN_PROGRESS: "En cours", LATE: "En retard"}
FIELDS = ("title", "owner", "due_on", "rule_ids", "evidence", "started_on", "done_on",
          "organisation_id")


def status_of(due_on: date, done_on: date | None, today: date) -> str:
    """Done once a completion date is set; late when past due and not done; else in
    progress."""
    if done_on is not None:
        return DONE
    return LATE if today > due_on else IN_PROGRESS


class ActionInput(BaseModel):
    model_config = ConfigDict(str_strip_whitespace=True, extra="forbid")

    engagement: str = Field(min_length=1, max_length=60)
    organisation_id: int | None = None
    title: str = Field(min_length=3, max_length=300)
    owner: str = Field(min_length=2, max_length=300)
    due_on: date
    rule_ids: list[str] = Field(default_factory=list)
    evidence: str = Field(default="", max_length=5000)
    started_on: date | None = None
    done_on: date | None = None

    @field_validator("rule_ids")
    @classmethod
    def _rules(cls, value: list[str]) -> list[str]:
        wrong = [r for r in value if r not in RULES]
        if wrong:
            raise ValueError(f"règle(s) inconnue(s) : {', '.join(wrong)}")
        return list(dict.fromkeys(value))

    @model_validator(mode="after")
    def _evidence(self) -> ActionInput:
        if self.done_on is not None and not self.evidence:
            raise ValueError("une action réalisée dit ce qui prouve qu'elle l'est (preuve)")
        if self.done_on is not None and self.done_on > now().date():
            raise ValueError("une action ne peut être réalisée à une date future")
        return self


@dataclass(frozen=True)
class Action:
    """An action, read-only, with its status on a given day."""

    id: int
    engagement: str
    engagement_title: str
    organisation_id: int | None
    title: str
    owner: str
    due_on: date
    rule_ids: tuple[str, ...]
    evidence: str
    started_on: date | None
    done_on: date | None
    updated_at: datetime

    def status(self, today: date) -> str:
        return status_of(self.due_on, self.done_on, today)

    def as_dict(self, today: date | None = None) -> dict[str, Any]:
        status = self.status(today or now().date())
        return {"id": self.id, "engagement": self.engagement,
                "engagement_title": self.engagement_title,
                "organisation_id": self.organisation_id, "title": self.title,
                "owner": self.owner, "due_on": self.due_on.isoformat(),
                "rule_ids": list(self.rule_ids), "evidence": self.evidence,
                "started_on": self.started_on.isoformat() if self.started_on else None,
                "done_on": self.done_on.isoformat() if self.done_on else None,
                "status": status, "status_label": STATUS_LABELS[status]}


def _facts(a: CharterAction) -> Action:
    return Action(a.id, a.engagement.code, a.engagement.title, a.organisation_id, a.title,
                  a.owner, a.due_on, tuple(a.rule_ids or ()), a.evidence, a.started_on,
                  a.done_on, a.updated_at)


def _engagement(session: Session, code: str) -> CharterEngagement:
    row = session.scalar(select(CharterEngagement).where(CharterEngagement.code == code))
    if row is None:
        known = [e.code for e in config.current(session).engagements]
        stored = session.scalar(select(CharterEngagement.id).limit(1))
        hint = ("" if stored is not None else " La charte n'est pas encore enregistrée : "
                "importez-la d'abord (patrimoine charter import).")
        raise Invalid(f"Engagement « {code} » inconnu ; engagements : {', '.join(known)}."
                      + hint)
    return row


def listed(session: Session, organisation_ids: Sequence[int] | None = None) -> list[Action]:
    """The plan (of these organisations, and the charter-wide actions), by due date."""
    query = select(CharterAction).join(CharterEngagement).order_by(
        CharterEngagement.rank, CharterAction.due_on, CharterAction.id)
    if organisation_ids is not None:
        query = query.where(or_(CharterAction.organisation_id.is_(None),
                                CharterAction.organisation_id.in_(list(organisation_ids))))
    return [_facts(a) for a in session.scalars(query)]


def get(session: Session, action_id: int) -> CharterAction:
    row = session.get(CharterAction, action_id)
    if row is None:
        raise NotFound("Action introuvable.")
    return row


def _values(row: CharterAction) -> dict[str, Any]:
    out = {}
    for name in FIELDS:
        value = getattr(row, name)
        out[name] = value.isoformat() if isinstance(value, date) else value
    return out


def create(session: Session, principal: Principal, data: ActionInput) -> Action:
    require(can_manage_charter(principal, data.organisation_id), principal,
            "inscrire une action au plan de la charte")
    engagement = _engagement(session, data.engagement)
    row = CharterAction(engagement_id=engagement.id,
                        **data.model_dump(exclude={"engagement"}))
    session.add(row)
    session.flush()
    audit.record(session, principal, "charter.action.created", f"charter_action:{row.id}",
                 {"engagement": engagement.code, **_values(row)},
                 organisation_id=row.organisation_id)
    return _facts(row)


def update(session: Session, principal: Principal, action_id: int, data: ActionInput
           ) -> Action:
    row = get(session, action_id)
    require(can_manage_charter(principal, row.organisation_id)
            and can_manage_charter(principal, data.organisation_id), principal,
            "modifier cette action du plan")
    before = _values(row) | {"engagement": row.engagement.code}
    engagement = _engagement(session, data.engagement)
    row.engagement_id = engagement.id
    for name, value in data.model_dump(exclude={"engagement"}).items():
        setattr(row, name, value)
    row.updated_at = now()
    session.flush()
    session.refresh(row)
    after = _values(row) | {"engagement": engagement.code}
    changes = {k: [before[k], after[k]] for k in after if before.get(k) != after[k]}
    if changes:
        audit.record(session, principal, "charter.action.updated", f"charter_action:{row.id}",
                     {"changes": changes}, organisation_id=row.organisation_id)
    return _facts(row)


def history(session: Session, action_id: int) -> list[AuditEvent]:
    """The action's audit events, newest first."""
    events, _ = audit.list_events(session, audit.EventFilters(target=f"charter_action:{action_id}"),
                                  limit=200)
    return events
