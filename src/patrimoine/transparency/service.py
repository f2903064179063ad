"""The public algorithms register: describing, publishing and withdrawing an algorithm.

- An algorithm belongs to one organisation and is numbered in its register (ALG-001). Its
  datasets are the organisation's inventory datasets; its DPIA, one of the organisation's
  GDPR register.
- A published algorithm is complete: what a person needs to understand a decision (purpose,
  legal basis, public concerned, parameters with their weighting, operations, human oversight,
  appeal, a contact) and its publication date; an incomplete one is refused with the list of
  what is missing. Describing is open to the organisation's editors; publishing, withdrawing
  or changing a published entry is a decision of its administrators and chief data officers
  (access/permissions.py).
- Every change is audited ("transparency.algorithm.created", ".updated", ".deleted") with the
  names of the fields changed.

Services run inside the caller's unit of work and never commit.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator
from sqlalchemy import select
from sqlalchemy.orm import Session

from patrimoine.access import registers
from patrimoine.access.permissions import (
    algorithm_organisations,
    can_edit_algorithms,
    can_publish_algorithms,
    can_read_dataset,
    is_public,
    require,
)
from patrimoine.access.principal import Principal
from patrimoine.core.clock import now
from patrimoine.core.db import DbInt
from patrimoine.core.errors import Invalid, NotFound
from patrimoine.core.settings import Settings
from patrimoine.core.text import fold
from patrimoine.core.values import apply_changes, plain
from patrimoine.core.vocabulary import label
from patrimoine.documents import service as documents
from patrimoine.documents.models import Document as StoredDocument
from patrimoine.inventory.models import Dataset, Organisation
from patrimoine.protection.register.models import Dpia, ProcessingActivity
from patrimoine.sovereignty.models import Application, Contract
from patrimoine.transparency.models import (
    AlgorithmKind,
    AlgorithmStatus,
    Automation,
    DocumentKind,
    PublicAlgorithm,
)

ALGORITHMS = registers.Register(
    entity=PublicAlgorithm, audit="transparency.algorithm", readers=algorithm_organisations,
    reading="consulter les algorithmes de cette organisation",
    not_found="Algorithme introuvable.", numbering=registers.Numbering("ALG", 3, yearly=False))

# What a published entry must say, with the French name of each field.
REQUIRED_TO_PUBLISH = {
    "purpose": "la finalité", "legal_basis": "la base légale",
    "public_concerned": "le public concerné", "parameters": "les paramètres et leur pondération",
    "operations": "les opérations effectuées", "human_oversight": "l'intervention humaine",
    "appeal": "les voies de recours", "published_on": "la date de publication",
}


def _fr(day: date) -> str:
    return day.strftime("%d/%m/%Y")


def _url(value: str, what: str) -> str:
    if not value.startswith(("https://", "http://")) or " " in value:
        raise ValueError(f"{what} : « {value} » n'est pas une adresse web (http:// ou "
                         "https://).")
    return value


class Parameter(BaseModel):
    model_config = ConfigDict(str_strip_whitespace=True, extra="forbid")

    name: str = Field(min_length=1, max_length=200)
    description: str = ""
    weight: str = Field(default="", max_length=200)


class Document(BaseModel):
    """A link, or a file kept by Patrimoine (`document`: its uid; `url`: its address here)."""

    model_config = ConfigDict(str_strip_whitespace=True, extra="forbid")

    url: str = Field(min_length=1, max_length=1000)
    title: str = Field(default="", max_length=300)
    document: str | None = Field(default=None, pattern=r"^[0-9a-f]{32}$")

    @model_validator(mode="after")
    def _address(self) -> Document:
        if self.document is None:
            _url(self.url, "Document")
        elif not self.url.startswith(f"/documents/{self.document}/"):
            raise ValueError("Document : l'adresse ne correspond pas au fichier conservé.")
        return self


def stored_uids(documents: dict[str, Any]) -> list[str]:
    """The uids of the files kept for an entry's documents (the others are links)."""
    return [d["document"] for d in documents.values() if d.get("document")]


