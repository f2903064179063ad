"""Requests for data of general interest to private holders and concession holders.

- A request names the holder (a concession holder, a company, an association, a public body;
  its SIREN checked by python-stdnum), the data asked, the legal basis (the data of a
  concession are the authority's under the code de la commande publique; otherwise a
  voluntary agreement or another legal obligation) and follows one state machine:
  asked → in discussion → agreed or refused → (agreed) delivered. Asked may go straight to
  agreed or refused. A state carries its date (discussion, decision, delivery), dates never
  go backwards, and a delivery lists the datasets received, linked to the organisation's
  inventory. An agreement under a voluntary basis carries its document (a link).
- `public` requests appear in the public summary (holder, data asked, state, dates, the
  public summary text, the datasets received that are public).
- Administrators and chief data officers lead the dialogue (access/permissions.py); staff
  read it. Every change is audited ("transparency.general_interest.*").
"""

from __future__ import annotations

from datetime import date
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator
from sqlalchemy import select
from sqlalchemy.orm import Session
from stdnum.fr import siren

from patrimoine.access import registers
from patrimoine.access.permissions import (
    algorithm_organisations,
    can_manage_general_interest,
    is_public,
    require,
)
from patrimoine.access.principal import Principal
from patrimoine.core.clock import now
from patrimoine.core.db import DbInt
from patrimoine.core.errors import Invalid
from patrimoine.core.values import apply_changes, plain
from patrimoine.core.vocabulary import label
from patrimoine.inventory.models import Dataset, Organisation
from patrimoine.transparency.models import (
    GeneralInterestBasis,
    GeneralInterestRequest,
    GeneralInterestState,
    HolderKind,
)
from patrimoine.transparency.service import linked_datasets

State = GeneralInterestState
# Where each state may go next.
NEXT: dict[State, set[State]] = {
    State.ASKED: {State.IN_DISCUSSION, State.AGREED, State.REFUSED},
    State.IN_DISCUSSION: {State.AGREED, State.REFUSED},
    State.AGREED: {State.DELIVERED},
    State.REFUSED: set(),
    State.DELIVERED: set(),
}

REQUESTS = registers.Register(
    entity=GeneralInterestRequest, audit="transparency.general_interest",
    readers=algorithm_organisations,
    reading="consulter les demandes de données d'intérêt général de cette organisation",
    not_found="Demande introuvable.", numbering=registers.Numbering("DIG", 3))


def _fr(day: date) -> str:
    return day.strftime("%d/%m/%Y")


