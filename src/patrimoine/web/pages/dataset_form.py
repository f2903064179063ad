"""The inventory entry form of the back-office: raw form values in, a DatasetInput or
French messages kept next to each field out."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal, InvalidOperation
from enum import StrEnum
from typing import Any

from pydantic import ValidationError
from sqlalchemy.orm import Session

from patrimoine.access.permissions import can_edit_in
from patrimoine.access.principal import Principal
from patrimoine.core import vocabulary
from patrimoine.inventory import french
from patrimoine.inventory.models import (
    AccessLevel,
    Dataset,
    Department,
    LifecycleStage,
    Organisation,
    Source,
    UpdateFrequency,
    YesNoUndefined,
)
from patrimoine.inventory.service import DatasetInput
from patrimoine.protection.findings.service import HISTORY_LABELS as FINDINGS_ACTIONS
from patrimoine.publication.service import ACTION_LABELS as PUBLICATION_ACTIONS
from patrimoine.web.templating import french_number

# French names of every editable field, for the form, the entry page and its history.
FIELD_TITLES: dict[str, str] = {
    "title": "Titre",
    "description": "Description",
    "organisation_id": "Organisation",
    "department_id": "Direction",
    "theme": "Thématique",
    "source": "Source des données",
    "producer": "Producteur",
    "confidentiality": "Confidentialité des données",
    "sharing": "Partage des données",
    "access_level": "Niveau d'accès",
    "contains_personal_data": "Données personnelles",
    "cost_per_year": "Coût annuel",
    "update_frequency": "Fréquence de mise à jour",
    "licence": "Licence",
    "keywords": "Mots-clés",
    "spatial_coverage": "Couverture géographique",
    "temporal_start": "Début de la couverture temporelle",
    "temporal_end": "Fin de la couverture temporelle",
    "contact_name": "Contact",
    "contact_email": "Adresse électronique du contact",
    "lifecycle_stage": "Cycle de vie",
}
# The history and the import preview also name the placement by organisation and department.
CHANGE_TITLES = {**FIELD_TITLES, "organisation": "Collectivité", "department": "Direction",
                 "version": "Version des données", "row_count": "Nombre de lignes",
                 "file": "Fichier", "note": "Message", "reason": "Motif"}

ACTION_LABELS = {
    "created": "Création",
    "updated": "Modification",
    "imported": "Création par import",
    "import_updated": "Modification par import",
    **PUBLICATION_ACTIONS,
    **FINDINGS_ACTIONS,
}

ENUM_FIELDS: dict[str, type[StrEnum]] = {
    "source": Source,
    "confidentiality": YesNoUndefined,
    "sharing": YesNoUndefined,
    "access_level": AccessLevel,
    "update_frequency": UpdateFrequency,
    "lifecycle_stage": LifecycleStage,
}


@dataclass
class DatasetForm:
    """What the form shows: the values as typed, and one message per faulty field."""

    values: dict[str, str]
    errors: dict[str, str] = field(default_factory=dict)
    data: DatasetInput | None = None

    @property
    def ok(self) -> bool:
        return self.data is not None and not self.errors


def values_of(dataset: Dataset | None) -> dict[str, str]:
    """The form's strings for an existing entry (or the defaults of a new one)."""
    if dataset is None:
        return {
            "confidentiality": YesNoUndefined.UNDEFINED.value,
            "sharing": YesNoUndefined.UNDEFINED.value,
            "access_level": AccessLevel.INTERNAL.value,
            "update_frequency": UpdateFrequency.UNKNOWN.value,
            "lifecycle_stage": LifecycleStage.STORED.value,
        }
    out: dict[str, str] = {}
    for name in FIELD_TITLES:
        value = getattr(dataset, name)
        out[name] = display_value(name, value)
    return out


def display_value(name: str, value: Any) -> str:
    """A field value as it is typed in the form."""
    if value is None:
        return ""
    if isinstance(value, StrEnum):
        return value.value
    if name == "contains_personal_data":
        return "oui" if value else "non"
    if name == "cost_per_year":
        return f"{Decimal(value):.2f}".replace(".", ",").removesuffix(",00")
    if isinstance(value, date):
        return value.strftime("%d/%m/%Y")
    if isinstance(value, list):
        return ", ".join(str(v) for v in value)
    return str(value)


def shown_value(field: str, value: Any) -> str:
    """A field value as the history and the import preview show it."""
    if value is None or value == "" or value == []:
        return "—"
    enum = ENUM_FIELDS.get(field)
    if enum is not None:
        try:
            return vocabulary.label(enum(value))
        except ValueError:
            return str(value)
    if field == "contains_personal_data":
        return "Oui" if value else "Non"
    if field == "cost_per_year":
        try:
            return french_number(Decimal(str(value)), 2).removesuffix(",00") + " €"
        except InvalidOperation:
            return str(value)
    if field in ("temporal_start", "temporal_end"):
        try:
            return date.fromisoformat(str(value)).strftime("%d/%m/%Y")
        except ValueError:
            return str(value)
    if field == "description":
        text = str(value)
        return text if len(text) <= 160 else text[:159] + "…"
    if isinstance(value, list | tuple):
        return ", ".join(str(v) for v in value)
    return str(value)


