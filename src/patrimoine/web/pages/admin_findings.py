"""Back-office page of a dataset's personal data: findings of a version with their decisions,
the anonymisation form (a new version) and the k-anonymity report."""

from __future__ import annotations

from typing import Annotated, Any
from urllib.parse import quote as urlquote

from fastapi import APIRouter, Query, Request
from fastapi.responses import RedirectResponse, Response
from sqlalchemy.orm import Session

from patrimoine.access import audit
from patrimoine.access.permissions import (
    can_anonymise,
    can_decide_findings,
    can_view_findings,
    is_public,
    require,
)
from patrimoine.access.principal import Principal
from patrimoine.core.db import DbInt
from patrimoine.core.errors import Invalid
from patrimoine.datastore import versions
from patrimoine.datastore.models import DatasetVersion
from patrimoine.inventory import service as inventory
from patrimoine.inventory.models import Dataset
from patrimoine.protection.findings import anonymise as anon
from patrimoine.protection.findings import disclosure, service
from patrimoine.protection.findings.models import DECISION_LABELS
from patrimoine.protection.gate import publication_blockers
from patrimoine.protection.scanner import KIND_LABELS, SEVERITY_LABELS
from patrimoine.web.deps import LoggedInDep, SessionDep, prepare_layout, services
from patrimoine.web.pages.backoffice import FormDep, page
from patrimoine.web.templating import flash

router = APIRouter(include_in_schema=False)

BASE = "/admin/inventaire/{slug}/donnees-personnelles"

# Choices of the anonymisation form, per column: value -> (label, operation dict).
CHOICES: dict[str, tuple[str, dict[str, Any]]] = {
    "": ("Garder telle quelle", {}),
    "drop": ("Supprimer la colonne", {"op": "drop"}),
    "mask": ("Masquer (garder le premier et le dernier caractère)", {"op": "mask"}),
    "pseudonymise": ("Pseudonymiser (HMAC-SHA256 ; reste une donnée personnelle)",
                     {"op": "pseudonymise"}),
    "month": ("Généraliser au mois (dates)", {"op": "generalise", "level": "month"}),
    "year": ("Généraliser à l'année (dates)", {"op": "generalise", "level": "year"}),
    "band": ("Généraliser par tranches (âges, nombres)", {"op": "generalise", "level": "band"}),
    "grid": ("Généraliser sur une grille (positions)", {"op": "generalise", "level": "grid"}),
    "department": ("Généraliser au département (codes postaux)",
                   {"op": "generalise", "level": "department"}),
}


def _url(dataset: Dataset, version: DatasetVersion | None = None) -> str:
    url = BASE.format(slug=dataset.slug)
    return url + (f"?version={version.number}" if version else "")


def _target(session: Session, principal: Principal, slug: str,
            number: int | None) -> tuple[Dataset, DatasetVersion | None]:
    dataset = inventory.get_dataset(session, principal, slug)
    require(can_view_findings(principal, dataset), principal,
            f"voir les données personnelles de « {dataset.title} »")
    if number is not None:
        return dataset, versions.get_version(session, dataset, number)
    return dataset, versions.latest_version(session, dataset)


def _error_text(exc: Invalid) -> str:
    return exc.message + (" " + " ".join(exc.errors) if exc.errors else "")