class GeneralInterestInput(BaseModel):
    model_config = ConfigDict(str_strip_whitespace=True, extra="forbid")

    organisation_id: DbInt
    reference: str | None = Field(default=None, max_length=40)
    holder: str = Field(min_length=1, max_length=300)
    holder_kind: HolderKind
    holder_siren: str | None = None
    data_asked: str = Field(min_length=1)
    basis: GeneralInterestBasis
    basis_details: str = ""
    state: State = State.ASKED
    asked_on: date
    discussion_on: date | None = None
    decided_on: date | None = None
    delivered_on: date | None = None
    agreement_url: str | None = Field(default=None, max_length=1000)
    public_summary: str = ""
    public: bool = False
    dataset_ids: list[DbInt] = []

    @field_validator("reference", "holder_siren", "agreement_url")
    @classmethod
    def _empty(cls, value: str | None) -> str | None:
        return value or None

    @field_validator("holder_siren")
    @classmethod
    def _siren(cls, value: str | None) -> str | None:
        if value is None:
            return None
        compact = siren.compact(value)
        if not siren.is_valid(compact):
            raise ValueError(f"« {value} » n'est pas un numéro SIREN valide (9 chiffres dont "
                             "la clé est juste).")
        return str(compact)

    @field_validator("agreement_url")
    @classmethod
    def _url(cls, value: str | None) -> str | None:
        if value is not None and not value.startswith(("https://", "http://")):
            raise ValueError(f"« {value} » n'est pas une adresse web (http:// ou https://).")
        return value

    @field_validator("dataset_ids")
    @classmethod
    def _distinct(cls, value: list[int]) -> list[int]:
        return sorted(set(value))

    @model_validator(mode="after")
    def _consistent(self) -> GeneralInterestInput:
        errors = []
        reached = {State.IN_DISCUSSION: self.discussion_on,
                   State.AGREED: self.decided_on, State.REFUSED: self.decided_on,
                   State.DELIVERED: self.delivered_on}
        needed = {State.IN_DISCUSSION: [], State.AGREED: [State.AGREED],
                  State.REFUSED: [State.REFUSED], State.DELIVERED: [State.AGREED,
                                                                    State.DELIVERED]}
        names = {State.IN_DISCUSSION: "le début de la discussion",
                 State.AGREED: "la date de la décision", State.REFUSED: "la date de la décision",
                 State.DELIVERED: "la date de livraison"}
        for state in needed.get(self.state, []):
            if reached[state] is None:
                errors.append(f"Une demande « {label(self.state).lower()} » indique "
                              f"{names[state]}.")
        if self.state == State.ASKED and (self.decided_on or self.delivered_on):
            errors.append("Une demande encore au stade « demandées » n'a ni décision ni "
                          "livraison.")
        if self.state in (State.IN_DISCUSSION, State.REFUSED) and self.delivered_on:
            errors.append("Seules des données accordées sont livrées.")
        days = [("la demande", self.asked_on), ("la discussion", self.discussion_on),
                ("la décision", self.decided_on), ("la livraison", self.delivered_on)]
        known = [(what, day) for what, day in days if day is not None]
        for (first, a), (then, b) in zip(known, known[1:], strict=False):
            if b < a:
                errors.append(f"La date de {then} ({_fr(b)}) précède celle de {first} "
                              f"({_fr(a)}).")
        if self.state == State.DELIVERED and not self.dataset_ids:
            errors.append("Une livraison indique les jeux de données reçus (inscrits à "
                          "l'inventaire).")
        if (self.state in (State.AGREED, State.DELIVERED)
                and self.basis == GeneralInterestBasis.VOLUNTARY and not self.agreement_url):
            errors.append("Un accord volontaire est joint : indiquez l'adresse du document "
                          "signé.")
        if self.public and not self.public_summary:
            errors.append("Une demande rendue publique porte un résumé public.")
        if errors:
            raise ValueError(" ".join(errors))
        return self


_COLUMNS = [f for f in GeneralInterestInput.model_fields if f != "dataset_ids"]


def _check(session: Session, data: GeneralInterestInput) -> list[Dataset]:
    if session.get(Organisation, data.organisation_id) is None:
        raise Invalid("Organisation inconnue.")
    if data.asked_on > now().date():
        raise Invalid(f"La date de la demande ({_fr(data.asked_on)}) est dans le futur.")
    datasets = list(session.scalars(select(Dataset).where(Dataset.id.in_(data.dataset_ids))))
    foreign = set(data.dataset_ids) - {d.id for d in datasets
                                       if d.organisation_id == data.organisation_id}
    if foreign:
        raise Invalid("Ces jeux de données n'appartiennent pas à l'inventaire de "
                      f"l'organisation : {', '.join(str(i) for i in sorted(foreign))}.")
    return datasets


def _require(principal: Principal, organisation_id: int) -> None:
    require(can_manage_general_interest(principal, organisation_id), principal,
            "gérer les demandes de données d'intérêt général de cette organisation")


def get_request(session: Session, principal: Principal, request_id: int
                ) -> GeneralInterestRequest:
    found: GeneralInterestRequest = registers.get(session, REQUESTS, principal, request_id)
    return found


