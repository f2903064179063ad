"""Requests for the rules of an individual decision taken with an algorithm (CRPA R311-3-1-2).

- A person to whom a decision was notified asks for the rules of the algorithm and the main
  characteristics of its implementation in their case. The request is recorded against the
  algorithm, numbered in the organisation's register (DRA-2026-001).
- The answer is due within one month of receipt, computed like the answers to GDPR rights
  requests (protection/deadlines.py: same day of the following month, rolled to the next
  working day); open requests past it are overdue, answers given after it are late.
- An answered request carries the four items of R311-3-1-2, in its order: the degree and mode
  of contribution of the processing to the decision; the data processed and their sources;
  the parameters and their weighting as applied to the person's situation; the operations
  carried out. `draft_answer` prefills them from the register, the agent completes the third
  with the person's own values.

Requests hold the requester's name: the organisation's register keepers see and handle
them; the audit log records references, never names.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator
from sqlalchemy import select
from sqlalchemy.orm import Session

from patrimoine.access import registers
from patrimoine.access.permissions import (
    algorithm_organisations,
    can_handle_algorithm_requests,
    require,
)
from patrimoine.access.principal import Principal
from patrimoine.core.clock import now
from patrimoine.core.db import DbInt
from patrimoine.core.errors import Invalid
from patrimoine.core.values import apply_changes, plain
from patrimoine.core.vocabulary import label
from patrimoine.protection.deadlines import legal_today, request_deadline
from patrimoine.transparency.models import (
    CLOSED_ALGORITHM_REQUESTS,
    AlgorithmRequest,
    AlgorithmRequestStatus,
    AlgorithmStatus,
    Automation,
    PublicAlgorithm,
)

REQUESTS = registers.Register(
    entity=AlgorithmRequest, audit="transparency.request",
    readers=lambda p: algorithm_organisations(p, requests=True),
    reading="consulter les demandes de communication des règles d'un algorithme",
    not_found="Demande introuvable.", numbering=registers.Numbering("DRA", 3))

# The four items of R311-3-1-2, in its order, with their French names.
ITEMS = {
    "contribution": "Le degré et le mode de contribution du traitement algorithmique à la "
                    "décision",
    "data_and_sources": "Les données traitées et leurs sources",
    "parameters_applied": "Les paramètres de traitement et, le cas échéant, leur pondération, "
                          "appliqués à votre situation",
    "operations": "Les opérations effectuées par le traitement",
}


def _fr(day: date) -> str:
    return day.strftime("%d/%m/%Y")


class AlgorithmRequestInput(BaseModel):
    model_config = ConfigDict(str_strip_whitespace=True, extra="forbid")

    algorithm_id: DbInt
    reference: str | None = Field(default=None, max_length=40)
    requester: str = Field(min_length=1, max_length=300)
    decision: str = ""
    received_on: date
    status: AlgorithmRequestStatus = AlgorithmRequestStatus.RECEIVED
    answered_on: date | None = None
    contribution: str | None = None
    data_and_sources: str | None = None
    parameters_applied: str | None = None
    operations: str | None = None

    @field_validator("reference", *ITEMS)
    @classmethod
    def _empty(cls, value: str | None) -> str | None:
        return value or None

    @model_validator(mode="after")
    def _consistent(self) -> AlgorithmRequestInput:
        errors = []
        if self.answered_on is not None and self.answered_on < self.received_on:
            errors.append(f"La réponse ({_fr(self.answered_on)}) ne peut précéder la réception "
                          f"de la demande ({_fr(self.received_on)}).")
        if self.status == AlgorithmRequestStatus.ANSWERED:
            if self.answered_on is None:
                errors.append("Une demande répondue porte la date de la réponse.")
            missing = [what for field, what in ITEMS.items() if not getattr(self, field)]
            if missing:
                errors.append("La réponse communique les quatre informations de l'article "
                              "R311-3-1-2 ; il manque : " + " ; ".join(missing).lower() + ".")
        elif self.answered_on is not None:
            errors.append("Une date de réponse est donnée alors que la demande n'est pas "
                          "répondue.")
        if errors:
            raise ValueError(" ".join(errors))
        return self


@dataclass(frozen=True)
class RequestClock:
    deadline: date
    overdue: bool
    answered_late: bool
    days_left: int | None  # None once closed


def clock(request: AlgorithmRequest, today: date | None = None) -> RequestClock:
    today = today or legal_today()
    deadline = request_deadline(request.received_on)
    closed = request.status in CLOSED_ALGORITHM_REQUESTS
    return RequestClock(
        deadline=deadline, overdue=not closed and today > deadline,
        answered_late=request.answered_on is not None and request.answered_on > deadline,
        days_left=None if closed else (deadline - today).days)


def _algorithm(session: Session, data: AlgorithmRequestInput) -> PublicAlgorithm:
    algorithm = session.get(PublicAlgorithm, data.algorithm_id)
    if algorithm is None or algorithm.status == AlgorithmStatus.DRAFT:
        raise Invalid("Algorithme inconnu ou encore en préparation : une demande porte sur "
                      "un algorithme utilisé pour prendre des décisions.")
    today = legal_today()
    for day in (data.received_on, data.answered_on):
        if day is not None and day > today:
            raise Invalid(f"La date du {_fr(day)} est dans le futur.")
    return algorithm


def _require(principal: Principal, organisation_id: int) -> None:
    require(can_handle_algorithm_requests(principal, organisation_id), principal,
            "traiter les demandes de communication des règles d'un algorithme")


def get_request(session: Session, principal: Principal, request_id: int) -> AlgorithmRequest:
    request: AlgorithmRequest = registers.get(session, REQUESTS, principal, request_id)
    return request


def create_request(session: Session, principal: Principal, data: AlgorithmRequestInput
                   ) -> AlgorithmRequest:
    algorithm = _algorithm(session, data)
    organisation_id = algorithm.organisation_id
    _require(principal, organisation_id)
    values = data.model_dump()
    values["reference"] = registers.reference_for(session, REQUESTS, organisation_id,
                                                  values["reference"], year=data.received_on.year)
    request = AlgorithmRequest(organisation_id=organisation_id, **values)
    session.add(request)
    session.flush()
    registers.record(session, principal, REQUESTS, request, "created",
                     [k for k, v in values.items() if v])
    return request


def update_request(session: Session, principal: Principal, request: AlgorithmRequest,
                   data: AlgorithmRequestInput) -> list[str]:
    _require(principal, request.organisation_id)
    algorithm = _algorithm(session, data)
    if algorithm.organisation_id != request.organisation_id:
        raise Invalid("Une demande ne passe pas à l'algorithme d'une autre organisation.")
    values = data.model_dump()
    values["reference"] = registers.reference_for(session, REQUESTS, request.organisation_id,
                                                  values["reference"], entry=request)
    changed = apply_changes(request, values)
    if changed:
        request.updated_at = now()
        registers.record(session, principal, REQUESTS, request, "updated", changed)
    return changed


def request_input(request: AlgorithmRequest) -> AlgorithmRequestInput:
    return AlgorithmRequestInput.model_validate(
        {f: getattr(request, f) for f in AlgorithmRequestInput.model_fields})


def list_requests(session: Session, principal: Principal, *, organisation_id: int | None = None,
                  overdue: bool = False, today: date | None = None) -> list[AlgorithmRequest]:
    query = (select(AlgorithmRequest)
             .where(registers.visible(REQUESTS, principal, organisation_id))
             .order_by(AlgorithmRequest.received_on.desc(), AlgorithmRequest.id))
    found = list(session.scalars(query))
    return [r for r in found if clock(r, today).overdue] if overdue else found


def draft_answer(algorithm: PublicAlgorithm) -> dict[str, str]:
    """The four items as the register describes them, for the agent to complete (the third
    with the values of the person's own situation)."""
    if algorithm.automation == Automation.FULLY_AUTOMATED:
        contribution = "La décision a été entièrement déterminée par le traitement."
    else:
        contribution = ("Le traitement a proposé un résultat, examiné par un agent avant la "
                        "décision.")
    if algorithm.human_oversight:
        contribution += " " + algorithm.human_oversight
    data = [d.title for d in algorithm.datasets]
    parameters = [f"{p['name']}" + (f" (pondération : {p['weight']})" if p.get("weight") else "")
                  + " : [valeur retenue pour votre situation]" for p in algorithm.parameters]
    return {"contribution": contribution,
            "data_and_sources": ("Données utilisées : " + ", ".join(data) + ".") if data else "",
            "parameters_applied": "\n".join(parameters),
            "operations": algorithm.operations}


def answer_text(request: AlgorithmRequest) -> str:
    """The answer sent to the person: the four items, in the order of R311-3-1-2."""
    lines = [f"Objet : communication des règles de l'algorithme « {request.algorithm.name} » "
             f"(votre demande {request.reference} du {_fr(request.received_on)})", ""]
    for number, (field, title) in enumerate(ITEMS.items(), start=1):
        lines += [f"{number}. {title}", getattr(request, field) or "", ""]
    return "\n".join(lines).rstrip() + "\n"


def request_dict(request: AlgorithmRequest, today: date | None = None) -> dict[str, Any]:
    c = clock(request, today)
    data = {f: plain(getattr(request, f)) for f in AlgorithmRequestInput.model_fields}
    return {"id": request.id, "organisation_id": request.organisation_id, **data,
            "status_label": label(request.status), "deadline": c.deadline.isoformat(),
            "overdue": c.overdue, "answered_late": c.answered_late, "days_left": c.days_left,
            "created_at": plain(request.created_at), "updated_at": plain(request.updated_at)}
