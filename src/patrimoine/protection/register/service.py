"""Operations on the register of processing activities (Article 30 GDPR, CNIL model).

Every change is written to the entry's history and to the audit log. An organisation's
register is read by its staff and kept by its administrators, chief data officers and DPOs
(access/permissions.py); a mutualised DPO keeps the register of each organisation where
they hold the role, and nobody sees another organisation's register.
"""

from __future__ import annotations

import re
from typing import Annotated, Any

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    field_validator,
    model_validator,
)
from sqlalchemy import and_, select
from sqlalchemy.orm import Session, selectinload

from patrimoine.access import registers
from patrimoine.access.permissions import (
    can_edit_register,
    can_read_register,
    readable_datasets,
    register_organisations,
    require,
)
from patrimoine.access.principal import Principal
from patrimoine.core.clock import now
from patrimoine.core.db import DbInt
from patrimoine.core.errors import Invalid
from patrimoine.core.values import plain
from patrimoine.core.vocabulary import accepted_words, label, parse
from patrimoine.inventory.models import Dataset, Organisation
from patrimoine.protection.register.models import ProcessingActivity, ProcessingActivityChange
from patrimoine.protection.register.vocabulary import (
    ARTICLE_9,
    ActivityStatus,
    Art9Condition,
    DataCategory,
    DataSource,
    DpiaCriterion,
    DurationUnit,
    FinalFate,
    LegalBasis,
    RecipientKind,
    SecurityMeasure,
    SpecialCategory,
    StartEvent,
    TransferSafeguard,
)


class _Item(BaseModel):
    model_config = ConfigDict(str_strip_whitespace=True, extra="forbid")


def _none_if_empty(value: str | None) -> str | None:
    return value or None


# Optional texts: empty means absent.
Text200 = Annotated[str | None, Field(default=None, max_length=200),
                    AfterValidator(_none_if_empty)]
Text300 = Annotated[str | None, Field(default=None, max_length=300),
                    AfterValidator(_none_if_empty)]
Text1000 = Annotated[str | None, Field(default=None, max_length=1000),
                     AfterValidator(_none_if_empty)]


class JointController(_Item):
    name: str = Field(min_length=1, max_length=300)
    contact: Text300 = None


class Processor(_Item):
    """A processor (Art. 28) and the reference of the contract that binds it."""

    name: str = Field(min_length=1, max_length=300)
    contract_reference: Text200 = None
    contact: Text300 = None


class DataCategoryEntry(_Item):
    category: DataCategory
    details: Text1000 = None


class Recipient(_Item):
    name: str = Field(min_length=1, max_length=300)
    kind: RecipientKind = RecipientKind.INTERNAL


class Transfer(_Item):
    """A transfer outside the European Union, with what makes it lawful."""

    recipient: str = Field(min_length=1, max_length=300)
    country: str = Field(min_length=1, max_length=100)
    safeguard: TransferSafeguard
    details: Text1000 = None


class RetentionRule(_Item):
    """How long one category of data is kept: a duration counted from a starting event (one of
    the fixed list StartEvent, shared with retention), then a fate.

    `data_category` None means every category of the activity. A text naming the event (its
    label or a usual wording, "la clôture du dossier") is accepted and stored as the value."""

    data_category: DataCategory | None = None
    duration: int = Field(ge=0, le=1000)
    unit: DurationUnit
    start_event: StartEvent
    final_fate: FinalFate
    legal_reference: Text300 = None

    @field_validator("start_event", mode="before")
    @classmethod
    def _known_event(cls, value: Any) -> Any:
        if isinstance(value, StartEvent):
            return value
        found = parse(StartEvent, value) if isinstance(value, str) else None
        if found is None:
            raise ValueError(f"Événement de départ « {value} » inconnu ; valeurs acceptées : "
                             f"{accepted_words(StartEvent)}.")
        return found

    def describe(self) -> str:
        return (f"{_duration_text(self.duration, self.unit)} à compter de "
                f"{label(self.start_event)}, puis {label(self.final_fate).lower()}")


def _duration_text(duration: int, unit: DurationUnit) -> str:
    word = label(unit)
    if duration == 1:
        word = {"ans": "an", "jours": "jour"}.get(word, word)
    return f"{duration} {word}"


