"""Data protection impact assessments (Article 35 GDPR).

The rule (the CNIL's, after the EDPB's WP248): a DPIA is required when a processing activity
meets two or more of the nine criteria, or one criterion while it processes special-category
data (Art. 9, Art. 10 or the NIR), or when it is of a type on the CNIL's list of those that
always require one (deliberation 2018-327), unless an exemption is recorded (for instance a
processing on the CNIL's list of those that need none). The criteria counted are those the
DPO ticked and those the entry's own fields point to (`register/criteria.py`: special
categories, vulnerable persons, large scale...), so that an entry nobody assessed cannot read
"Non requise". The register shows each activity's DPIA state; `missing` is a required DPIA
of which no record exists.

A DPIA record follows the CNIL's PIA method: context (description), necessity and
proportionality, the three risks scored for likelihood and severity on 1 to 4, measures, the
DPO's opinion and the controller's decision.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date
from enum import StrEnum
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator
from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from patrimoine.access import registers
from patrimoine.access.permissions import can_edit_register, register_organisations, require
from patrimoine.access.principal import Principal
from patrimoine.core.clock import now
from patrimoine.core.values import apply_changes, plain
from patrimoine.core.vocabulary import define, label
from patrimoine.protection.register import criteria
from patrimoine.protection.register.criteria import MandatoryType
from patrimoine.protection.register.models import Dpia, ProcessingActivity
from patrimoine.protection.register.service import ACTIVITIES
from patrimoine.protection.register.vocabulary import DpiaCriterion, DpiaDecision, RiskKind


class DpiaState(StrEnum):
    NOT_REQUIRED = "not_required"
    EXEMPTED = "exempted"
    MISSING = "missing"
    IN_PROGRESS = "in_progress"
    DONE = "done"
    UNFAVOURABLE = "unfavourable"


define(DpiaState, {
    DpiaState.NOT_REQUIRED: "Non requise",
    DpiaState.EXEMPTED: "Exemptée",
    DpiaState.MISSING: "Requise et manquante",
    DpiaState.IN_PROGRESS: "En cours",
    DpiaState.DONE: "Réalisée",
    DpiaState.UNFAVOURABLE: "Avis défavorable",
})

# A DPIA belongs to its activity's register: seen by who reads it, named by its reference.
DPIAS = registers.Register(
    entity=Dpia, audit="protection.dpia", readers=register_organisations,
    reading="consulter le registre de cette organisation",
    not_found="Analyse d'impact introuvable.",
    organisation=lambda d: d.activity.organisation_id,
    summary=lambda d: {"activity": d.activity.reference,
                       "organisation_id": d.activity.organisation_id})


def dpia_required(criteria: Iterable[str], special_categories: Iterable[str]) -> bool:
    """Two or more criteria, or one with special-category data."""
    count = len(set(criteria))
    return count >= 2 or (count == 1 and any(True for _ in special_categories))


@dataclass(frozen=True)
class DpiaAssessment:
    criteria: list[DpiaCriterion]  # every criterion met: ticked, or pointed to by the fields
    special_data: bool
    required: bool
    exempted: bool
    state: DpiaState
    # Criteria the entry's fields point to that the DPO has not ticked, with their reasons.
    proposed: dict[DpiaCriterion, str] = field(default_factory=dict)
    # Types of the CNIL's list (deliberation 2018-327) the entry is recognised as.
    cnil_types: list[MandatoryType] = field(default_factory=list)

    @property
    def label(self) -> str:
        return label(self.state)

    def as_dict(self) -> dict[str, Any]:
        return {"criteria": [c.value for c in self.criteria], "criteria_count": len(self.criteria),
                "proposed": [{"criterion": c.value, "label": label(c), "reason": reason}
                             for c, reason in self.proposed.items()],
                "cnil_list": [{"number": t.number, "label": t.label} for t in self.cnil_types],
                "special_data": self.special_data, "required": self.required,
                "exempted": self.exempted, "state": self.state.value, "state_label": self.label}


def assess(activity: ProcessingActivity) -> DpiaAssessment:
    ticked = [DpiaCriterion(c) for c in activity.dpia_criteria]
    proposed = {c: reason for c, reason in criteria.proposed_criteria(activity).items()
                if c not in ticked}
    met = [c for c in DpiaCriterion if c in ticked or c in proposed]
    cnil_types = criteria.cnil_mandatory_types(activity)
    required = dpia_required(met, activity.special_categories) or bool(cnil_types)
    exempted = required and bool(activity.dpia_exemption)
    latest = activity.dpias[-1] if activity.dpias else None
    if latest is not None:
        state = {DpiaDecision.PENDING: DpiaState.IN_PROGRESS,
                 DpiaDecision.UNFAVOURABLE: DpiaState.UNFAVOURABLE}.get(latest.decision,
                                                                         DpiaState.DONE)
    elif exempted:
        state = DpiaState.EXEMPTED
    elif required:
        state = DpiaState.MISSING
    else:
        state = DpiaState.NOT_REQUIRED
    return DpiaAssessment(met, bool(activity.special_categories), required, exempted, state,
                          proposed, cnil_types)


def missing_dpias(session: Session, principal: Principal, organisation_id: int | None = None
                  ) -> list[ProcessingActivity]:
    """Activities of the registers the principal reads whose required DPIA does not exist."""
    if organisation_id is not None and not registers.may_see(ACTIVITIES, principal,
                                                             organisation_id):
        return []
    query = (select(ProcessingActivity).options(selectinload(ProcessingActivity.dpias))
             .where(registers.visible(ACTIVITIES, principal, organisation_id))
             .order_by(ProcessingActivity.organisation_id, ProcessingActivity.reference))
    return [a for a in session.scalars(query) if assess(a).state == DpiaState.MISSING]


class Risk(BaseModel):
    model_config = ConfigDict(str_strip_whitespace=True, extra="forbid")

    kind: RiskKind
    description: str = ""
    likelihood: int = Field(ge=1, le=4)
    severity: int = Field(ge=1, le=4)


def risk_level(likelihood: int, severity: int) -> str:
    """The CNIL's map: high when both are 3 or more, or one is 4 and the other 2 or more."""
    if (likelihood >= 3 and severity >= 3) or max(likelihood, severity) == 4 and min(
            likelihood, severity) >= 2:
        return "high"
    if likelihood >= 3 or severity >= 3:
        return "significant"
    return "limited"


