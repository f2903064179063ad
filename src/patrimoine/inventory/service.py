"""Operations on organisations, departments and inventory entries.

Every change to an entry is written to its history and to the audit log.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator
from sqlalchemy import select
from sqlalchemy.orm import Session

from patrimoine.access import audit
from patrimoine.access.permissions import (
    can_create_organisations,
    can_edit_dataset,
    can_edit_in,
    can_manage_organisation,
    can_move_organisation,
    can_publish_in,
    can_read_dataset,
    is_public_state,
    require,
)
from patrimoine.access.principal import Principal
from patrimoine.core.clock import now
from patrimoine.core.db import DbInt
from patrimoine.core.errors import Forbidden, Invalid, NotFound
from patrimoine.core.text import fold, key, slugify
from patrimoine.core.values import plain
from patrimoine.inventory.models import (
    AccessLevel,
    Dataset,
    DatasetChange,
    Department,
    LifecycleStage,
    Organisation,
    OrganisationKind,
    Source,
    UpdateFrequency,
    YesNoUndefined,
)


class DatasetInput(BaseModel):
    """What a person or an import says about an entry (organisation and department by id)."""

    model_config = ConfigDict(str_strip_whitespace=True)

    title: str = Field(min_length=1, max_length=500)
    description: str = ""
    organisation_id: DbInt
    department_id: DbInt | None = None
    theme: str | None = Field(default=None, max_length=200)
    source: Source | None = None
    producer: str | None = Field(default=None, max_length=300)
    confidentiality: YesNoUndefined = YesNoUndefined.UNDEFINED
    sharing: YesNoUndefined = YesNoUndefined.UNDEFINED
    access_level: AccessLevel = AccessLevel.INTERNAL
    contains_personal_data: bool | None = None
    cost_per_year: Decimal | None = Field(default=None, ge=0, max_digits=14, decimal_places=2)
    update_frequency: UpdateFrequency = UpdateFrequency.UNKNOWN
    licence: str | None = Field(default=None, max_length=60)
    keywords: list[str] = Field(default_factory=list)
    spatial_coverage: str | None = Field(default=None, max_length=300)
    temporal_start: date | None = None
    temporal_end: date | None = None
    contact_name: str | None = Field(default=None, max_length=200)
    contact_email: str | None = Field(default=None, max_length=200)
    lifecycle_stage: LifecycleStage = LifecycleStage.STORED

    @field_validator("keywords")
    @classmethod
    def _clean_keywords(cls, value: list[str]) -> list[str]:
        seen: dict[str, str] = {}
        for word in value:
            word = word.strip()
            if word and key(word) not in seen:
                seen[key(word)] = word
        return list(seen.values())

    @field_validator("theme", "producer", "licence", "spatial_coverage", "contact_name",
                     "contact_email")
    @classmethod
    def _empty_is_none(cls, value: str | None) -> str | None:
        return value or None


EDITABLE_FIELDS = tuple(DatasetInput.model_fields)


def _search_text(dataset: Dataset, organisation: Organisation,
                 department: Department | None) -> str:
    parts = [
        dataset.title,
        dataset.description,
        dataset.theme or "",
        dataset.producer or "",
        " ".join(dataset.keywords or []),
        organisation.name,
        department.name if department else "",
    ]
    return fold(" ".join(parts))


# Organisations and departments


def find_organisation(session: Session, name_or_slug: str) -> Organisation | None:
    wanted = key(name_or_slug)
    for org in session.scalars(select(Organisation)):
        if key(org.name) == wanted or org.slug == slugify(name_or_slug):
            return org
    return None


def get_organisation(session: Session, organisation_id: int) -> Organisation:
    org = session.get(Organisation, organisation_id)
    if org is None:
        raise NotFound("Organisation introuvable.")
    return org


def get_organisation_by_slug(session: Session, slug: str) -> Organisation:
    org = session.scalar(select(Organisation).where(Organisation.slug == slug))
    if org is None:
        raise NotFound(f"Organisation « {slug} » introuvable.")
    return org


def create_organisation(
    session: Session,
    principal: Principal,
    *,
    name: str,
    kind: OrganisationKind = OrganisationKind.OTHER,
    parent_id: int | None = None,
    siren: str | None = None,
) -> Organisation:
    require(can_create_organisations(principal), principal, "créer une organisation")
    name = " ".join(name.split())
    if not name:
        raise Invalid("Le nom de l'organisation est obligatoire.")
    if find_organisation(session, name) is not None:
        raise Invalid(f"L'organisation « {name} » existe déjà.")
    org = Organisation(
        name=name, slug=_unique_slug(session, Organisation, name), kind=kind,
        parent_id=parent_id, siren=siren,
    )
    session.add(org)
    session.flush()
    audit.record(session, principal, "organisation.create", f"organisation:{org.id}",
                 {"name": name})
    return org


SIREN_DIGITS = 9


def update_organisation(
    session: Session,
    principal: Principal,
    organisation: Organisation,
    *,
    name: str,
    kind: OrganisationKind,
    parent_id: int | None,
    siren: str | None,
    website: str | None,
) -> dict[str, tuple[Any, Any]]:
    """Change an organisation's details; return what changed (old, new), also audited."""
    require(can_manage_organisation(principal, organisation.id), principal,
            f"modifier l'organisation « {organisation.name} »")
    name = " ".join(name.split())
    if not name:
        raise Invalid("Le nom de l'organisation est obligatoire.")
    other = find_organisation(session, name)
    if other is not None and other.id != organisation.id:
        raise Invalid(f"L'organisation « {name} » existe déjà.")
    siren = "".join((siren or "").split()) or None
    if siren is not None and (len(siren) != SIREN_DIGITS or not siren.isdigit()):
        raise Invalid("Le numéro SIREN compte 9 chiffres.")
    website = (website or "").strip() or None
    if website is not None and not website.startswith(("https://", "http://")):
        raise Invalid("L'adresse du site doit commencer par https:// (ou http://).")
    if parent_id != organisation.parent_id:
        require(can_move_organisation(principal), principal,
                "rattacher une organisation à une autre")
        ancestor = session.get(Organisation, parent_id) if parent_id is not None else None
        if parent_id is not None and ancestor is None:
            raise Invalid("Organisation parente introuvable.")
        while ancestor is not None:  # no loop: an organisation is not its own ancestor
            if ancestor.id == organisation.id:
                raise Invalid("Une organisation ne peut pas dépendre d'elle-même ni d'une "
                              "de ses propres filiales.")
            ancestor = session.get(Organisation, ancestor.parent_id) \
                if ancestor.parent_id is not None else None
    wanted = {"name": name, "kind": kind, "parent_id": parent_id, "siren": siren,
              "website": website}
    changes = {f: (getattr(organisation, f), v) for f, v in wanted.items()
               if getattr(organisation, f) != v}
    for f, (_, v) in changes.items():
        setattr(organisation, f, v)
    if changes:
        session.flush()
        audit.record(session, principal, "organisation.update", f"organisation:{organisation.id}",
                     {f: [plain(o), plain(n)] for f, (o, n) in changes.items()})
    return changes