def describe_retention(stored: dict[str, Any]) -> str:
    """A stored rule in French; a rule written before the starting event was a fixed list
    (free text no longer accepted) is shown as it was written, marked to be reviewed."""
    try:
        return RetentionRule.model_validate(stored).describe()
    except ValidationError:
        unit, duration = stored.get("unit"), stored.get("duration")
        length = (_duration_text(duration, DurationUnit(unit))
                  if unit in set(DurationUnit) and isinstance(duration, int)
                  else f"{duration or ''} {unit or ''}".strip())
        return (f"{length} à compter de {stored.get('start_event')} (événement de départ à "
                "revoir)")


class Security(_Item):
    measure: SecurityMeasure
    details: Text1000 = None


def _unique(values: list[Any]) -> list[Any]:
    seen: list[Any] = []
    for v in values:
        if v not in seen:
            seen.append(v)
    return seen


class ActivityInput(BaseModel):
    """A register entry as a person or an import states it."""

    model_config = ConfigDict(str_strip_whitespace=True, extra="forbid")

    organisation_id: DbInt
    reference: str | None = Field(default=None, max_length=40)
    name: str = Field(min_length=1, max_length=300)
    status: ActivityStatus = ActivityStatus.ACTIVE
    department: str | None = Field(default=None, max_length=300)
    description: str = ""
    controller_representative: str | None = Field(default=None, max_length=300)
    joint_controllers: list[JointController] = Field(default_factory=list)
    processors: list[Processor] = Field(default_factory=list)
    dpo_name: str | None = Field(default=None, max_length=200)
    dpo_contact: Text300 = None
    purpose: str = ""
    sub_purposes: list[str] = Field(default_factory=list)
    legal_basis: LegalBasis | None = None
    legal_basis_details: str | None = None
    art9_condition: Art9Condition | None = None
    data_subjects: list[str] = Field(default_factory=list)
    estimated_data_subjects: DbInt | None = Field(default=None, ge=0)
    data_categories: list[DataCategoryEntry] = Field(default_factory=list)
    special_categories: list[SpecialCategory] = Field(default_factory=list)
    recipients: list[Recipient] = Field(default_factory=list)
    transfers: list[Transfer] = Field(default_factory=list)
    retention_rules: list[RetentionRule] = Field(default_factory=list)
    security_measures: list[Security] = Field(default_factory=list)
    data_sources: list[DataSource] = Field(default_factory=list)
    source_details: str | None = None
    linked_datasets: list[str] = Field(default_factory=list)
    linked_applications: list[str] = Field(default_factory=list)
    dpia_criteria: list[DpiaCriterion] = Field(default_factory=list)
    dpia_exemption: str | None = None
    public: bool = False

    @field_validator("reference", "department", "controller_representative", "dpo_name",
                     "dpo_contact", "legal_basis_details", "source_details", "dpia_exemption")
    @classmethod
    def _empty_is_none(cls, value: str | None) -> str | None:
        return value or None

    @field_validator("sub_purposes", "data_subjects", "linked_datasets", "linked_applications")
    @classmethod
    def _clean_texts(cls, value: list[str]) -> list[str]:
        return _unique([" ".join(v.split()) for v in value if v and v.strip()])

    @field_validator("special_categories", "data_sources", "dpia_criteria")
    @classmethod
    def _no_repeats(cls, value: list[Any]) -> list[Any]:
        return _unique(value)

    @model_validator(mode="after")
    def _consistent(self) -> ActivityInput:
        errors = []
        art9 = [c for c in self.special_categories if c in ARTICLE_9]
        if art9 and self.art9_condition is None:
            errors.append("Des données sensibles de l'article 9 sont traitées "
                          f"({', '.join(label(c).lower() for c in art9)}) : indiquez la "
                          "condition de l'article 9.2 qui le permet.")
        if self.art9_condition is not None and not art9:
            errors.append("Une condition de l'article 9.2 n'a de sens que si des données "
                          "sensibles de l'article 9 sont traitées.")
        declared = {e.category for e in self.data_categories}
        if len(declared) != len(self.data_categories):
            errors.append("Une catégorie de données est déclarée deux fois.")
        for rule in self.retention_rules:
            if rule.data_category is not None and rule.data_category not in declared:
                errors.append(f"La durée de conservation vise la catégorie « "
                              f"{label(rule.data_category)} », qui n'est pas déclarée parmi "
                              "les données traitées.")
        keyed = [r.data_category for r in self.retention_rules]
        if len(set(keyed)) != len(keyed):
            errors.append("Deux durées de conservation visent la même catégorie de données.")
        if errors:
            raise ValueError(" ".join(errors))
        return self