class DpiaInput(BaseModel):
    model_config = ConfigDict(str_strip_whitespace=True, extra="forbid")

    description: str = ""
    necessity_proportionality: str = ""
    risks: list[Risk] = Field(default_factory=list)
    measures: list[str] = Field(default_factory=list)
    dpo_opinion: str | None = None
    dpo_opinion_on: date | None = None
    decision: DpiaDecision = DpiaDecision.PENDING
    decision_by: str | None = Field(default=None, max_length=200)
    decided_on: date | None = None
    started_on: date
    review_on: date | None = None

    @field_validator("measures")
    @classmethod
    def _clean(cls, value: list[str]) -> list[str]:
        return [" ".join(v.split()) for v in value if v.strip()]

    @field_validator("dpo_opinion", "decision_by")
    @classmethod
    def _empty(cls, value: str | None) -> str | None:
        return value or None

    @model_validator(mode="after")
    def _consistent(self) -> DpiaInput:
        errors = []
        if self.dpo_opinion_on is not None and self.dpo_opinion is None:
            errors.append("Une date d'avis du DPO est donnée sans l'avis.")
        if self.decision != DpiaDecision.PENDING:
            if self.decided_on is None or self.decision_by is None:
                errors.append("Une décision se date et nomme qui l'a prise.")
            if self.dpo_opinion is None:
                errors.append("Le responsable décide après avoir recueilli l'avis du DPO "
                              "(article 35.2) : renseignez l'avis.")
            if not self.risks:
                errors.append("Une analyse d'impact conclue évalue au moins un risque.")
        elif self.decided_on is not None:
            errors.append("Une analyse en cours n'a pas de date de décision.")
        for day, what in ((self.decided_on, "La décision"), (self.dpo_opinion_on, "L'avis du DPO"),
                          (self.review_on, "La révision")):
            if day is not None and day < self.started_on:
                errors.append(f"{what} ne peut précéder le début de l'analyse.")
        kinds = [r.kind for r in self.risks]
        if len(set(kinds)) != len(kinds):
            errors.append("Chaque risque n'est évalué qu'une fois.")
        if errors:
            raise ValueError(" ".join(errors))
        return self


def get_dpia(session: Session, principal: Principal, dpia_id: int) -> Dpia:
    dpia: Dpia = registers.get(session, DPIAS, principal, dpia_id)
    return dpia


def create_dpia(session: Session, principal: Principal, activity: ProcessingActivity,
                data: DpiaInput) -> Dpia:
    require(can_edit_register(principal, activity.organisation_id), principal,
            "modifier le registre de cette organisation")
    dpia = Dpia(activity=activity, **data.model_dump(mode="python", exclude={"risks"}),
                risks=[r.model_dump(mode="json") for r in data.risks])
    session.add(dpia)
    session.flush()
    registers.record(session, principal, DPIAS, dpia, "created", data.model_fields_set)
    return dpia


def update_dpia(session: Session, principal: Principal, dpia: Dpia, data: DpiaInput
                ) -> list[str]:
    require(can_edit_register(principal, dpia.activity.organisation_id), principal,
            "modifier le registre de cette organisation")
    values = data.model_dump(mode="python", exclude={"risks"})
    values["risks"] = [r.model_dump(mode="json") for r in data.risks]
    changed = apply_changes(dpia, values)
    if changed:
        dpia.updated_at = now()
        registers.record(session, principal, DPIAS, dpia, "updated", changed)
    return changed


def delete_dpia(session: Session, principal: Principal, dpia: Dpia) -> None:
    require(can_edit_register(principal, dpia.activity.organisation_id), principal,
            "modifier le registre de cette organisation")
    registers.record(session, principal, DPIAS, dpia, "deleted", [])
    activity = dpia.activity
    activity.dpias.remove(dpia)
    session.flush()


def dpia_dict(dpia: Dpia) -> dict[str, Any]:
    return {
        "id": dpia.id, "activity_id": dpia.activity_id, "activity": dpia.activity.reference,
        "description": dpia.description,
        "necessity_proportionality": dpia.necessity_proportionality,
        "risks": [{**r, "level": risk_level(r["likelihood"], r["severity"])} for r in dpia.risks],
        "measures": list(dpia.measures), "dpo_opinion": dpia.dpo_opinion,
        "dpo_opinion_on": plain(dpia.dpo_opinion_on), "decision": dpia.decision.value,
        "decision_by": dpia.decision_by, "decided_on": plain(dpia.decided_on),
        "started_on": plain(dpia.started_on), "review_on": plain(dpia.review_on),
        "created_at": plain(dpia.created_at), "updated_at": plain(dpia.updated_at),
    }
