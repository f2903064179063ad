"""Charter partners: the companies, associations and public bodies that signed an
organisation's charter (SIREN checked with python-stdnum), their commitments, renewal and
the actions they report each year, and the public list of signatories."""

from __future__ import annotations

import re
from datetime import date
from typing import Any

from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import select
from sqlalchemy.orm import Session

from patrimoine.access import audit
from patrimoine.access.models import AuditEvent
from patrimoine.access.permissions import (
    can_edit_sovereignty,
    can_read_sovereignty,
    require,
)
from patrimoine.access.principal import Principal
from patrimoine.core.db import DbInt
from patrimoine.core.errors import Invalid, NotFound
from patrimoine.core.vocabulary import label
from patrimoine.inventory.models import Organisation
from patrimoine.sovereignty.models import CharterPartner, PartnerAction, PartnerKind
from patrimoine.standards.tableschema import siren_is_valid

EDITING = "modifier les partenaires de la charte de cette organisation"


class PartnerInput(BaseModel):
    model_config = ConfigDict(str_strip_whitespace=True, extra="forbid")

    organisation_id: DbInt
    name: str = Field(min_length=1, max_length=300)
    siren: str = Field(min_length=1, max_length=20)
    kind: PartnerKind
    signed_on: date
    document: str | None = Field(default=None, max_length=1000)
    commitments: str = ""
    renewal_on: date | None = None
    public: bool = True


class ActionInput(BaseModel):
    model_config = ConfigDict(str_strip_whitespace=True, extra="forbid")

    year: int = Field(ge=2000, le=2100)
    description: str = Field(min_length=1, max_length=5000)


def _checked(session: Session, data: PartnerInput, partner_id: int | None = None
             ) -> PartnerInput:
    if session.get(Organisation, data.organisation_id) is None:
        raise Invalid("Organisation inconnue.")
    siren = re.sub(r"[\s.]", "", data.siren)
    errors = []
    if not siren_is_valid(siren):
        errors.append(f"SIREN « {data.siren} » invalide : 9 chiffres dont la clé de contrôle "
                      "doit être juste.")
    if data.renewal_on and data.renewal_on < data.signed_on:
        errors.append("Le renouvellement précède la signature.")
    if errors:
        raise Invalid(f"Le partenaire « {data.name} » n'est pas valide.", errors=errors)
    taken = session.scalar(select(CharterPartner.id).where(
        CharterPartner.organisation_id == data.organisation_id,
        CharterPartner.siren == siren, CharterPartner.id != (partner_id or -1)))
    if taken is not None:
        raise Invalid(f"Le SIREN {siren} a déjà signé la charte de cette organisation.")
    return data.model_copy(update={"siren": siren})


_FIELDS = ("name", "siren", "kind", "signed_on", "document", "commitments", "renewal_on",
           "public")


def create_partner(session: Session, principal: Principal, data: PartnerInput
                   ) -> CharterPartner:
    require(can_edit_sovereignty(principal, data.organisation_id), principal, EDITING)
    data = _checked(session, data)
    partner = CharterPartner(organisation_id=data.organisation_id,
                             **{f: getattr(data, f) for f in _FIELDS})
    session.add(partner)
    session.flush()
    audit.record(session, principal, "sovereignty.partner.created",
                 f"charter_partner:{partner.id}", {"name": partner.name,
                                                   "siren": partner.siren},
                 organisation_id=partner.organisation_id)
    return partner


def update_partner(session: Session, principal: Principal, partner: CharterPartner,
                   data: PartnerInput) -> list[str]:
    require(can_edit_sovereignty(principal, partner.organisation_id), principal, EDITING)
    if data.organisation_id != partner.organisation_id:
        raise Invalid("Un partenaire ne change pas d'organisation.")
    data = _checked(session, data, partner.id)
    changed = [f for f in _FIELDS if getattr(partner, f) != getattr(data, f)]
    for f in changed:
        setattr(partner, f, getattr(data, f))
    if changed:
        audit.record(session, principal, "sovereignty.partner.updated",
                     f"charter_partner:{partner.id}", {"fields": changed},
                     organisation_id=partner.organisation_id)
    return changed


def record_action(session: Session, principal: Principal, partner: CharterPartner,
                  data: ActionInput) -> PartnerAction:
    require(can_edit_sovereignty(principal, partner.organisation_id), principal, EDITING)
    if data.year < partner.signed_on.year:
        raise Invalid(f"L'action de {data.year} précède la signature de la charte "
                      f"({partner.signed_on.year}).")
    action = PartnerAction(year=data.year, description=data.description)
    partner.actions.append(action)
    session.flush()
    audit.record(session, principal, "sovereignty.partner.action",
                 f"charter_partner:{partner.id}", {"year": data.year},
                 organisation_id=partner.organisation_id)
    return action


def get_partner(session: Session, principal: Principal, partner_id: int) -> CharterPartner:
    partner = session.get(CharterPartner, partner_id)
    if partner is None or not can_read_sovereignty(principal, partner.organisation_id):
        raise NotFound("Partenaire introuvable.")
    return partner


def history(session: Session, partner: CharterPartner) -> list[AuditEvent]:
    """The partner's audit entries, newest first."""
    return list(session.scalars(select(AuditEvent).where(
        AuditEvent.target == f"charter_partner:{partner.id}").order_by(AuditEvent.id.desc())))


def partner_input(partner: CharterPartner) -> PartnerInput:
    return PartnerInput.model_validate({"organisation_id": partner.organisation_id,
                                        **{f: getattr(partner, f) for f in _FIELDS}})


def list_partners(session: Session, principal: Principal, organisation_id: int
                  ) -> list[CharterPartner]:
    require(can_read_sovereignty(principal, organisation_id), principal,
            "consulter les partenaires de la charte de cette organisation")
    return list(session.scalars(select(CharterPartner).where(
        CharterPartner.organisation_id == organisation_id).order_by(CharterPartner.name)))


def public_signatories(session: Session, organisation_id: int) -> list[dict[str, Any]]:
    """The signatories an organisation shows to everyone: identity, kind, date, commitments
    and the actions reported (never the internal document reference)."""
    partners = session.scalars(select(CharterPartner).where(
        CharterPartner.organisation_id == organisation_id,
        CharterPartner.public.is_(True)).order_by(CharterPartner.signed_on,
                                                  CharterPartner.name))
    return [{"name": p.name, "siren": p.siren, "kind": p.kind.value, "kind_label": label(p.kind),
             "signed_on": p.signed_on.isoformat(), "commitments": p.commitments,
             "renewal_on": p.renewal_on.isoformat() if p.renewal_on else None,
             "actions": [{"year": a.year, "description": a.description} for a in p.actions]}
            for p in partners]


def signatory_organisations(session: Session) -> list[Organisation]:
    """The organisations with at least one public signatory, by name."""
    return list(session.scalars(select(Organisation).where(Organisation.id.in_(
        select(CharterPartner.organisation_id).where(CharterPartner.public.is_(True))))
        .order_by(Organisation.name)))