EDITABLE_FIELDS = tuple(f for f in ActivityInput.model_fields if f != "organisation_id")


def _stored(data: ActivityInput) -> dict[str, Any]:
    """The input as column values (JSON-friendly lists, enums as members)."""
    dumped = data.model_dump(mode="json")
    values: dict[str, Any] = {}
    for field in EDITABLE_FIELDS:
        value = getattr(data, field)
        values[field] = dumped[field] if isinstance(value, list) else value
    return values


# Reading

ACTIVITIES = registers.Register(
    entity=ProcessingActivity, audit="protection.activity", readers=register_organisations,
    reading="consulter le registre de cette organisation", not_found="Traitement introuvable.",
    numbering=registers.Numbering("T", 4, yearly=False), key="uid",
    history=lambda a: ProcessingActivityChange(activity_id=a.id))


def readable_organisation_ids(principal: Principal) -> list[int] | None:
    return register_organisations(principal)


def get_activity(session: Session, principal: Principal, activity_id: int) -> ProcessingActivity:
    """The entry, if the principal may read its register (else NotFound, to hide it)."""
    activity: ProcessingActivity = registers.get(session, ACTIVITIES, principal, activity_id)
    return activity


def list_activities(session: Session, principal: Principal, *, organisation_id: int | None = None,
                    status: ActivityStatus | None = None) -> list[ProcessingActivity]:
    query = (select(ProcessingActivity).options(selectinload(ProcessingActivity.dpias))
             .where(registers.visible(ACTIVITIES, principal, organisation_id))
             .order_by(ProcessingActivity.organisation_id, ProcessingActivity.reference))
    if status is not None:
        query = query.where(ProcessingActivity.status == status)
    return list(session.scalars(query))


def _published(organisation_id: int) -> Any:
    return and_(ProcessingActivity.organisation_id == organisation_id,
                ProcessingActivity.public.is_(True),
                ProcessingActivity.status == ActivityStatus.ACTIVE)


def public_activities(session: Session, organisation_id: int) -> list[ProcessingActivity]:
    """The active entries the register's keepers chose to publish (the public summary)."""
    return list(session.scalars(select(ProcessingActivity).where(_published(organisation_id))
                                .order_by(ProcessingActivity.name)))


def publishes_register(session: Session, organisation_id: int) -> bool:
    """Whether the organisation publishes a summary of its register (one public entry)."""
    return session.scalar(select(ProcessingActivity.id).where(_published(organisation_id))
                          .limit(1)) is not None


def activity_input(activity: ProcessingActivity) -> ActivityInput:
    """The current values of an entry, as an input to edit."""
    values = {f: getattr(activity, f) for f in EDITABLE_FIELDS}
    return ActivityInput.model_validate({"organisation_id": activity.organisation_id, **values})


def current_values(activity: ProcessingActivity) -> dict[str, Any]:
    """The current values of an entry, JSON-friendly; as stored when they no longer validate
    (a retention rule whose starting event was written as free text, before the fixed list),
    so such an entry can still be read, exported and corrected."""
    try:
        return activity_input(activity).model_dump(mode="json")
    except ValidationError:
        return {"organisation_id": activity.organisation_id,
                **{f: getattr(activity, f) for f in EDITABLE_FIELDS}}


def history(session: Session, principal: Principal, activity: ProcessingActivity
            ) -> list[ProcessingActivityChange]:
    require(can_read_register(principal, activity.organisation_id), principal,
            "consulter ce traitement")
    return list(session.scalars(
        select(ProcessingActivityChange).where(ProcessingActivityChange.activity_id == activity.id)
        .order_by(ProcessingActivityChange.at.desc(), ProcessingActivityChange.id.desc())))


# Writing

_REFERENCE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._/-]*$")


def _check(session: Session, data: ActivityInput) -> Organisation:
    org = session.get(Organisation, data.organisation_id)
    if org is None:
        raise Invalid("Organisation inconnue.")
    if data.reference is not None and not _REFERENCE.match(data.reference):
        raise Invalid(f"Référence « {data.reference} » invalide : lettres, chiffres, points, "
                      "tirets et barres obliques seulement, sans espace.")
    if data.linked_datasets:
        found = set(session.scalars(select(Dataset.slug).where(
            Dataset.slug.in_(data.linked_datasets), Dataset.organisation_id == org.id)))
        missing = [s for s in data.linked_datasets if s not in found]
        if missing:
            raise Invalid("Jeux de données inconnus dans l'inventaire de "
                          f"« {org.name} » : {', '.join(missing)}.")
    return org


