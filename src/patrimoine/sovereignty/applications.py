"""The applications register: validation (French messages), links to inventory datasets and
to processing activities of the GDPR register, history and audit through the register
kernel (access/registers), and the counts by hosting, location or organisation."""

from __future__ import annotations

import re
from enum import StrEnum
from typing import Any

from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import func, not_, or_, select
from sqlalchemy.orm import Session

from patrimoine.access import registers
from patrimoine.access.permissions import (
    can_edit_sovereignty,
    readable_datasets,
    require,
    sovereignty_organisations,
)
from patrimoine.access.principal import Principal
from patrimoine.core.clock import now
from patrimoine.core.db import DbInt
from patrimoine.core.errors import Invalid
from patrimoine.core.text import key
from patrimoine.core.values import plain
from patrimoine.core.vocabulary import label
from patrimoine.inventory.models import Dataset, Organisation
from patrimoine.protection.register.models import ProcessingActivity
from patrimoine.sovereignty import strategy
from patrimoine.sovereignty.models import (
    ADEQUACY_COUNTRIES,
    Application,
    ApplicationChange,
    ApplicationStatus,
    Certification,
    DataLocation,
    HostingMode,
    TransferTool,
)

APPLICATIONS = registers.Register(
    entity=Application, audit="sovereignty.application", readers=sovereignty_organisations,
    reading="consulter la cartographie applicative de cette organisation",
    not_found="Application introuvable.",
    numbering=registers.Numbering("APP", 4, yearly=False), key="uid",
    history=lambda a: ApplicationChange(application_id=a.id))

_REFERENCE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._/-]*$")


class ApplicationInput(BaseModel):
    """An application as a person or an import states it."""

    model_config = ConfigDict(str_strip_whitespace=True, extra="forbid")

    organisation_id: DbInt
    reference: str | None = Field(default=None, max_length=40)
    name: str = Field(min_length=1, max_length=300)
    vendor: str | None = Field(default=None, max_length=300)
    purpose: str = ""
    department: str | None = Field(default=None, max_length=300)
    business_owner: str | None = Field(default=None, max_length=300)
    technical_owner: str | None = Field(default=None, max_length=300)
    status: ApplicationStatus = ApplicationStatus.IN_SERVICE
    hosting_mode: HostingMode
    host: str | None = Field(default=None, max_length=300)
    location: DataLocation
    country: str | None = Field(default=None, max_length=100)
    adequacy_decision: str | None = Field(default=None, max_length=300)
    transfer_tool: TransferTool | None = None
    non_eu_law_exposure: bool = False
    certifications: list[Certification] = Field(default_factory=list)
    sensitivity: str | None = Field(default=None, max_length=40)
    datasets: list[str] = Field(default_factory=list)  # inventory slugs
    activities: list[str] = Field(default_factory=list)  # register references


EDITABLE_FIELDS = tuple(f for f in ApplicationInput.model_fields if f != "organisation_id")
_SCALARS = tuple(f for f in EDITABLE_FIELDS if f not in ("datasets", "activities"))


def placement_errors(data: ApplicationInput) -> list[tuple[str, str]]:
    """(field, French message) of what does not hold together in a placement."""
    errors = []
    if data.hosting_mode != HostingMode.OWN and not data.host:
        errors.append(("host", "Indiquez l'hébergeur ou l'éditeur qui héberge l'application."))
    if data.location == DataLocation.ADEQUACY:
        if not data.country:
            errors.append(("country", "Indiquez le pays couvert par la décision d'adéquation."))
        elif key(data.country) not in ADEQUACY_COUNTRIES:
            errors.append(("country", f"« {data.country} » ne fait pas l'objet d'une décision "
                           "d'adéquation connue ; choisissez « Autre pays tiers » et l'outil "
                           "de transfert."))
    if data.location == DataLocation.THIRD_COUNTRY:
        if not data.country:
            errors.append(("country", "Indiquez le pays tiers où se trouvent les données."))
        if data.transfer_tool is None:
            errors.append(("transfer_tool", "Un transfert hors UE sans décision d'adéquation "
                           "demande un outil : clauses contractuelles types, règles "
                           "d'entreprise contraignantes ou dérogation de l'article 49."))
    elif data.transfer_tool is not None:
        errors.append(("transfer_tool", "L'outil de transfert ne concerne que les données "
                       "situées dans un pays tiers sans décision d'adéquation."))
    if data.reference is not None and not _REFERENCE.match(data.reference):
        errors.append(("reference", f"Référence « {data.reference} » invalide : lettres, "
                       "chiffres, points, tirets et barres obliques seulement, sans espace."))
    return errors