class AlgorithmInput(BaseModel):
    model_config = ConfigDict(str_strip_whitespace=True, extra="forbid")

    organisation_id: DbInt
    reference: str | None = Field(default=None, max_length=40)
    name: str = Field(min_length=1, max_length=300)
    department: str | None = Field(default=None, max_length=300)
    contact: str = Field(min_length=1, max_length=300)
    purpose: str = Field(min_length=1)
    legal_basis: str = Field(min_length=1)
    decisions_per_year: int | None = Field(default=None, ge=0, le=100_000_000)
    public_concerned: str = ""
    automation: Automation
    kind: AlgorithmKind
    parameters: list[Parameter] = []
    operations: str = ""
    human_oversight: str = ""
    appeal: str = ""
    risks: str = ""
    dpia_id: DbInt | None = None
    dataset_ids: list[DbInt] = []
    contract_ids: list[DbInt] = []
    application_ids: list[DbInt] = []
    supplier: str | None = Field(default=None, max_length=300)
    source_code_url: str | None = Field(default=None, max_length=1000)
    source_code_licence: str | None = Field(default=None, max_length=200)
    documents: dict[DocumentKind, Document] = {}
    status: AlgorithmStatus = AlgorithmStatus.DRAFT
    published_on: date | None = None
    review_on: date | None = None

    @field_validator("reference", "department", "supplier", "source_code_url",
                     "source_code_licence")
    @classmethod
    def _empty(cls, value: str | None) -> str | None:
        return value or None

    @field_validator("source_code_url")
    @classmethod
    def _source(cls, value: str | None) -> str | None:
        return None if value is None else _url(value, "Code source")

    @field_validator("dataset_ids", "contract_ids", "application_ids")
    @classmethod
    def _distinct(cls, value: list[int]) -> list[int]:
        return sorted(set(value))

    @model_validator(mode="after")
    def _consistent(self) -> AlgorithmInput:
        errors = []
        if self.status == AlgorithmStatus.PUBLISHED:
            missing = [what for field, what in REQUIRED_TO_PUBLISH.items()
                       if not getattr(self, field)]
            if missing:
                errors.append("Un algorithme publié doit indiquer : " + ", ".join(missing) + ".")
        if self.published_on and self.review_on and self.review_on < self.published_on:
            errors.append(f"La date de revue ({_fr(self.review_on)}) ne peut précéder la "
                          f"publication ({_fr(self.published_on)}).")
        if self.source_code_licence and not self.source_code_url:
            errors.append("Une licence est donnée sans l'adresse du code source.")
        names = [fold(p.name) for p in self.parameters]
        if len(names) != len(set(names)):
            errors.append("Deux paramètres portent le même nom.")
        if errors:
            raise ValueError(" ".join(errors))
        return self


# The links: input field -> (relationship, model, what the refusal calls them).
LINKS: dict[str, tuple[str, type[Any], str]] = {
    "dataset_ids": ("datasets", Dataset, "Ces jeux de données n'appartiennent pas à "
                                         "l'inventaire de l'organisation"),
    "contract_ids": ("contracts", Contract, "Ces contrats ne sont pas ceux de l'organisation"),
    "application_ids": ("applications", Application, "Ces applications ne sont pas dans la "
                                                     "cartographie de l'organisation"),
}
_COLUMNS = [f for f in AlgorithmInput.model_fields if f not in LINKS]


def _check(session: Session, data: AlgorithmInput) -> dict[str, list[Any]]:
    """The linked entries, each checked to belong to the algorithm's organisation."""
    if session.get(Organisation, data.organisation_id) is None:
        raise Invalid("Organisation inconnue.")
    if data.dpia_id is not None:
        dpia = session.get(Dpia, data.dpia_id)
        activity = session.get(ProcessingActivity, dpia.activity_id) if dpia else None
        if activity is None or activity.organisation_id != data.organisation_id:
            raise Invalid("Cette analyse d'impact n'appartient pas au registre de "
                          "l'organisation.")
    uids = [d.document for d in data.documents.values() if d.document]
    if uids:
        owned = set(session.scalars(select(StoredDocument.uid).where(
            StoredDocument.uid.in_(uids),
            StoredDocument.organisation_id == data.organisation_id)))
        if set(uids) - owned:
            raise Invalid("Un document joint n'appartient pas à l'organisation.")
    links = {}
    for field, (name, model, refusal) in LINKS.items():
        wanted = getattr(data, field)
        found = list(session.scalars(select(model).where(model.id.in_(wanted))
                                     .order_by(model.id))) if wanted else []
        foreign = set(wanted) - {e.id for e in found
                                 if e.organisation_id == data.organisation_id}
        if foreign:
            raise Invalid(f"{refusal} : {', '.join(str(i) for i in sorted(foreign))}.")
        links[name] = found
    return links