def parse(session: Session, principal: Principal, form: Mapping[str, Any]) -> DatasetForm:
    """Check every field, in French, before anything reaches the service."""
    values = {name: str(form.get(name, "") or "").strip() for name in FIELD_TITLES}
    result = DatasetForm(values=values)
    errors = result.errors
    data: dict[str, Any] = {}

    title = values["title"]
    if not title:
        errors["title"] = "Le titre est obligatoire."
    elif len(title) > 500:
        errors["title"] = "Le titre ne doit pas dépasser 500 caractères."
    data["title"] = title
    data["description"] = str(form.get("description", "") or "")
    _placement(session, principal, values, data, errors)
    _choices(values, data, errors)
    _cost(values["cost_per_year"], data, errors)
    data["keywords"] = french.keywords(values["keywords"])
    _coverage(values, data, errors)
    _texts(values, data, errors)
    if errors:
        return result
    try:
        result.data = DatasetInput.model_validate(data)
    except ValidationError as exc:
        for err in exc.errors():
            name = str(err["loc"][0]) if err.get("loc") else "title"
            errors.setdefault(name if name in FIELD_TITLES else "title",
                              "Valeur invalide pour ce champ.")
    return result


def _placement(session: Session, principal: Principal, values: dict[str, str],
               data: dict[str, Any], errors: dict[str, str]) -> None:
    """An organisation, a department of it, and the right to record an entry there."""
    org = None
    try:
        org = session.get(Organisation, int(values["organisation_id"]))
    except ValueError:
        pass
    if org is None:
        errors["organisation_id"] = "Choisissez une organisation dans la liste."
    else:
        data["organisation_id"] = org.id
    department = None
    if values["department_id"]:
        try:
            department = session.get(Department, int(values["department_id"]))
        except ValueError:
            department = None
        if department is None:
            errors["department_id"] = "Choisissez une direction dans la liste."
        elif org is not None and department.organisation_id != org.id:
            errors["department_id"] = "Cette direction n'appartient pas à l'organisation choisie."
    data["department_id"] = department.id if department else None
    if org is not None and "department_id" not in errors and not can_edit_in(
        principal, org.id, data["department_id"]
    ):
        target = "department_id" if department is not None else "organisation_id"
        errors[target] = ("Votre compte ne peut pas enregistrer de jeu de données "
                          "à cet endroit : choisissez une direction dont vous avez la charge.")


def _choices(values: dict[str, str], data: dict[str, Any], errors: dict[str, str]) -> None:
    for name, enum in ENUM_FIELDS.items():
        raw = values[name]
        if not raw and name == "source":
            data[name] = None
            continue
        try:
            data[name] = french.choice(enum, raw)
        except french.Unreadable:
            errors[name] = f"Valeur inconnue : choisissez parmi {vocabulary.accepted_words(enum)}."
    try:
        data["contains_personal_data"] = french.yes_no(values["contains_personal_data"])
    except french.Unreadable:
        errors["contains_personal_data"] = "Répondez Oui, Non ou Non renseigné."


def _cost(raw: str, data: dict[str, Any], errors: dict[str, str]) -> None:
    try:
        cost = french.cost(raw, round_to_cents=False)
    except french.NegativeCost:
        errors["cost_per_year"] = "Le coût ne peut pas être négatif."
    except french.CostTooHigh:
        errors["cost_per_year"] = "Ce montant est trop élevé."
    except french.Unreadable:
        errors["cost_per_year"] = "Indiquez un montant en euros, par exemple 1 200,50."
    else:
        if cost is not None and cost != cost.quantize(french.CENT):
            errors["cost_per_year"] = "Indiquez au plus deux chiffres après la virgule."
        elif cost is not None:
            data["cost_per_year"] = cost


def _coverage(values: dict[str, str], data: dict[str, Any], errors: dict[str, str]) -> None:
    for name in ("temporal_start", "temporal_end"):
        if values[name]:
            try:
                data[name] = french.day(values[name], end=name == "temporal_end")
            except french.Unreadable:
                errors[name] = "Date invalide : utilisez le format JJ/MM/AAAA."
    start, end = data.get("temporal_start"), data.get("temporal_end")
    if start and end and start > end:
        errors["temporal_end"] = "La fin de la couverture temporelle précède son début."


def _texts(values: dict[str, str], data: dict[str, Any], errors: dict[str, str]) -> None:
    for name, limit in french.TEXT_LIMITS.items():
        if len(values[name]) > limit:
            errors[name] = f"Ce texte ne doit pas dépasser {limit} caractères."
        data[name] = values[name] or None
    if values["contact_email"] and not french.is_email(values["contact_email"]):
        errors.setdefault("contact_email", "Adresse électronique invalide, par exemple "
                                           "prenom.nom@ville.fr.")


@dataclass
class Choices:
    """Options of the form's lists."""

    organisations: list[Organisation]
    departments: dict[int, list[Department]]
    themes: list[str]
    enums: dict[str, list[tuple[str, str]]]


def choices(principal: Principal, organisations: list[Organisation], themes: list[str],
            current: Dataset | None = None) -> Choices:
    """Organisations and departments where the principal may record an entry."""
    orgs: list[Organisation] = []
    departments: dict[int, list[Department]] = {}
    for org in organisations:
        deps = [d for d in org.departments if can_edit_in(principal, org.id, d.id)]
        if can_edit_in(principal, org.id, None) or deps or (
            current is not None and current.organisation_id == org.id
        ):
            orgs.append(org)
            departments[org.id] = deps
    enums = {name: vocabulary.choices(enum) for name, enum in ENUM_FIELDS.items()}
    return Choices(orgs, departments, themes, enums)