def check_links(session: Session, org: Organisation, data: ApplicationInput
           ) -> tuple[list[Dataset], list[ProcessingActivity]]:
    datasets = list(session.scalars(select(Dataset).where(
        Dataset.slug.in_(data.datasets), Dataset.organisation_id == org.id))) \
        if data.datasets else []
    missing = sorted(set(data.datasets) - {d.slug for d in datasets})
    if missing:
        raise Invalid(f"Jeux de données inconnus dans l'inventaire de « {org.name} » : "
                      f"{', '.join(missing)}.")
    activities = list(session.scalars(select(ProcessingActivity).where(
        ProcessingActivity.reference.in_(data.activities),
        ProcessingActivity.organisation_id == org.id))) if data.activities else []
    missing = sorted(set(data.activities) - {a.reference for a in activities})
    if missing:
        raise Invalid(f"Traitements inconnus dans le registre de « {org.name} » : "
                      f"{', '.join(missing)}.")
    return datasets, activities


def _check(session: Session, data: ApplicationInput
           ) -> tuple[list[Dataset], list[ProcessingActivity]]:
    org = session.get(Organisation, data.organisation_id)
    if org is None:
        raise Invalid("Organisation inconnue.")
    errors = placement_errors(data)
    if errors:
        raise Invalid(f"L'application « {data.name} » n'est pas valide.",
                      errors=[m for _, m in errors])
    strategy.check_level(session, org.id, data.sensitivity)
    return check_links(session, org, data)


def values_of(application: Application) -> dict[str, Any]:
    """The application's editable fields, as plain values."""
    out = {f: plain(getattr(application, f)) for f in _SCALARS}
    out["datasets"] = sorted(d.slug for d in application.datasets)
    out["activities"] = sorted(a.reference for a in application.activities)
    return out


def hidden_slugs(session: Session, reader: Principal, organisation_id: int) -> set[str]:
    """The organisation's datasets `reader` may not read: an application (its links, its
    history) names them only to those who may."""
    return set(session.scalars(select(Dataset.slug).where(
        Dataset.organisation_id == organisation_id, not_(readable_datasets(reader)))))


def values_for(application: Application, hidden: set[str]) -> dict[str, Any]:
    """values_of() as a reader sees them (`hidden`: hidden_slugs() of that reader)."""
    out = values_of(application)
    out["datasets"] = [slug for slug in out["datasets"] if slug not in hidden]
    return out


def shown_change(changes: dict[str, Any], hidden: set[str]) -> dict[str, Any]:
    """A history entry's changes as a reader may see them (hidden dataset slugs left out)."""
    if "datasets" not in changes or not hidden:
        return changes
    return {**changes, "datasets": [[slug for slug in (side or []) if slug not in hidden]
                                    for side in changes["datasets"]]}


def input_of(application: Application) -> ApplicationInput:
    return ApplicationInput.model_validate({**values_of(application),
                                           "organisation_id": application.organisation_id})


def wanted(data: ApplicationInput) -> dict[str, Any]:
    out = {f: plain(getattr(data, f)) for f in _SCALARS}
    out["certifications"] = sorted(set(out["certifications"]))
    out["datasets"] = sorted(set(data.datasets))
    out["activities"] = sorted(set(data.activities))
    return out


def create_application(session: Session, principal: Principal, data: ApplicationInput, *,
                       action: str = "created") -> Application:
    require(can_edit_sovereignty(principal, data.organisation_id), principal,
            "modifier la cartographie applicative de cette organisation")
    datasets, activities = _check(session, data)
    reference = data.reference
    if reference is None:
        reference = registers.next_reference(session, APPLICATIONS, data.organisation_id)
    elif registers.reference_taken(session, APPLICATIONS, data.organisation_id, reference):
        raise Invalid(f"La référence « {reference} » est déjà prise dans cette cartographie.")
    scalars = {f: getattr(data, f) for f in _SCALARS if f != "reference"}
    scalars["certifications"] = wanted(data)["certifications"]
    application = Application(organisation_id=data.organisation_id, reference=reference,
                              **scalars)
    application.datasets, application.activities = datasets, activities
    session.add(application)
    session.flush()
    changes = {f: [None, v] for f, v in values_of(application).items() if v not in (None, "", [])}
    registers.record(session, principal, APPLICATIONS, application, action, changes)
    return application


