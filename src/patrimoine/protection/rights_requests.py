"""Data subjects' requests (Articles 15 to 22 and 7(3) GDPR) and their legal deadline.

- Deadline: one month from receipt (deadlines.py), rolled to the next working day when it
  falls on a Saturday, a Sunday or a French public holiday; extended (three months from
  receipt, rolled the same way) only when the person was told, with the reasons, within that
  first month (Art. 12(3)): a later extension is refused.
- A refusal states its reasons and mentions the right to lodge a complaint with the CNIL
  (Art. 12(4)): a refused request without that mention is refused by the service.
- Open requests past their deadline (the rolled one: a request is overdue from the day after
  it) are overdue; answers given after it are flagged late.

Requests hold the requester's name: only the organisation's administrators, chief data
officers and DPOs see and handle them; the audit log records references, never names.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import date
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator
from sqlalchemy import select
from sqlalchemy.orm import Session

from patrimoine.access import registers
from patrimoine.access.permissions import (
    can_handle_protection_cases,
    register_organisations,
    require,
)
from patrimoine.access.principal import Principal
from patrimoine.core.clock import now
from patrimoine.core.db import DbInt
from patrimoine.core.errors import Invalid
from patrimoine.core.text import fold
from patrimoine.core.values import apply_changes, plain
from patrimoine.core.vocabulary import label
from patrimoine.inventory.models import Organisation
from patrimoine.protection.deadlines import (
    extended_request_deadline,
    extension_allowed,
    legal_today,
    request_deadline,
)
from patrimoine.protection.register.models import ProcessingActivity, RightsRequest
from patrimoine.protection.register.vocabulary import (
    CLOSED_REQUEST_STATUSES,
    RequestKind,
    RequestStatus,
)

# A sentence that satisfies Art. 12(4), offered to whoever writes a refusal.
COMPLAINT_MENTION = (
    "Vous pouvez introduire une réclamation auprès de la Commission nationale de "
    "l'informatique et des libertés (CNIL, 3 place de Fontenoy, TSA 80715, 75334 Paris "
    "Cedex 07, www.cnil.fr) et former un recours juridictionnel."
)
_COMPLAINT_WORDS = ("reclamation", "plainte", "saisir", "recours")


REQUESTS = registers.Register(
    entity=RightsRequest, audit="protection.request",
    readers=lambda p: register_organisations(p, cases=True),
    reading="consulter les demandes d'exercice des droits de cette organisation",
    not_found="Demande introuvable.", numbering=registers.Numbering("DDP", 3))


def mentions_complaint_right(answer: str | None) -> bool:
    """True when the text names the CNIL and the complaint (réclamation, plainte, saisine)."""
    text = fold(answer or "")
    return ("cnil" in text or "commission nationale de l informatique" in text.replace("'", " ")
            ) and any(w in text for w in _COMPLAINT_WORDS)


def _fr(day: date) -> str:
    return day.strftime("%d/%m/%Y")


class RequestInput(BaseModel):
    model_config = ConfigDict(str_strip_whitespace=True, extra="forbid")

    organisation_id: DbInt
    activity_id: DbInt | None = None
    reference: str | None = Field(default=None, max_length=40)
    kind: RequestKind
    requester: str = Field(min_length=1, max_length=300)
    channel: str | None = Field(default=None, max_length=100)
    details: str = ""
    received_on: date
    identity_requested_on: date | None = None
    identity_verified_on: date | None = None
    extension_informed_on: date | None = None
    extension_reasons: str | None = None
    status: RequestStatus = RequestStatus.RECEIVED
    answered_on: date | None = None
    answer: str | None = None
    refusal_reason: str | None = None

    @field_validator("reference", "channel", "extension_reasons", "answer", "refusal_reason")
    @classmethod
    def _empty(cls, value: str | None) -> str | None:
        return value or None

    @model_validator(mode="after")
    def _consistent(self) -> RequestInput:
        errors = []
        received = self.received_on
        for day, what in ((self.identity_requested_on, "La demande de justificatif d'identité"),
                          (self.identity_verified_on, "La vérification de l'identité"),
                          (self.extension_informed_on, "L'information sur la prolongation"),
                          (self.answered_on, "La réponse")):
            if day is not None and day < received:
                errors.append(f"{what} ({_fr(day)}) ne peut précéder la réception de la demande "
                              f"({_fr(received)}).")
        if (self.identity_requested_on and self.identity_verified_on
                and self.identity_verified_on < self.identity_requested_on):
            errors.append("L'identité ne peut être vérifiée avant que le justificatif soit "
                          "demandé.")
        if self.extension_informed_on is not None:
            if not self.extension_reasons:
                errors.append("Une prolongation s'accompagne de ses motifs (complexité, nombre "
                              "de demandes), communiqués à la personne (article 12.3).")
            if not extension_allowed(received, self.extension_informed_on):
                errors.append(
                    "Prolongation refusée : la personne doit être informée de la prolongation "
                    "et de ses motifs dans le mois suivant la réception, soit au plus tard le "
                    f"{_fr(request_deadline(received))} ; elle l'a été le "
                    f"{_fr(self.extension_informed_on)} (article 12.3 du RGPD).")
        elif self.extension_reasons:
            errors.append("Des motifs de prolongation sont donnés sans date d'information de "
                          "la personne.")
        closed = self.status in (RequestStatus.ANSWERED, RequestStatus.REFUSED)
        if closed and (self.answered_on is None or not self.answer):
            errors.append("Une demande répondue ou refusée porte la date et le texte de la "
                          "réponse.")
        if not closed and self.status != RequestStatus.WITHDRAWN and self.answered_on:
            errors.append("Une date de réponse est donnée alors que la demande n'est ni "
                          "répondue ni refusée.")
        if self.status == RequestStatus.REFUSED:
            if not self.refusal_reason:
                errors.append("Un refus est motivé (article 12.4) : indiquez le motif.")
            if not mentions_complaint_right(self.answer):
                errors.append("La réponse à un refus doit mentionner le droit d'introduire une "
                              "réclamation auprès de la CNIL (article 12.4), par exemple : "
                              f"« {COMPLAINT_MENTION} »")
        elif self.refusal_reason:
            errors.append("Un motif de refus n'a de sens que pour une demande refusée.")
        if self.status == RequestStatus.AWAITING_IDENTITY and self.identity_requested_on is None:
            errors.append("Indiquez quand le justificatif d'identité a été demandé.")
        if errors:
            raise ValueError(" ".join(errors))
        return self


@dataclass(frozen=True)
class RequestClock:
    deadline: date
    initial_deadline: date
    extended: bool
    overdue: bool
    answered_late: bool
    days_left: int | None  # None once closed


def clock(request: RightsRequest, today: date | None = None) -> RequestClock:
    today = today or legal_today()
    initial = request_deadline(request.received_on)
    extended = request.extension_informed_on is not None
    deadline = extended_request_deadline(request.received_on) if extended else initial
    closed = request.status in CLOSED_REQUEST_STATUSES
    answered_late = request.answered_on is not None and request.answered_on > deadline
    return RequestClock(
        deadline=deadline, initial_deadline=initial, extended=extended,
        overdue=not closed and today > deadline, answered_late=answered_late,
        days_left=None if closed else (deadline - today).days)


def _check(session: Session, data: RequestInput) -> None:
    if session.get(Organisation, data.organisation_id) is None:
        raise Invalid("Organisation inconnue.")
    if data.activity_id is not None:
        activity = session.get(ProcessingActivity, data.activity_id)
        if activity is None or activity.organisation_id != data.organisation_id:
            raise Invalid("Ce traitement n'appartient pas au registre de l'organisation.")
    today = legal_today()
    for day in (data.received_on, data.answered_on, data.identity_verified_on,
                data.extension_informed_on):
        if day is not None and day > today:
            raise Invalid(f"La date du {_fr(day)} est dans le futur.")


def get_request(session: Session, principal: Principal, request_id: int) -> RightsRequest:
    request: RightsRequest = registers.get(session, REQUESTS, principal, request_id)
    return request


def create_request(session: Session, principal: Principal, data: RequestInput) -> RightsRequest:
    require(can_handle_protection_cases(principal, data.organisation_id), principal,
            "gérer les demandes d'exercice des droits de cette organisation")
    _check(session, data)
    values = data.model_dump()
    values["reference"] = registers.reference_for(session, REQUESTS, data.organisation_id,
                                                  values["reference"], year=data.received_on.year)
    request = RightsRequest(**values)
    session.add(request)
    session.flush()
    registers.record(session, principal, REQUESTS, request, "created",
                     [k for k, v in values.items() if v])
    return request


def update_request(session: Session, principal: Principal, request: RightsRequest,
                   data: RequestInput) -> list[str]:
    require(can_handle_protection_cases(principal, request.organisation_id), principal,
            "gérer les demandes d'exercice des droits de cette organisation")
    if data.organisation_id != request.organisation_id:
        raise Invalid("Une demande ne change pas d'organisation.")
    _check(session, data)
    values = data.model_dump()
    values["reference"] = registers.reference_for(session, REQUESTS, request.organisation_id,
                                                  values["reference"], entry=request)
    changed = apply_changes(request, values)
    if changed:
        request.updated_at = now()
        registers.record(session, principal, REQUESTS, request, "updated", changed)
    return changed


def delete_request(session: Session, principal: Principal, request: RightsRequest) -> None:
    require(can_handle_protection_cases(principal, request.organisation_id), principal,
            "gérer les demandes d'exercice des droits de cette organisation")
    registers.record(session, principal, REQUESTS, request, "deleted", [])
    session.delete(request)
    session.flush()


def request_input(request: RightsRequest) -> RequestInput:
    return RequestInput.model_validate(
        {f: getattr(request, f) for f in RequestInput.model_fields})


def list_requests(session: Session, principal: Principal, *, organisation_id: int | None = None,
                  year: int | None = None, kind: RequestKind | None = None,
                  status: RequestStatus | None = None, overdue: bool = False,
                  today: date | None = None) -> list[RightsRequest]:
    query = (select(RightsRequest)
             .where(registers.visible(REQUESTS, principal, organisation_id))
             .order_by(RightsRequest.received_on.desc(), RightsRequest.id))
    if year is not None:
        query = query.where(RightsRequest.received_on >= date(year, 1, 1),
                            RightsRequest.received_on <= date(year, 12, 31))
    if kind is not None:
        query = query.where(RightsRequest.kind == kind)
    if status is not None:
        query = query.where(RightsRequest.status == status)
    if overdue:
        query = query.where(RightsRequest.status.not_in(CLOSED_REQUEST_STATUSES))
    found = list(session.scalars(query))
    if overdue:
        found = [r for r in found if clock(r, today).overdue]
    return found


def counts(requests: list[RightsRequest]) -> list[dict[str, Any]]:
    """Per year of receipt and kind: how many, answered late, refused."""
    total: Counter[tuple[int, RequestKind]] = Counter()
    late: Counter[tuple[int, RequestKind]] = Counter()
    refused: Counter[tuple[int, RequestKind]] = Counter()
    for r in requests:
        k = (r.received_on.year, r.kind)
        total[k] += 1
        late[k] += clock(r).answered_late
        refused[k] += r.status == RequestStatus.REFUSED
    return [{"year": y, "kind": kind.value, "kind_label": label(kind), "count": n,
             "answered_late": late[(y, kind)], "refused": refused[(y, kind)]}
            for (y, kind), n in sorted(total.items(), key=lambda i: (-i[0][0], i[0][1].value))]


def request_dict(request: RightsRequest, today: date | None = None) -> dict[str, Any]:
    c = clock(request, today)
    data = {f: plain(getattr(request, f)) for f in RequestInput.model_fields}
    return {"id": request.id, **data, "kind_label": label(request.kind),
            "status_label": label(request.status), "deadline": c.deadline.isoformat(),
            "initial_deadline": c.initial_deadline.isoformat(), "extended": c.extended,
            "overdue": c.overdue, "answered_late": c.answered_late, "days_left": c.days_left,
            "created_at": plain(request.created_at), "updated_at": plain(request.updated_at)}