def create_activity(session: Session, principal: Principal, data: ActivityInput,
                    *, action: str = "created") -> ProcessingActivity:
    require(can_edit_register(principal, data.organisation_id), principal,
            "modifier le registre de cette organisation")
    _check(session, data)
    values = _stored(data)
    values["reference"] = registers.reference_for(session, ACTIVITIES, data.organisation_id,
                                                  values["reference"])
    activity = ProcessingActivity(organisation_id=data.organisation_id, **values)
    session.add(activity)
    session.flush()
    changes = {f: [None, plain(getattr(activity, f))] for f in EDITABLE_FIELDS
               if getattr(activity, f) not in (None, "", [])}
    registers.record(session, principal, ACTIVITIES, activity, action, changes)
    return activity


def update_activity(session: Session, principal: Principal, activity: ProcessingActivity,
                    data: ActivityInput, *, action: str = "updated") -> dict[str, list[Any]]:
    """Apply `data`; return the changes ({} when nothing differs)."""
    require(can_edit_register(principal, activity.organisation_id), principal,
            "modifier le registre de cette organisation")
    if data.organisation_id != activity.organisation_id:
        raise Invalid("Un traitement ne change pas d'organisation : créez-le dans le registre "
                      "de l'autre organisation.")
    _check(session, data)
    values = _stored(data)
    values["reference"] = registers.reference_for(session, ACTIVITIES, activity.organisation_id,
                                                  values["reference"], entry=activity)
    changes: dict[str, list[Any]] = {}
    for field, value in values.items():
        old = getattr(activity, field)
        if plain(old) != plain(value):
            changes[field] = [plain(old), plain(value)]
            setattr(activity, field, value)
    if changes:
        activity.updated_at = now()
        registers.record(session, principal, ACTIVITIES, activity, action, changes)
    return changes


def delete_activity(session: Session, principal: Principal, activity: ProcessingActivity) -> None:
    require(can_edit_register(principal, activity.organisation_id), principal,
            "modifier le registre de cette organisation")
    registers.record(session, principal, ACTIVITIES, activity, "deleted", name=activity.name)
    session.delete(activity)
    session.flush()


def unregistered_personal_datasets(session: Session, principal: Principal,
                                   organisation_id: int) -> list[Dataset]:
    """Inventory entries holding personal data that no activity of the register names: the
    register is incomplete, or the entry's personal-data flag is wrong."""
    if not can_read_register(principal, organisation_id):
        return []
    linked = {slug for slugs in session.scalars(
        select(ProcessingActivity.linked_datasets).where(
            ProcessingActivity.organisation_id == organisation_id)) for slug in slugs}
    found = session.scalars(select(Dataset).where(
        Dataset.organisation_id == organisation_id, Dataset.contains_personal_data.is_(True),
        readable_datasets(principal)).order_by(Dataset.title))
    return [d for d in found if d.slug not in linked]


def gaps(activity: ProcessingActivity) -> list[str]:
    """What the entry still lacks to be complete, in French (a checklist, not errors)."""
    out = []
    if not activity.purpose:
        out.append("Finalité principale non renseignée.")
    if activity.legal_basis is None:
        out.append("Base légale non renseignée.")
    if not activity.data_subjects:
        out.append("Catégories de personnes concernées non renseignées.")
    if not activity.data_categories:
        out.append("Catégories de données non renseignées.")
    if not activity.retention_rules:
        out.append("Aucune durée de conservation.")
    else:
        covered = {r.get("data_category") for r in activity.retention_rules}
        if None not in covered:
            for entry in activity.data_categories:
                if entry["category"] not in covered:
                    out.append("Pas de durée de conservation pour « "
                               f"{label(DataCategory(entry['category']))} ».")
    for p in activity.processors:
        if not p.get("contract_reference"):
            out.append(f"Sous-traitant « {p['name']} » sans référence de contrat.")
    if not activity.security_measures:
        out.append("Mesures de sécurité non renseignées.")
    if activity.legal_basis == LegalBasis.LEGITIMATE_INTERESTS:
        out.append("L'intérêt légitime ne peut fonder les traitements d'une autorité publique "
                   "dans l'exécution de ses missions (article 6.1, dernier alinéa) : "
                   "vérifiez la base légale.")
    return out