def _values(data: AlgorithmInput) -> dict[str, Any]:
    values = data.model_dump(include=set(_COLUMNS))
    values["documents"] = {k.value: {f: x for f, x in v.items() if x is not None}
                           for k, v in values["documents"].items()}
    return values


def _require_edit(principal: Principal, organisation_id: int) -> None:
    require(can_edit_algorithms(principal, organisation_id), principal,
            "décrire les algorithmes de cette organisation")


def _require_publish(principal: Principal, organisation_id: int) -> None:
    require(can_publish_algorithms(principal, organisation_id), principal,
            "publier ou retirer les algorithmes de cette organisation")


def get_algorithm(session: Session, principal: Principal, algorithm_id: int) -> PublicAlgorithm:
    algorithm: PublicAlgorithm = registers.get(session, ALGORITHMS, principal, algorithm_id)
    return algorithm


def create_algorithm(session: Session, principal: Principal, data: AlgorithmInput
                     ) -> PublicAlgorithm:
    _require_edit(principal, data.organisation_id)
    if data.status != AlgorithmStatus.DRAFT:
        _require_publish(principal, data.organisation_id)
    links = _check(session, data)
    values = _values(data)
    values["reference"] = registers.reference_for(session, ALGORITHMS, data.organisation_id,
                                                  values["reference"])
    algorithm = PublicAlgorithm(**values, **links)
    session.add(algorithm)
    session.flush()
    _share_documents(session, algorithm, [])
    registers.record(session, principal, ALGORITHMS, algorithm, "created",
                     [k for k, v in values.items() if v] + [k for k, v in links.items() if v])
    return algorithm


def update_algorithm(session: Session, principal: Principal, algorithm: PublicAlgorithm,
                     data: AlgorithmInput) -> list[str]:
    _require_edit(principal, algorithm.organisation_id)
    if data.organisation_id != algorithm.organisation_id:
        raise Invalid("Un algorithme ne change pas d'organisation.")
    # What the public reads changes only by the decision of those who publish.
    if AlgorithmStatus.PUBLISHED in (algorithm.status, data.status) or data.status != \
            algorithm.status:
        _require_publish(principal, algorithm.organisation_id)
    links = _check(session, data)
    values = _values(data)
    values["reference"] = registers.reference_for(session, ALGORITHMS, algorithm.organisation_id,
                                                  values["reference"], entry=algorithm)
    before = stored_uids(algorithm.documents or {})
    changed = apply_changes(algorithm, values)
    _share_documents(session, algorithm, before)
    for name, found in links.items():
        if [e.id for e in getattr(algorithm, name)] != [e.id for e in found]:
            setattr(algorithm, name, found)
            changed.append(name)
    if changed:
        algorithm.updated_at = now()
        registers.record(session, principal, ALGORITHMS, algorithm, "updated", changed)
    return changed


def _share_documents(session: Session, algorithm: PublicAlgorithm, before: list[str]) -> None:
    """The files kept for the entry are public while it is published; a file it no longer
    names is closed again."""
    now_named = stored_uids(algorithm.documents or {})
    documents.set_public(session, now_named, algorithm.status == AlgorithmStatus.PUBLISHED)
    documents.set_public(session, [u for u in before if u not in now_named], False)


def attach_document(session: Session, settings: Settings, principal: Principal,
                    algorithm: PublicAlgorithm, kind: DocumentKind, source: Path,
                    filename: str) -> StoredDocument:
    """Keep an uploaded file as one of the entry's four documents (replacing the link or
    file it had)."""
    _require_edit(principal, algorithm.organisation_id)
    if algorithm.status != AlgorithmStatus.DRAFT:
        _require_publish(principal, algorithm.organisation_id)
    stored = documents.store(session, settings, principal, algorithm.organisation_id, source,
                             filename)
    before = stored_uids(algorithm.documents or {})
    algorithm.documents = {**(algorithm.documents or {}), kind.value: {
        "url": documents.url_of(stored), "title": filename, "document": stored.uid}}
    _share_documents(session, algorithm, before)
    algorithm.updated_at = now()
    registers.record(session, principal, ALGORITHMS, algorithm, "updated", ["documents"])
    return stored


def delete_algorithm(session: Session, principal: Principal, algorithm: PublicAlgorithm) -> None:
    _require_edit(principal, algorithm.organisation_id)
    if algorithm.status != AlgorithmStatus.DRAFT:
        raise Invalid("Un algorithme publié ou retiré reste au registre : seul un algorithme "
                      "en préparation se supprime.")
    registers.record(session, principal, ALGORITHMS, algorithm, "deleted", [])
    session.delete(algorithm)
    session.flush()