def rename_department(session: Session, principal: Principal, department: Department,
                      name: str) -> None:
    organisation = department.organisation
    require(can_edit_in(principal, organisation.id, None), principal,
            f"renommer une direction de « {organisation.name} »")
    name = " ".join(name.split())
    if not name:
        raise Invalid("Le nom de la direction est obligatoire.")
    other = find_department(session, organisation, name)
    if other is not None and other.id != department.id:
        raise Invalid(f"La direction « {name} » existe déjà dans « {organisation.name} ».")
    if name == department.name:
        return
    old, department.name = department.name, name
    session.flush()
    audit.record(session, principal, "department.rename", f"department:{department.id}",
                 {"organisation": organisation.name, "name": [old, name]})


def find_department(session: Session, organisation: Organisation, name: str) -> Department | None:
    wanted = key(name)
    for dep in organisation.departments:
        if key(dep.name) == wanted:
            return dep
    return None


def create_department(
    session: Session, principal: Principal, organisation: Organisation, name: str
) -> Department:
    require(can_edit_in(principal, organisation.id, None), principal,
            f"créer une direction dans « {organisation.name} »")
    name = " ".join(name.split())
    if not name:
        raise Invalid("Le nom de la direction est obligatoire.")
    existing = find_department(session, organisation, name)
    if existing is not None:
        return existing
    slug = slugify(name)
    taken = {d.slug for d in organisation.departments}
    n = 2
    base = slug
    while slug in taken:
        slug, n = f"{base}-{n}", n + 1
    dep = Department(organisation=organisation, name=name, slug=slug)
    session.add(dep)
    session.flush()
    audit.record(session, principal, "department.create", f"department:{dep.id}",
                 {"organisation": organisation.name, "name": name})
    return dep


# Path segments the web layer uses next to /…/{slug}: an entry may not take them.
RESERVED_SLUGS = frozenset({"nouveau", "nouvelle", "statistiques", "import", "export", "recherche",
                            "versions", "flux", "api"})


def _unique_slug(session: Session, model: type[Dataset] | type[Organisation], text: str,
                 taken: set[str] | None = None) -> str:
    base = slugify(text)
    slug, n = base, 2
    while slug in RESERVED_SLUGS or (taken is not None and slug in taken) or session.scalar(
        select(model.id).where(model.slug == slug)
    ) is not None:
        slug, n = f"{base[:74]}-{n}", n + 1
    if taken is not None:
        taken.add(slug)
    return slug


# Datasets


