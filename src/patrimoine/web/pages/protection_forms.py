"""Back-office forms of the protection pages: a rights request and a breach, raw form values
in, the service's input model or French messages next to each field out.

Times typed in the browser (datetime-local) are read as Paris time.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from pydantic import BaseModel, ValidationError
from starlette.datastructures import FormData

from patrimoine.core.clock import PARIS
from patrimoine.core.vocabulary import accepted_words, choices, label
from patrimoine.protection.breaches import BreachInput
from patrimoine.protection.dpia import DpiaInput
from patrimoine.protection.register.models import Breach, RightsRequest
from patrimoine.protection.register.vocabulary import (
    BreachNature,
    BreachRisk,
    DataCategory,
    RequestKind,
    RequestStatus,
    RiskKind,
    StartEvent,
)
from patrimoine.protection.rights_requests import RequestInput

REQUEST_TITLES = {
    "organisation_id": "Organisation", "reference": "Référence", "kind": "Droit exercé",
    "requester": "Demandeur", "channel": "Canal de réception", "details": "Objet de la demande",
    "received_on": "Reçue le", "identity_requested_on": "Justificatif d'identité demandé le",
    "identity_verified_on": "Identité vérifiée le",
    "extension_informed_on": "Personne informée de la prolongation le",
    "extension_reasons": "Motifs de la prolongation", "status": "Statut",
    "answered_on": "Répondue le", "answer": "Réponse", "refusal_reason": "Motif du refus",
    "activity_id": "Traitement concerné",
}
BREACH_TITLES = {
    "organisation_id": "Organisation", "reference": "Référence", "title": "Intitulé",
    "description": "Description", "occurred_at": "Survenue le",
    "aware_at": "Prise de connaissance le", "natures": "Nature de la violation",
    "data_categories": "Catégories de données", "special_categories": "Données sensibles",
    "persons_approx": "Nombre approximatif de personnes",
    "records_approx": "Nombre approximatif d'enregistrements",
    "consequences": "Conséquences probables", "risk": "Évaluation du risque",
    "no_risk_reason": "Pourquoi aucun risque n'est probable",
    "notified_at": "Notifiée à la CNIL le", "cnil_reference": "Numéro de notification CNIL",
    "late_notification_reasons": "Motifs du retard de notification",
    "persons_informed_at": "Personnes informées le",
    "persons_information_reason": "Information des personnes : pourquoi (ou pourquoi pas)",
    "measures": "Mesures prises", "closed_at": "Close le", "activity_id": "Traitement concerné",
}

_MESSAGES = {
    "date_from_datetime_parsing": "date invalide (JJ/MM/AAAA).",
    "date_parsing": "date invalide (JJ/MM/AAAA).",
    "datetime_from_date_parsing": "date et heure invalides.",
    "datetime_parsing": "date et heure invalides.",
    "int_parsing": "nombre entier attendu.",
    "missing": "obligatoire.",
    "string_too_short": "obligatoire.",
    "too_short": "choisissez au moins une valeur.",
    "enum": "valeur inconnue.",
    "greater_than_equal": "doit être positif.",
    "string_too_long": "texte trop long.",
}


@dataclass
class Form:
    values: dict[str, Any] = field(default_factory=dict)
    errors: dict[str, str] = field(default_factory=dict)
    general: list[str] = field(default_factory=list)


def _clean(posted: FormData, lists: tuple[str, ...]) -> dict[str, Any]:
    values: dict[str, Any] = {}
    for name in posted:
        if name == "csrf_token":
            continue
        if name in lists:
            values[name] = [str(v) for v in posted.getlist(name)]
        else:
            values[name] = str(posted.get(name) or "").strip()
    return values


def _local(text: str) -> datetime | str | None:
    if not text:
        return None
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        return text  # pydantic reports it
    return moment if moment.tzinfo else moment.replace(tzinfo=PARIS)


def validated(model: type[BaseModel], data: dict[str, Any], form: Form) -> Any:
    """The model built from a form's data, or None with each error written on the form in
    French (beside its field, or above the form when it concerns several)."""
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        for err in exc.errors():
            loc = [str(p) for p in err.get("loc", ())]
            if err["type"] == "value_error" and not loc:
                form.general.append(str(err["msg"]).removeprefix("Value error, "))
                continue
            name = loc[0] if loc else ""
            message = (str(err["msg"]).removeprefix("Value error, ")
                       if err["type"] == "value_error" else
                       _MESSAGES.get(err["type"], "valeur invalide."))
            form.errors.setdefault(name, message)
        return None


def parse_request(posted: FormData, organisation_id: int | None) -> tuple[Form, Any]:
    form = Form(values=_clean(posted, ()))
    data: dict[str, Any] = {k: (v or None) for k, v in form.values.items()}
    data.pop("organisation", None)  # the slug; the caller resolved it to organisation_id
    data["organisation_id"] = organisation_id
    data["details"] = form.values.get("details", "")
    if data.get("activity_id") is None:
        data.pop("activity_id", None)
    return form, validated(RequestInput, data, form)


def parse_breach(posted: FormData, organisation_id: int | None) -> tuple[Form, Any]:
    lists = ("natures", "data_categories", "special_categories")
    form = Form(values=_clean(posted, lists))
    data: dict[str, Any] = {k: (v if k in lists else (v or None))
                            for k, v in form.values.items()}
    for k in lists:
        data.setdefault(k, [])
    for k in ("occurred_at", "aware_at", "notified_at", "persons_informed_at", "closed_at"):
        data[k] = _local(form.values.get(k, ""))
    for k in ("description", "consequences", "measures"):
        data[k] = form.values.get(k, "")
    data.pop("organisation", None)
    data["organisation_id"] = organisation_id
    if data.get("activity_id") is None:
        data.pop("activity_id", None)
    return form, validated(BreachInput, data, form)


def request_values(request: RightsRequest) -> dict[str, Any]:
    return {k: ("" if getattr(request, k) is None else str(getattr(request, k)))
            for k in REQUEST_TITLES if k != "organisation_id"}


def _local_text(moment: datetime | None) -> str:
    return moment.astimezone(PARIS).strftime("%Y-%m-%dT%H:%M") if moment else ""


def breach_values(breach: Breach) -> dict[str, Any]:
    values: dict[str, Any] = {}
    for k in BREACH_TITLES:
        value = getattr(breach, k)
        if isinstance(value, datetime):
            values[k] = _local_text(value)
        elif isinstance(value, list):
            values[k] = list(value)
        else:
            values[k] = "" if value is None else str(value)
    return values


OPTIONS = {
    "kind": choices(RequestKind), "status": choices(RequestStatus),
    "natures": choices(BreachNature), "risk": choices(BreachRisk),
    "data_categories": choices(DataCategory),
}


# The register entry: list fields are text areas written as the spreadsheet's cells.

ACTIVITY_FIELDS: tuple[tuple[str, str, str], ...] = (
    # (field, widget, hint)
    ("name", "input", ""),
    ("reference", "input", "Laissez vide pour une référence automatique (T-0001…)."),
    ("status", "select", ""),
    ("department", "input", ""),
    ("description", "textarea", ""),
    ("purpose", "textarea", ""),
    ("sub_purposes", "lines", "Une sous-finalité par ligne."),
    ("legal_basis", "select", "Article 6 du RGPD."),
    ("legal_basis_details", "input", "Texte de loi, délibération, contrat…"),
    ("data_subjects", "lines", "Une catégorie par ligne : usagers, agents, élus…"),
    ("estimated_data_subjects", "number", ""),
    ("data_categories", "lines", "Une catégorie par ligne, par exemple « Vie personnelle | "
                                 "détail : situation familiale »."),
    ("special_categories", "checkboxes", ""),
    ("art9_condition", "select", "Obligatoire si des données de l'article 9 sont traitées."),
    ("recipients", "lines", "Un destinataire par ligne, par exemple « Trésorerie | type : "
                            "Organisme externe »."),
    ("processors", "lines", "Un sous-traitant par ligne, par exemple « Éditeur | contrat : "
                            "MAR-2024-017 | contact : rgpd@editeur.fr »."),
    ("joint_controllers", "lines", "Un par ligne, par exemple « Département | contact : … »."),
    ("transfers", "lines", "Un transfert hors UE par ligne, par exemple « Support | pays : "
                           "Maroc | garantie : Clauses contractuelles types »."),
    ("retention_rules", "lines", "Une durée par ligne : « catégorie (ou Toutes les données) | "
                                 "durée : 5 ans | à compter de : la clôture du dossier | sort "
                                 "final : Destruction ». À compter de : "
                                 + accepted_words(StartEvent) + "."),
    ("security_measures", "lines", "Une mesure par ligne, par exemple « Sauvegarde des "
                                   "données | détail : quotidienne »."),
    ("data_sources", "checkboxes", ""),
    ("source_details", "input", ""),
    ("linked_datasets", "lines", "Identifiants des jeux de données de l'inventaire, un par "
                                 "ligne."),
    ("linked_applications", "lines", "Une application par ligne."),
    ("dpia_criteria", "checkboxes", "Deux critères, ou un seul avec des données sensibles : "
                                    "analyse d'impact requise."),
    ("dpia_exemption", "textarea", "Si une analyse est requise mais n'est pas menée, pourquoi."),
    ("public", "checkbox", "Le traitement figure sur la page publique du registre de "
                           "l'organisation."),
    ("controller_representative", "input", ""),
    ("dpo_name", "input", ""),
    ("dpo_contact", "input", ""),
)


def activity_titles() -> dict[str, str]:
    from patrimoine.protection.register.spreadsheet import COLUMN_BY_FIELD

    return {f: COLUMN_BY_FIELD[f].header for f, _, _ in ACTIVITY_FIELDS} | {
        "organisation_id": "Organisation"}


def activity_options() -> dict[str, list[tuple[str, str]]]:
    from patrimoine.protection.register.spreadsheet import COLUMN_BY_FIELD

    options: dict[str, list[tuple[str, str]]] = {}
    for f, widget, _ in ACTIVITY_FIELDS:
        enum = COLUMN_BY_FIELD[f].enum
        if widget in ("select", "checkboxes") and enum is not None:
            options[f] = choices(enum)
    return options


def parse_activity(posted: FormData, organisation_id: int | None
                   ) -> tuple[Form, Any]:
    from patrimoine.protection.register.service import ActivityInput
    from patrimoine.protection.register.spreadsheet import parse_field

    checkboxes = tuple(f for f, w, _ in ACTIVITY_FIELDS if w == "checkboxes")
    form = Form(values=_clean(posted, checkboxes))
    data: dict[str, Any] = {"organisation_id": organisation_id}
    for name, widget, _ in ACTIVITY_FIELDS:
        raw = form.values.get(name, [] if widget == "checkboxes" else "")
        if widget == "lines":
            try:
                data[name] = parse_field(name, raw)
            except ValueError as exc:
                form.errors[name] = str(exc)
        elif widget == "checkboxes":
            data[name] = raw
        elif widget == "number":
            data[name] = raw or None
        elif widget == "checkbox":
            data[name] = bool(raw)
        elif widget in ("select", "input"):
            data[name] = raw or None
        else:
            data[name] = raw
    data["description"] = data.get("description") or ""
    data["purpose"] = data.get("purpose") or ""
    if form.errors:
        return form, None
    return form, validated(ActivityInput, data, form)


def activity_values(activity: Any) -> dict[str, Any]:
    from patrimoine.protection.register.spreadsheet import field_text

    values: dict[str, Any] = {}
    for name, widget, _ in ACTIVITY_FIELDS:
        value = getattr(activity, name)
        if widget == "lines":
            values[name] = field_text(activity, name)
        elif widget == "checkboxes":
            values[name] = list(value)
        elif widget == "checkbox":
            values[name] = "1" if value else ""
        else:
            values[name] = "" if value is None else str(value)
    return values


# An impact assessment: the three risks of the CNIL's method, each scored 1 to 4.

DPIA_TITLES = {
    "started_on": "Analyse commencée le", "description": "Description du traitement",
    "necessity_proportionality": "Nécessité et proportionnalité", "risks": "Risques",
    "measures": "Mesures (une par ligne)", "dpo_opinion": "Avis du DPO",
    "dpo_opinion_on": "Avis rendu le", "decision": "Décision du responsable",
    "decision_by": "Décision prise par", "decided_on": "Décidée le",
    "review_on": "Prochaine révision le",
}


def parse_dpia(posted: FormData) -> tuple[Form, Any]:
    form = Form(values=_clean(posted, ()))
    v = form.values
    risks = []
    for kind in RiskKind:
        likelihood, severity = v.get(f"{kind.value}_likelihood"), v.get(f"{kind.value}_severity")
        if likelihood or severity:
            if not (likelihood and severity):
                form.errors["risks"] = (f"« {label(kind)} » : donnez la vraisemblance "
                                        "et la gravité, ou aucune des deux.")
                continue
            risks.append({"kind": kind.value, "likelihood": likelihood, "severity": severity,
                          "description": v.get(f"{kind.value}_description", "")})
    data = {
        "started_on": v.get("started_on") or None, "description": v.get("description", ""),
        "necessity_proportionality": v.get("necessity_proportionality", ""), "risks": risks,
        "measures": v.get("measures", "").splitlines(),
        "dpo_opinion": v.get("dpo_opinion") or None,
        "dpo_opinion_on": v.get("dpo_opinion_on") or None,
        "decision": v.get("decision") or "pending", "decision_by": v.get("decision_by") or None,
        "decided_on": v.get("decided_on") or None, "review_on": v.get("review_on") or None,
    }
    if form.errors:
        return form, None
    return form, validated(DpiaInput, data, form)


def dpia_values(record: Any) -> dict[str, Any]:
    values = {k: "" if getattr(record, k) is None else str(getattr(record, k))
              for k in DPIA_TITLES if k not in ("risks", "measures")}
    values["decision"] = record.decision.value
    values["measures"] = "\n".join(record.measures)
    for risk in record.risks:
        for part in ("likelihood", "severity", "description"):
            values[f"{risk['kind']}_{part}"] = str(risk.get(part) or "")
    return values