def create_request(session: Session, principal: Principal, data: GeneralInterestInput
                   ) -> GeneralInterestRequest:
    _require(principal, data.organisation_id)
    datasets = _check(session, data)
    values = data.model_dump(include=set(_COLUMNS))
    values["reference"] = registers.reference_for(session, REQUESTS, data.organisation_id,
                                                  values["reference"], year=data.asked_on.year)
    request = GeneralInterestRequest(**values, datasets=datasets)
    session.add(request)
    session.flush()
    registers.record(session, principal, REQUESTS, request, "created",
                     [k for k, v in values.items() if v] + (["datasets"] if datasets else []))
    return request


def update_request(session: Session, principal: Principal, request: GeneralInterestRequest,
                   data: GeneralInterestInput) -> list[str]:
    _require(principal, request.organisation_id)
    if data.organisation_id != request.organisation_id:
        raise Invalid("Une demande ne change pas d'organisation.")
    if data.state != request.state and data.state not in NEXT[request.state]:
        allowed = ", ".join(f"« {label(s).lower()} »" for s in State if s in NEXT[request.state])
        raise Invalid(f"Une demande « {label(request.state).lower()} » ne passe pas à "
                      f"« {label(data.state).lower()} »"
                      + (f" ; elle peut passer à : {allowed}." if allowed else
                         " : c'est un état final."))
    datasets = _check(session, data)
    values = data.model_dump(include=set(_COLUMNS))
    values["reference"] = registers.reference_for(session, REQUESTS, request.organisation_id,
                                                  values["reference"], entry=request)
    changed = apply_changes(request, values)
    if [d.id for d in request.datasets] != [d.id for d in datasets]:
        request.datasets = datasets
        changed.append("datasets")
    if changed:
        request.updated_at = now()
        registers.record(session, principal, REQUESTS, request, "updated", changed)
    return changed


def request_input(request: GeneralInterestRequest) -> GeneralInterestInput:
    values = {f: getattr(request, f) for f in _COLUMNS}
    return GeneralInterestInput.model_validate(
        {**values, "dataset_ids": [d.id for d in request.datasets]})


def list_requests(session: Session, principal: Principal, *,
                  organisation_id: int | None = None, state: State | None = None
                  ) -> list[GeneralInterestRequest]:
    query = (select(GeneralInterestRequest)
             .where(registers.visible(REQUESTS, principal, organisation_id))
             .order_by(GeneralInterestRequest.asked_on.desc(), GeneralInterestRequest.id))
    if state is not None:
        query = query.where(GeneralInterestRequest.state == state)
    return list(session.scalars(query))


def request_dict(request: GeneralInterestRequest, reader: Principal) -> dict[str, Any]:
    data = {f: plain(getattr(request, f)) for f in _COLUMNS}
    return {"id": request.id, **data, "state_label": label(request.state),
            "holder_kind_label": label(request.holder_kind),
            "basis_label": label(request.basis),
            "next_states": [s.value for s in State if s in NEXT[request.state]],
            "datasets": linked_datasets(request.datasets, reader),
            "created_at": plain(request.created_at), "updated_at": plain(request.updated_at)}


def public_summary(session: Session) -> list[dict[str, Any]]:
    """The requests the authorities made public: what anyone reads. Received datasets are
    named only when they are public themselves."""
    found = session.scalars(select(GeneralInterestRequest)
                            .where(GeneralInterestRequest.public.is_(True))
                            .order_by(GeneralInterestRequest.asked_on.desc()))
    return [{"organisation": (o.name if (o := session.get(Organisation, r.organisation_id))
                              else ""),
             "reference": r.reference, "holder": r.holder,
             "holder_kind": label(r.holder_kind), "data_asked": r.data_asked,
             "basis": label(r.basis), "state": label(r.state), "asked_on": r.asked_on,
             "decided_on": r.decided_on, "delivered_on": r.delivered_on,
             "summary": r.public_summary,
             "datasets": [{"slug": d.slug, "title": d.title} for d in r.datasets
                          if is_public(d)]}
            for r in found]