def get_dataset(session: Session, principal: Principal, slug: str) -> Dataset:
    """The entry, if it exists and the principal may read it (else NotFound, to hide it)."""
    dataset = session.scalar(select(Dataset).where(Dataset.slug == slug))
    if dataset is None or not can_read_dataset(principal, dataset):
        raise NotFound(f"Jeu de données « {slug} » introuvable.")
    return dataset


def _check_placement(session: Session, data: DatasetInput
                     ) -> tuple[Organisation, Department | None]:
    org = session.get(Organisation, data.organisation_id)
    if org is None:
        raise Invalid("Organisation inconnue.")
    dep = None
    if data.department_id is not None:
        dep = session.get(Department, data.department_id)
        if dep is None or dep.organisation_id != org.id:
            raise Invalid("Cette direction n'appartient pas à l'organisation choisie.")
    if data.temporal_start and data.temporal_end and data.temporal_start > data.temporal_end:
        raise Invalid("La couverture temporelle finit avant de commencer.")
    return org, dep


def create_dataset(
    session: Session,
    principal: Principal,
    data: DatasetInput,
    *,
    slug: str | None = None,
    action: str = "created",
    taken_slugs: set[str] | None = None,
) -> Dataset:
    require(can_edit_in(principal, data.organisation_id, data.department_id), principal,
            "créer un jeu de données dans cette organisation")
    _check_opening(principal, data.organisation_id, None, data)
    org, dep = _check_placement(session, data)
    if slug is not None:
        slug = slugify(slug)
        if slug in RESERVED_SLUGS:
            raise Invalid(f"L'identifiant « {slug} » est réservé ; choisissez-en un autre.")
        if session.scalar(select(Dataset.id).where(Dataset.slug == slug)) is not None:
            raise Invalid(f"L'identifiant « {slug} » est déjà pris.")
    else:
        slug = _unique_slug(session, Dataset, data.title, taken_slugs)
    dataset = Dataset(slug=slug, **data.model_dump())
    dataset.search_text = _search_text(dataset, org, dep)
    session.add(dataset)
    session.flush()
    changes = {f: [None, plain(getattr(dataset, f))] for f in EDITABLE_FIELDS
               if getattr(dataset, f) not in (None, "", [])}
    _record_change(session, principal, dataset, action, changes)
    return dataset


def update_dataset(
    session: Session,
    principal: Principal,
    dataset: Dataset,
    data: DatasetInput,
    *,
    action: str = "updated",
) -> dict[str, list[Any]]:
    """Apply `data`; return the changes made ({} when nothing differs)."""
    require(can_edit_dataset(principal, dataset), principal, "modifier ce jeu de données")
    require(can_edit_in(principal, data.organisation_id, data.department_id), principal,
            "déplacer ce jeu de données dans cette organisation")
    _check_opening(principal, data.organisation_id, dataset, data)
    org, dep = _check_placement(session, data)
    changes: dict[str, list[Any]] = {}
    for field, value in data.model_dump().items():
        old = getattr(dataset, field)
        if plain(old) != plain(value):
            changes[field] = [plain(old), plain(value)]
            setattr(dataset, field, value)
    if changes:
        dataset.updated_at = now()
        dataset.search_text = _search_text(dataset, org, dep)
        _record_change(session, principal, dataset, action, changes)
    return changes


def _check_opening(principal: Principal, organisation_id: int, dataset: Dataset | None,
                   data: DatasetInput) -> None:
    """Making an entry open and published puts it on the portal: that is a publication,
    the chief data officer's or an administrator's decision (permissions.can_publish)."""
    if not is_public_state(data.access_level, data.lifecycle_stage):
        return
    if dataset is not None and is_public_state(dataset.access_level, dataset.lifecycle_stage):
        return
    if can_publish_in(principal, organisation_id):
        return
    raise Forbidden("Seuls l'administrateur général des données et les administrateurs "
                    "publient un jeu de données en accès ouvert : chargez les données et "
                    "demandez la publication depuis la page « Données et publication ».")


def dataset_input(dataset: Dataset) -> DatasetInput:
    """The current values of an entry, as an input to edit."""
    return DatasetInput.model_validate({f: getattr(dataset, f) for f in EDITABLE_FIELDS})


def _record_change(session: Session, principal: Principal, dataset: Dataset, action: str,
                   changes: dict[str, list[Any]]) -> None:
    session.add(DatasetChange(
        dataset_id=dataset.id, actor_id=principal.account_id, actor_label=principal.label,
        action=action, changes=changes,
    ))
    audit.record(session, principal, f"dataset.{action}", f"dataset:{dataset.uid}",
                 {"slug": dataset.slug, "fields": sorted(changes)},
                 organisation_id=dataset.organisation_id)


def history(session: Session, principal: Principal, dataset: Dataset) -> list[DatasetChange]:
    require(can_read_dataset(principal, dataset), principal, "lire ce jeu de données")
    return list(session.scalars(
        select(DatasetChange).where(DatasetChange.dataset_id == dataset.id)
        .order_by(DatasetChange.at.desc(), DatasetChange.id.desc())
    ))