def update_application(session: Session, principal: Principal, application: Application,
                       data: ApplicationInput, *, action: str = "updated"
                       ) -> dict[str, list[Any]]:
    """Apply `data`; return the changes ({} when nothing differs)."""
    require(can_edit_sovereignty(principal, application.organisation_id), principal,
            "modifier la cartographie applicative de cette organisation")
    if data.organisation_id != application.organisation_id:
        raise Invalid("Une application ne change pas d'organisation : créez-la dans la "
                      "cartographie de l'autre organisation.")
    datasets, activities = _check(session, data)
    if data.reference is None:
        data = data.model_copy(update={"reference": application.reference})
    elif registers.reference_taken(session, APPLICATIONS, application.organisation_id,
                                   data.reference, application.id):
        raise Invalid(f"La référence « {data.reference} » est déjà prise dans cette "
                      "cartographie.")
    before, after = values_of(application), wanted(data)
    changes = {f: [before[f], after[f]] for f in after if before[f] != after[f]}
    if not changes:
        return {}
    for f in _SCALARS:
        if f in changes:
            setattr(application, f, after[f] if f == "certifications" else getattr(data, f))
    if "datasets" in changes:
        application.datasets = datasets
    if "activities" in changes:
        application.activities = activities
    application.updated_at = now()
    registers.record(session, principal, APPLICATIONS, application, action, changes)
    return changes


def delete_application(session: Session, principal: Principal, application: Application) -> None:
    require(can_edit_sovereignty(principal, application.organisation_id), principal,
            "modifier la cartographie applicative de cette organisation")
    registers.record(session, principal, APPLICATIONS, application, "deleted")
    session.delete(application)
    session.flush()


def get_application(session: Session, principal: Principal, application_id: int) -> Application:
    found: Application = registers.get(session, APPLICATIONS, principal, application_id)
    return found


def list_applications(session: Session, principal: Principal, *, q: str | None = None,
                      organisation_id: int | None = None, filters: dict[str, str] | None = None
                      ) -> list[Application]:
    """Applications the principal may read; `q` searches name, vendor, host and reference;
    `filters` ({field: value}) narrows by status, hosting_mode, location or sensitivity."""
    query = select(Application).where(registers.visible(APPLICATIONS, principal,
                                                        organisation_id))
    if q:
        text = q.strip().lower()  # searched literally: % and _ are not wildcards
        query = query.where(or_(*(func.lower(func.coalesce(column, "")).contains(
            text, autoescape=True) for column in (Application.name, Application.vendor,
                                                  Application.host, Application.reference))))
    for field, value in (filters or {}).items():
        if field not in FACETS:
            raise Invalid(f"Filtre « {field} » inconnu.")
        query = query.where(getattr(Application, field) == value)
    return list(session.scalars(query.order_by(Application.organisation_id, Application.name,
                                               Application.id)))


def history(session: Session, principal: Principal, application: Application
            ) -> list[ApplicationChange]:
    get_application(session, principal, application.id)
    return list(session.scalars(
        select(ApplicationChange).where(ApplicationChange.application_id == application.id)
        .order_by(ApplicationChange.at.desc(), ApplicationChange.id.desc())))


FACETS = ("status", "hosting_mode", "location", "sensitivity")
STATS_BY = {"hosting": Application.hosting_mode, "location": Application.location,
            "organisation": Organisation.name}


def stats(session: Session, principal: Principal, by: str, *,
          organisation_id: int | None = None, include_retired: bool = False
          ) -> list[tuple[str, int]]:
    """(French label, count) of the readable applications grouped `by` hosting mode, data
    location or organisation, largest first; retired applications left out unless asked."""
    column = STATS_BY.get(by)
    if column is None:
        raise Invalid(f"Regroupement « {by} » inconnu : choisissez parmi "
                      + ", ".join(f"« {b} »" for b in STATS_BY) + ".")
    query = (select(column, func.count()).select_from(Application)
             .join(Organisation, Organisation.id == Application.organisation_id)
             .where(registers.visible(APPLICATIONS, principal, organisation_id)))
    if not include_retired:
        query = query.where(Application.status != ApplicationStatus.RETIRED)
    rows = session.execute(query.group_by(column)).all()
    labelled = [(label(value) if isinstance(value, StrEnum) else str(value), count)
                for value, count in rows]
    return sorted(labelled, key=lambda r: (-r[1], r[0]))
