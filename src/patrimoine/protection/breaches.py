"""Personal-data breaches, every one recorded as Article 33(5) GDPR requires.

- The CNIL is notified within 72 hours of awareness (Art. 33(1)) unless the breach is
  unlikely to result in a risk, in which case the reason is recorded. A notification after
  72 hours carries its reasons for the delay (refused otherwise). While the risk is still
  being assessed the clock runs as if a notification were due.
- When the risk is high, the persons are informed (Art. 34) or the reason they are not
  (Art. 34(3): data encrypted, risk removed, disproportionate effort) is recorded; a breach
  is closed only once the notification and the information are settled.

Like requests, breaches are seen and handled by the organisation's administrators, chief
data officers and DPOs only.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator
from sqlalchemy import select
from sqlalchemy.orm import Session

from patrimoine.access import registers
from patrimoine.access.models import Role
from patrimoine.access.permissions import (
    can_handle_protection_cases,
    register_organisations,
    require,
)
from patrimoine.access.principal import Principal
from patrimoine.core.clock import now
from patrimoine.core.db import DbInt
from patrimoine.core.errors import Invalid
from patrimoine.core.values import apply_changes, plain
from patrimoine.core.vocabulary import define, label
from patrimoine.inventory.models import Organisation
from patrimoine.notifications import service as notifications
from patrimoine.notifications.models import Kind
from patrimoine.protection.deadlines import breach_deadline
from patrimoine.protection.register.models import Breach, ProcessingActivity
from patrimoine.protection.register.vocabulary import (
    BreachNature,
    BreachRisk,
    DataCategory,
    SpecialCategory,
)


class NotificationState(StrEnum):
    RUNNING = "running"  # within the 72 hours, not notified yet
    OVERDUE = "overdue"  # past the 72 hours, not notified
    NOTIFIED = "notified"
    NOTIFIED_LATE = "notified_late"
    NOT_REQUIRED = "not_required"


define(NotificationState, {
    NotificationState.RUNNING: "Notification à faire (délai de 72 h en cours)",
    NotificationState.OVERDUE: "Notification en retard (plus de 72 h)",
    NotificationState.NOTIFIED: "Notifiée à la CNIL",
    NotificationState.NOTIFIED_LATE: "Notifiée à la CNIL après 72 h",
    NotificationState.NOT_REQUIRED: "Notification non requise (risque peu probable)",
})

BREACHES = registers.Register(
    entity=Breach, audit="protection.breach",
    readers=lambda p: register_organisations(p, cases=True),
    reading="consulter les violations de données de cette organisation",
    not_found="Violation introuvable.", numbering=registers.Numbering("VIO", 2))


def _fr(moment: datetime) -> str:
    return moment.strftime("%d/%m/%Y à %H:%M UTC")


class BreachInput(BaseModel):
    model_config = ConfigDict(str_strip_whitespace=True, extra="forbid")

    organisation_id: DbInt
    activity_id: DbInt | None = None
    reference: str | None = Field(default=None, max_length=40)
    title: str = Field(min_length=1, max_length=300)
    description: str = ""
    occurred_at: datetime | None = None
    aware_at: datetime
    natures: list[BreachNature] = Field(min_length=1)
    data_categories: list[DataCategory] = Field(default_factory=list)
    special_categories: list[SpecialCategory] = Field(default_factory=list)
    persons_approx: DbInt | None = Field(default=None, ge=0)
    records_approx: DbInt | None = Field(default=None, ge=0)
    consequences: str = ""
    risk: BreachRisk = BreachRisk.TO_ASSESS
    no_risk_reason: str | None = None
    notified_at: datetime | None = None
    cnil_reference: str | None = Field(default=None, max_length=100)
    late_notification_reasons: str | None = None
    persons_informed_at: datetime | None = None
    persons_information_reason: str | None = None
    measures: str = ""
    closed_at: datetime | None = None

    @field_validator("reference", "no_risk_reason", "cnil_reference",
                     "late_notification_reasons", "persons_information_reason")
    @classmethod
    def _empty(cls, value: str | None) -> str | None:
        return value or None

    @field_validator("occurred_at", "aware_at", "notified_at", "persons_informed_at", "closed_at")
    @classmethod
    def _aware(cls, value: datetime | None) -> datetime | None:
        if value is not None and value.tzinfo is None:
            raise ValueError("indiquez le fuseau horaire (par exemple 2026-03-02T09:30:00+01:00)")
        return value

    @field_validator("natures", "data_categories", "special_categories")
    @classmethod
    def _no_repeats(cls, value: list[Any]) -> list[Any]:
        return list(dict.fromkeys(value))

    @model_validator(mode="after")
    def _consistent(self) -> BreachInput:
        errors = []
        aware = self.aware_at
        if self.occurred_at is not None and self.occurred_at > aware:
            errors.append("La violation ne peut survenir après sa découverte.")
        for moment, what in ((self.notified_at, "La notification à la CNIL"),
                             (self.persons_informed_at, "L'information des personnes"),
                             (self.closed_at, "La clôture")):
            if moment is not None and moment < aware:
                errors.append(f"{what} ne peut précéder la prise de connaissance "
                              f"({_fr(aware)}).")
        deadline = breach_deadline(aware)
        if (self.notified_at is not None and self.notified_at > deadline
                and not self.late_notification_reasons):
            errors.append(f"La notification du {_fr(self.notified_at)} dépasse le délai de "
                          f"72 heures (échéance le {_fr(deadline)}) : indiquez les motifs du "
                          "retard (article 33.1).")
        if self.risk == BreachRisk.UNLIKELY and not self.no_risk_reason:
            errors.append("Sans notification à la CNIL, consignez pourquoi la violation "
                          "n'est pas susceptible d'engendrer un risque (article 33.1).")
        if self.closed_at is not None:
            if self.risk == BreachRisk.TO_ASSESS:
                errors.append("Évaluez le risque avant de clore la violation.")
            if self.risk in (BreachRisk.RISK, BreachRisk.HIGH) and self.notified_at is None:
                errors.append("Une violation présentant un risque n'est close qu'une fois "
                              "notifiée à la CNIL.")
            if (self.risk == BreachRisk.HIGH and self.persons_informed_at is None
                    and not self.persons_information_reason):
                errors.append("Risque élevé : informez les personnes concernées (article 34) "
                              "ou consignez pourquoi elles ne le sont pas (article 34.3) "
                              "avant de clore.")
        if errors:
            raise ValueError(" ".join(errors))
        return self


@dataclass(frozen=True)
class BreachClock:
    deadline: datetime
    state: NotificationState
    hours_left: float | None
    persons_to_inform: bool

    @property
    def label(self) -> str:
        return label(self.state)

    @property
    def to_notify(self) -> bool:
        """The CNIL still to notify (72 hours running or past), or, at high risk, the persons
        still to inform (Art. 34)."""
        return (self.state in (NotificationState.RUNNING, NotificationState.OVERDUE)
                or self.persons_to_inform)


def clock(breach: Breach, at: datetime | None = None) -> BreachClock:
    at = at or now()
    deadline = breach_deadline(breach.aware_at)
    if breach.notified_at is not None:
        state = (NotificationState.NOTIFIED_LATE if breach.notified_at > deadline
                 else NotificationState.NOTIFIED)
    elif breach.risk == BreachRisk.UNLIKELY:
        state = NotificationState.NOT_REQUIRED
    elif at > deadline:
        state = NotificationState.OVERDUE
    else:
        state = NotificationState.RUNNING
    hours_left = ((deadline - at).total_seconds() / 3600
                  if state in (NotificationState.RUNNING, NotificationState.OVERDUE) else None)
    persons = (breach.risk == BreachRisk.HIGH and breach.persons_informed_at is None
               and not breach.persons_information_reason)
    return BreachClock(deadline, state, hours_left, persons)


def _check(session: Session, data: BreachInput) -> None:
    if session.get(Organisation, data.organisation_id) is None:
        raise Invalid("Organisation inconnue.")
    if data.activity_id is not None:
        activity = session.get(ProcessingActivity, data.activity_id)
        if activity is None or activity.organisation_id != data.organisation_id:
            raise Invalid("Ce traitement n'appartient pas au registre de l'organisation.")
    if data.aware_at > now():
        raise Invalid("La prise de connaissance ne peut être dans le futur.")


def get_breach(session: Session, principal: Principal, breach_id: int) -> Breach:
    breach: Breach = registers.get(session, BREACHES, principal, breach_id)
    return breach


def create_breach(session: Session, principal: Principal, data: BreachInput) -> Breach:
    require(can_handle_protection_cases(principal, data.organisation_id), principal,
            "gérer les violations de données de cette organisation")
    _check(session, data)
    values = data.model_dump(mode="python")
    for f in ("natures", "data_categories", "special_categories"):
        values[f] = [v.value for v in values[f]]
    if values["reference"] is None:
        values["reference"] = registers.next_reference(session, BREACHES, data.organisation_id,
                                                       data.aware_at.year)
    elif registers.reference_taken(session, BREACHES, data.organisation_id, values["reference"]):
        raise Invalid(f"La référence « {values['reference']} » est déjà prise.")
    breach = Breach(**values)
    session.add(breach)
    session.flush()
    registers.record(session, principal, BREACHES, breach, "created",
                     [k for k, v in values.items() if v])
    # The DPO is told at once: the CNIL must be notified within 72 hours of awareness.
    notifications.notify_roles(
        session, breach.organisation_id, [Role.DPO], Kind.BREACH,
        f"Violation de données {breach.reference} enregistrée",
        f"/admin/protection/violations/{breach.id}",
        f"Notification à la CNIL avant le {_fr(clock(breach).deadline)}.",
        skip=principal.account_id)
    return breach


def update_breach(session: Session, principal: Principal, breach: Breach, data: BreachInput
                  ) -> list[str]:
    require(can_handle_protection_cases(principal, breach.organisation_id), principal,
            "gérer les violations de données de cette organisation")
    if data.organisation_id != breach.organisation_id:
        raise Invalid("Une violation ne change pas d'organisation.")
    _check(session, data)
    values = data.model_dump(mode="python")
    for f in ("natures", "data_categories", "special_categories"):
        values[f] = [v.value for v in values[f]]
    if values["reference"] is None:
        values["reference"] = breach.reference
    elif registers.reference_taken(session, BREACHES, breach.organisation_id, values["reference"],
                                   breach.id):
        raise Invalid(f"La référence « {values['reference']} » est déjà prise.")
    changed = apply_changes(breach, values)
    if changed:
        breach.updated_at = now()
        registers.record(session, principal, BREACHES, breach, "updated", changed)
    return changed


def delete_breach(session: Session, principal: Principal, breach: Breach) -> None:
    """Deleting is for entries made by mistake; the audit log keeps the trace."""
    require(can_handle_protection_cases(principal, breach.organisation_id), principal,
            "gérer les violations de données de cette organisation")
    registers.record(session, principal, BREACHES, breach, "deleted", [])
    session.delete(breach)
    session.flush()


def list_breaches(session: Session, principal: Principal, *, organisation_id: int | None = None,
                  open_only: bool = False) -> list[Breach]:
    query = (select(Breach).where(registers.visible(BREACHES, principal, organisation_id))
             .order_by(Breach.aware_at.desc(), Breach.id))
    if open_only:
        query = query.where(Breach.closed_at.is_(None))
    return list(session.scalars(query))


def breaches_to_notify(session: Session, principal: Principal, *,
                       organisation_id: int | None = None, at: datetime | None = None
                       ) -> list[Breach]:
    """Open breaches whose notification is still to do: to the CNIL, or to the persons."""
    at = at or now()
    return [b for b in list_breaches(session, principal, organisation_id=organisation_id,
                                     open_only=True) if clock(b, at).to_notify]


def breach_dict(breach: Breach, at: datetime | None = None) -> dict[str, Any]:
    c = clock(breach, at)
    data = {f: plain(getattr(breach, f)) for f in BreachInput.model_fields}
    return {"id": breach.id, **data, "risk_label": label(breach.risk),
            "natures_labels": [label(BreachNature(n)) for n in breach.natures],
            "deadline": c.deadline.isoformat(), "notification": c.state.value,
            "notification_label": c.label,
            "hours_left": round(c.hours_left, 1) if c.hours_left is not None else None,
            "overdue": c.state == NotificationState.OVERDUE,
            "persons_to_inform": c.persons_to_inform,
            "created_at": plain(breach.created_at), "updated_at": plain(breach.updated_at)}