@router.get(BASE)
def findings_page(
    request: Request, slug: str, session: SessionDep, principal: LoggedInDep,
    version: Annotated[DbInt | None, Query()] = None,
    columns: Annotated[list[str] | None, Query()] = None,
    k: Annotated[DbInt | None, Query()] = None,
) -> Response:
    dataset, target = _target(session, principal, slug, version)
    context: dict[str, Any] = {
        "dataset": dataset, "version": target, "versions": versions.list_versions(session,
                                                                                   dataset),
        "kind_labels": KIND_LABELS, "severity_labels": SEVERITY_LABELS,
        "decision_labels": DECISION_LABELS, "status_labels": service.STATUS_LABELS,
        "operation_labels": service.OPERATION_LABELS, "choices": CHOICES,
        "can_decide": can_decide_findings(principal, dataset),
        "can_anonymise": can_anonymise(principal, dataset),
        "threshold": services(request).settings.small_count_threshold,
        "views": [], "blockers": [], "scan": None, "anonymisation": None, "report": None,
        "report_error": None, "chosen": columns or [], "k": k,
    }
    if target is not None:
        settings = services(request).settings
        views = service.list_findings(session, settings, principal, dataset, target)
        context.update(views=views, blockers=publication_blockers(session, target, settings),
                       scan=service.scan_of(session, target),
                       anonymisation=(target.ingest_settings or {}).get("anonymisation"))
        if columns:
            try:
                context["report"] = disclosure.k_anonymity(settings, target, columns, target=k)
                if not is_public(dataset):
                    audit.record(session, principal, "dataset.k_anonymity_read",
                                 f"dataset:{dataset.slug}",
                                 {"version": target.number, "columns": columns})
            except Invalid as exc:
                context["report_error"] = _error_text(exc)
    return page(request, "admin/personal_data.html", "inventaire", context)


@router.post(BASE + "/decision")
def decide(request: Request, slug: str, session: SessionDep, principal: LoggedInDep,
           form: FormDep) -> Response:
    number = int(str(form.get("version") or 0) or 0)
    dataset, target = _target(session, principal, slug, number or None)
    if target is None:
        raise Invalid("Ce jeu de données n'a aucune version de données.")
    column, kind = str(form.get("column", "")), str(form.get("kind", ""))
    try:
        service.decide(session, principal, dataset, target, column, kind,
                       str(form.get("decision", "")), str(form.get("reason", "")))
    except Invalid as exc:
        flash(request, f"« {column} » : {_error_text(exc)}", "error")
    else:
        flash(request, f"Décision enregistrée pour « {column} » "
                       f"({KIND_LABELS.get(kind, kind).lower()}).")
    return RedirectResponse(_url(dataset, target) + f"#finding-{urlquote(column)}-{kind}",
                            status_code=303)


@router.post(BASE + "/anonymiser")
def anonymise(request: Request, slug: str, session: SessionDep, principal: LoggedInDep,
              form: FormDep) -> Response:
    number = int(str(form.get("version") or 0) or 0)
    dataset, source = _target(session, principal, slug, number or None)
    if source is None:
        raise Invalid("Ce jeu de données n'a aucune version de données.")
    items = []
    for column in source.column_names():
        choice = str(form.get(f"op-{column}", ""))
        if choice not in CHOICES:
            flash(request, f"« {column} » : choix inconnu.", "error")
            return RedirectResponse(_url(dataset, source), status_code=303)
        if not choice:
            continue
        item = {**CHOICES[choice][1], "column": column}
        size = str(form.get(f"size-{column}", "")).strip()
        if size and choice in ("band", "grid"):
            item["size"] = size
        items.append(item)
    try:
        # Plans are checked before anything is written: a refusal leaves nothing behind.
        plan = anon.parse_plan(items)
        quasi = [c for c in source.column_names() if form.get(f"qi-{c}")]
        created = anon.anonymise(session, services(request).settings, principal, dataset,
                                 source, plan, quasi, str(form.get("sensitive") or "") or None)
    except Invalid as exc:
        flash(request, _error_text(exc), "error")
        return RedirectResponse(_url(dataset, source), status_code=303)
    prepare_layout(request, session, created)
    flash(request, f"Version {created.number} créée à partir de la version {source.number} ; "
                   "la version d'origine reste inchangée.")
    for warning in created.ingest_settings["anonymisation"]["warnings"]:
        flash(request, warning, "error")
    return RedirectResponse(_url(dataset, created), status_code=303)