def algorithm_input(algorithm: PublicAlgorithm) -> AlgorithmInput:
    values = {f: getattr(algorithm, f) for f in _COLUMNS}
    return AlgorithmInput.model_validate({**values, **{
        field: [e.id for e in getattr(algorithm, name)]
        for field, (name, _, _) in LINKS.items()}})


def list_algorithms(session: Session, principal: Principal, *,
                    organisation_id: int | None = None, status: AlgorithmStatus | None = None,
                    q: str | None = None) -> list[PublicAlgorithm]:
    query = (select(PublicAlgorithm)
             .where(registers.visible(ALGORITHMS, principal, organisation_id))
             .order_by(PublicAlgorithm.organisation_id, PublicAlgorithm.reference))
    if status is not None:
        query = query.where(PublicAlgorithm.status == status)
    found = list(session.scalars(query))
    if q:
        words = fold(q).split()
        found = [a for a in found
                 if all(w in fold(f"{a.name} {a.purpose} {a.department or ''}") for w in words)]
    return found


def algorithms_citing(session: Session, principal: Principal, *, contract_id: int | None = None,
                      application_id: int | None = None) -> list[PublicAlgorithm]:
    """The algorithms the principal may read that name this contract or this application."""
    query = select(PublicAlgorithm).where(registers.visible(ALGORITHMS, principal, None))
    if contract_id is not None:
        query = query.where(PublicAlgorithm.contracts.any(Contract.id == contract_id))
    if application_id is not None:
        query = query.where(PublicAlgorithm.applications.any(Application.id == application_id))
    return list(session.scalars(query.order_by(PublicAlgorithm.reference)))


def published_algorithms(session: Session, organisation_id: int | None = None
                         ) -> list[PublicAlgorithm]:
    """The public register: what anyone reads, published entries only."""
    query = (select(PublicAlgorithm).where(PublicAlgorithm.status == AlgorithmStatus.PUBLISHED)
             .order_by(PublicAlgorithm.organisation_id, PublicAlgorithm.reference))
    if organisation_id is not None:
        query = query.where(PublicAlgorithm.organisation_id == organisation_id)
    return list(session.scalars(query))


def published_algorithm(session: Session, algorithm_id: int) -> PublicAlgorithm:
    algorithm = session.get(PublicAlgorithm, algorithm_id)
    if algorithm is None or algorithm.status != AlgorithmStatus.PUBLISHED:
        raise NotFound("Algorithme introuvable.")
    return algorithm


def public_datasets(algorithm: PublicAlgorithm) -> list[Dataset]:
    """The inventory datasets the published entry names: those anyone reads (a closed one is
    described in the entry's own words, not by its inventory title)."""
    return [d for d in algorithm.datasets if is_public(d)]


def linked_datasets(datasets: list[Dataset], reader: Principal) -> list[dict[str, Any]]:
    """An entry's inventory datasets as `reader` sees them: the title only of those they may
    read, so a register entry does not reveal a closed dataset to a colleague."""
    return [{"id": d.id, "title": d.title if can_read_dataset(reader, d) else None}
            for d in datasets]


def algorithm_dict(algorithm: PublicAlgorithm, reader: Principal) -> dict[str, Any]:
    """Every field of the entry (the export's and the API's shape; docs/transparency.md)."""
    data = {f: plain(getattr(algorithm, f)) for f in _COLUMNS}
    return {"id": algorithm.id, **data,
            "organisation": algorithm_organisation_name(algorithm),
            "automation_label": label(algorithm.automation), "kind_label": label(algorithm.kind),
            "status_label": label(algorithm.status),
            "datasets": linked_datasets(algorithm.datasets, reader),
            "contracts": [{"id": c.id, "reference": c.reference, "title": c.title}
                          for c in algorithm.contracts],
            "applications": [{"id": a.id, "reference": a.reference, "name": a.name}
                             for a in algorithm.applications],
            "created_at": plain(algorithm.created_at),
            "updated_at": plain(algorithm.updated_at)}


def algorithm_organisation_name(algorithm: PublicAlgorithm) -> str:
    session = Session.object_session(algorithm)
    organisation = session.get(Organisation, algorithm.organisation_id) if session else None
    return organisation.name if organisation else ""
