"""Deviations (dérogations): a documented, justified exception to one rule, for one item or
a scope (an organisation, or the whole instance), approved by a holder of a role the charter
names, from `starts_on` to `expires_on` (both included).

While a deviation runs, the items it covers show « écart documenté jusqu'au … » instead of a
failure (engine.py); once it expires they fail again, and the expired deviation waits on the
approvers' to-do list until it is renewed or the item passes (`expired_to_review`). The
register of deviations is public when the charter says so (`public_register`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator
from sqlalchemy import and_, exists, or_, select
from sqlalchemy.orm import Session, aliased

from patrimoine.access import audit
from patrimoine.access.models import ROLE_LABELS, Role
from patrimoine.access.permissions import can_approve_deviation, require
from patrimoine.access.principal import Principal
from patrimoine.charter import config
from patrimoine.charter.models import CharterDeviation, CharterFailure
from patrimoine.charter.rules.base import RULES
from patrimoine.core.clock import now
from patrimoine.core.errors import Invalid, NotFound

RUNNING, UPCOMING, EXPIRED = "running", "upcoming", "expired"
STATE_LABELS = {RUNNING: "En cours", UPCOMING: "À venir", EXPIRED: "Expiré"}


class DeviationInput(BaseModel):
    model_config = ConfigDict(str_strip_whitespace=True, extra="forbid")

    rule_id: str = Field(min_length=1, max_length=100)
    item: str | None = Field(default=None, max_length=200)
    item_label: str = Field(default="", max_length=600)
    organisation_id: int | None = None
    justification: str = Field(min_length=10, max_length=5000)
    approver_role: str
    starts_on: date
    expires_on: date
    link: str | None = Field(default=None, max_length=1000)

    @field_validator("item", "link")
    @classmethod
    def _empty(cls, value: str | None) -> str | None:
        return value or None

    @field_validator("link")
    @classmethod
    def _web(cls, value: str | None) -> str | None:
        if value is not None and not value.startswith(("https://", "http://", "/")):
            raise ValueError("le lien doit être une adresse web (https://…)")
        return value

    @field_validator("rule_id")
    @classmethod
    def _rule(cls, value: str) -> str:
        if value not in RULES:
            raise ValueError(f"règle « {value} » inconnue")
        return value

    @model_validator(mode="after")
    def _dates(self) -> DeviationInput:
        if self.expires_on < self.starts_on:
            raise ValueError("l'écart ne peut expirer avant de commencer")
        return self


@dataclass(frozen=True)
class Deviation:
    """A deviation, read-only, for the engine, pages and the annual report."""

    id: int
    rule_id: str
    item: str | None
    item_label: str
    organisation_id: int | None
    justification: str
    approver_role: str
    approved_by: str
    starts_on: date
    expires_on: date
    link: str | None

    def state(self, today: date) -> str:
        if today < self.starts_on:
            return UPCOMING
        return RUNNING if today <= self.expires_on else EXPIRED

    def covers(self, rule_id: str, item: str, organisation_id: int | None) -> bool:
        if rule_id != self.rule_id:
            return False
        if self.item is not None:
            return item == self.item
        return self.organisation_id is None or self.organisation_id == organisation_id

    @property
    def scope(self) -> str:
        if self.item is not None:
            return self.item_label or self.item
        return "toute l'organisation" if self.organisation_id is not None else "toute la charte"

    def as_dict(self, today: date | None = None) -> dict[str, Any]:
        today = today or now().date()
        return {"id": self.id, "rule_id": self.rule_id,
                "rule_title": RULES[self.rule_id].title if self.rule_id in RULES else "",
                "item": self.item, "item_label": self.item_label, "scope": self.scope,
                "organisation_id": self.organisation_id, "justification": self.justification,
                "approver_role": self.approver_role,
                "approver_role_label": ROLE_LABELS.get(Role(self.approver_role), ""),
                "approved_by": self.approved_by, "starts_on": self.starts_on.isoformat(),
                "expires_on": self.expires_on.isoformat(), "link": self.link,
                "state": self.state(today), "state_label": STATE_LABELS[self.state(today)]}


def _facts(d: CharterDeviation) -> Deviation:
    return Deviation(d.id, d.rule_id, d.item, d.item_label, d.organisation_id, d.justification,
                     d.approver_role, d.approved_by, d.starts_on, d.expires_on, d.link)


def running(session: Session, day: date) -> list[Deviation]:
    """The deviations in force on `day`, one query."""
    return [_facts(d) for d in session.scalars(select(CharterDeviation).where(
        CharterDeviation.starts_on <= day, CharterDeviation.expires_on >= day))]


def covering(deviations: Sequence[Deviation], rule_id: str, item: str,
             organisation_id: int | None) -> Deviation | None:
    """The deviation covering the item that runs longest, None when none does."""
    found = [d for d in deviations if d.covers(rule_id, item, organisation_id)]
    return max(found, key=lambda d: d.expires_on) if found else None


def listed(session: Session, organisation_ids: Sequence[int] | None = None
           ) -> list[Deviation]:
    """Every deviation (of these organisations, and the instance-wide ones), newest first."""
    query = select(CharterDeviation).order_by(CharterDeviation.expires_on.desc(),
                                              CharterDeviation.id.desc())
    if organisation_ids is not None:
        query = query.where(or_(CharterDeviation.organisation_id.is_(None),
                                CharterDeviation.organisation_id.in_(list(organisation_ids))))
    return [_facts(d) for d in session.scalars(query)]


def record(session: Session, principal: Principal, data: DeviationInput) -> Deviation:
    """Record a deviation approved by `principal`, who holds the approving role."""
    charter = config.current(session)
    if data.approver_role not in charter.approver_roles:
        names = ", ".join(label for _, label in charter.approver_labels())
        raise Invalid(f"Ce rôle n'approuve pas les écarts ; la charte nomme : {names}.")
    require(can_approve_deviation(principal, data.organisation_id, Role(data.approver_role)),
            principal, f"approuver un écart en tant que "
                       f"« {ROLE_LABELS[Role(data.approver_role)]} »")
    row = CharterDeviation(**data.model_dump(), approved_by=principal.label)
    session.add(row)
    session.flush()
    audit.record(session, principal, "charter.deviation.recorded", f"charter_deviation:{row.id}",
                 {"rule": row.rule_id, "item": row.item, "expires_on": row.expires_on.isoformat(),
                  "approver_role": row.approver_role}, organisation_id=row.organisation_id)
    return _facts(row)


def end(session: Session, principal: Principal, deviation_id: int, on: date) -> Deviation:
    """End a deviation early (it expires on `on`)."""
    row = session.get(CharterDeviation, deviation_id)
    if row is None:
        raise NotFound("Écart introuvable.")
    require(can_approve_deviation(principal, row.organisation_id, Role(row.approver_role)),
            principal, "mettre fin à cet écart")
    if on < row.starts_on:
        raise Invalid("Un écart ne peut prendre fin avant d'avoir commencé.")
    row.expires_on = min(row.expires_on, on)
    audit.record(session, principal, "charter.deviation.ended", f"charter_deviation:{row.id}",
                 {"expires_on": row.expires_on.isoformat()}, organisation_id=row.organisation_id)
    return _facts(row)


def public_register(session: Session) -> list[Deviation] | None:
    """The deviations the public reads, None when the charter keeps them internal."""
    if not config.current(session).publish_deviations:
        return None
    return listed(session)


def expired_to_review(session: Session, principal: Principal, today: date) -> list[Deviation]:
    """Expired deviations whose items still fail (by the last stored evaluation), for the
    holders of their approving role: renew them, or fix what they covered. A deviation
    renewed by another on the same rule and item or scope is left out."""
    old, new, f = CharterDeviation, aliased(CharterDeviation), CharterFailure
    renewed = exists().where(new.id != old.id, new.rule_id == old.rule_id,
                             new.item.is_not_distinct_from(old.item),
                             new.organisation_id.is_not_distinct_from(old.organisation_id),
                             new.expires_on >= today)
    still = exists().where(f.rule_id == old.rule_id, f.outcome == "failed", or_(
        and_(old.item.is_not(None), f.item == old.item),
        and_(old.item.is_(None), or_(old.organisation_id.is_(None),
                                     f.organisation_id == old.organisation_id))))
    rows = session.scalars(select(old).where(old.expires_on < today, still, ~renewed)
                           .order_by(old.expires_on.desc(), old.id))
    return [_facts(r) for r in rows
            if can_approve_deviation(principal, r.organisation_id, Role(r.approver_role))]
