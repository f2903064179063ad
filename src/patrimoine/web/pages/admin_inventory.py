"""Back-office of the inventory: list with search and facets, entry page with history,
create and edit forms, statistics."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import RedirectResponse, Response
from sqlalchemy import select
from sqlalchemy.orm import Session

from patrimoine.access import audit
from patrimoine.access.permissions import (
    can_edit_dataset,
    can_view_findings,
    can_view_grants,
    is_public,
    is_staff,
    require,
)
from patrimoine.access.principal import Principal
from patrimoine.core.errors import Invalid
from patrimoine.inventory import queries, service
from patrimoine.inventory.models import Dataset, Department, Organisation
from patrimoine.web.api.inventory import FiltersDep
from patrimoine.web.deps import LoggedInDep, SessionDep
from patrimoine.web.pages import dataset_form
from patrimoine.web.pages.backoffice import FormDep, can_create_anywhere, page, query_string
from patrimoine.web.pages.charts import bar_chart
from patrimoine.web.templating import flash

router = APIRouter(include_in_schema=False)

LIST_FACETS = ("organisation", "department", "theme", "source", "sharing", "confidentiality",
               "access_level", "lifecycle_stage")
SORT_LABELS = {
    "relevance": "Pertinence",
    "title": "Titre (A → Z)",
    "-updated": "Modifiés récemment",
    "updated": "Modifiés il y a longtemps",
    "organisation": "Organisation",
}
PER_PAGE = 50
FACET_SHOWN = 8


@dataclass
class FacetLink:
    label: str
    count: int
    url: str
    selected: bool


@dataclass
class Facet:
    name: str
    title: str
    links: list[FacetLink]

    @property
    def first(self) -> list[FacetLink]:
        return self.links[:FACET_SHOWN]

    @property
    def rest(self) -> list[FacetLink]:
        return self.links[FACET_SHOWN:]


def _params(request: Request) -> list[tuple[str, str]]:
    return [(k, v) for k, v in request.query_params.multi_items() if k != "page" and v != ""]


def _toggle(params: list[tuple[str, str]], name: str, value: str, single: bool = False) -> str:
    if (name, value) in params:
        kept = [p for p in params if p != (name, value)]
    else:
        kept = [p for p in params if not (single and p[0] == name)] + [(name, value)]
    return query_string(kept)


def _facets(session: Session, principal: Principal, filters: queries.DatasetFilters,
            params: list[tuple[str, str]]) -> list[Facet]:
    found = queries.facets(session, principal, filters, list(LIST_FACETS))
    out = []
    for name in LIST_FACETS:
        selected = set(filters.values.get(name, []))
        links = [FacetLink(v.label, v.count, _toggle(params, name, v.value), v.value in selected)
                 for v in found[name]]
        out.append(Facet(name, queries.FIELD_LABELS[name], links))
    # Personal data is a yes/no column, not a grouped field: two counts under the other filters.
    personal = []
    for value, text in (("true", "Oui"), ("false", "Non")):
        wanted = value == "true"
        other = queries.DatasetFilters(filters.q, filters.values, filters.keyword, wanted)
        count = queries.list_datasets(session, principal, other, per_page=1).total
        if count:
            personal.append(FacetLink(text, count, _toggle(params, "contains_personal_data", value,
                                                           single=True),
                                      filters.contains_personal_data is wanted))
    out.insert(7, Facet("contains_personal_data", "Données personnelles", personal))
    return out


@router.get("/admin/inventaire")
def inventory_list(
    request: Request,
    session: SessionDep,
    principal: LoggedInDep,
    filters: FiltersDep,
    page_number: Annotated[int, Query(alias="page", ge=1, le=queries.MAX_PAGE)] = 1,
    tri: str = "",
) -> Response:
    sort = tri if tri in SORT_LABELS else ("relevance" if filters.q.strip() else "title")
    result = queries.list_datasets(session, principal, filters, page=page_number,
                                   per_page=PER_PAGE, sort=sort)
    params = _params(request)
    base = [p for p in params if p[0] != "tri"] + ([("tri", tri)] if tri else [])
    active = [(k, v) for k, v in params if k not in ("q", "tri")]
    facets = _facets(session, principal, filters, params)
    return page(request, "admin/inventory_list.html", "inventaire", {
        "result": result,
        "filters": filters,
        "facets": facets,
        "sort": sort,
        "sort_labels": SORT_LABELS,
        "hidden_params": [p for p in params if p[0] not in ("q", "tri")],
        "active_filters": _active_filters(facets, active, params),
        "page_url": lambda n: query_string(base + [("page", str(n))]),
        "clear_url": "/admin/inventaire",
        "can_create": can_create_anywhere(principal),
    })


def _active_filters(facets: list[Facet], active: list[tuple[str, str]],
                    params: list[tuple[str, str]]) -> list[tuple[str, str, str]]:
    """(field title, value label, url removing it) for every filter in use."""
    by_url = {}
    for facet in facets:
        for link in facet.links:
            if link.selected:
                by_url[(facet.name, link.url)] = (facet.title, link.label)
    out = []
    for name, value in active:
        url = _toggle(params, name, value)
        fallback = {"keyword": "Mot-clé"}.get(name) or queries.FIELD_LABELS.get(name, name)
        title, text = by_url.get((name, url), (fallback, value))
        out.append((title, text, url))
    return out


def _form_context(session: Session, principal: Principal, form: dataset_form.DatasetForm,
                  dataset: Dataset | None) -> dict[str, Any]:
    themes = [v.value for v in queries.facets(
        session, principal, queries.DatasetFilters(), ["theme"])["theme"]
        if v.value != queries.NONE_VALUE]
    return {
        "form": form,
        "dataset": dataset,
        "titles": dataset_form.FIELD_TITLES,
        "choices": dataset_form.choices(principal, queries.organisations(session), sorted(themes),
                                        dataset),
    }


@router.get("/admin/inventaire/nouveau")
def new_dataset_form(request: Request, session: SessionDep, principal: LoggedInDep) -> Response:
    require(can_create_anywhere(principal), principal,
            "créer un jeu de données")
    form = dataset_form.DatasetForm(values=dataset_form.values_of(None))
    return page(request, "admin/dataset_form.html", "inventaire",
                _form_context(session, principal, form, None))


@router.post("/admin/inventaire/nouveau")
def create_dataset(request: Request, session: SessionDep, principal: LoggedInDep,
                   posted: FormDep) -> Response:
    require(can_create_anywhere(principal), principal, "créer un jeu de données")
    form = dataset_form.parse(session, principal, posted)
    if form.ok and form.data is not None:
        try:
            dataset = service.create_dataset(session, principal, form.data)
        except Invalid as exc:
            session.rollback()
            form.errors["title"] = exc.message
        else:
            flash(request, f"Le jeu de données « {dataset.title} » a été créé.")
            return RedirectResponse(f"/admin/inventaire/{dataset.slug}", status_code=303)
    return page(request, "admin/dataset_form.html", "inventaire",
                _form_context(session, principal, form, None), status=422)


@router.get("/admin/inventaire/statistiques")
def statistics(request: Request, session: SessionDep, principal: LoggedInDep,
               organisation: str = "") -> Response:
    # One optional scope, an organisation, as the audit tables are read per collectivité too.
    filters = queries.DatasetFilters(values={"organisation": [organisation]} if organisation
                                     else {})
    choices = [v.value for v in queries.facets(
        session, principal, queries.DatasetFilters(), ["organisation"])["organisation"]]
    tables: list[dict[str, Any]] = []
    for name in queries.STATS_FIELDS:
        rows = queries.statistics(session, principal, name, filters)
        tables.append({
            "name": name,
            "title": queries.FIELD_LABELS[name],
            "rows": rows,
            "total": sum(r.count for r in rows),
            "chart": bar_chart(rows),
        })
    return page(request, "admin/statistics.html", "statistiques", {
        "tables": tables,
        "total": sum(r.count for r in tables[0]["rows"]),
        "organisation": organisation,
        "organisations": sorted(choices),
    })


def _history_rows(session: Session, changes: list[Any]) -> list[dict[str, Any]]:
    org_ids: set[int] = set()
    dep_ids: set[int] = set()
    for change in changes:
        for field, pair in change.changes.items():
            ids = org_ids if field == "organisation_id" else dep_ids
            if field in ("organisation_id", "department_id"):
                ids.update(v for v in pair if isinstance(v, int))
    names: dict[tuple[str, int], str] = {}
    if org_ids:
        for org in session.scalars(select(Organisation).where(Organisation.id.in_(org_ids))):
            names[("organisation_id", org.id)] = org.name
    if dep_ids:
        for dep in session.scalars(select(Department).where(Department.id.in_(dep_ids))):
            names[("department_id", dep.id)] = dep.name

    def shown(field: str, value: Any) -> str:
        if field in ("organisation_id", "department_id") and isinstance(value, int):
            return names.get((field, value), f"n° {value}")
        return dataset_form.shown_value(field, value)

    rows = []
    for change in changes:
        rows.append({
            "at": change.at,
            "actor": change.actor_label,
            "action": dataset_form.ACTION_LABELS.get(change.action, change.action),
            "changes": [(dataset_form.CHANGE_TITLES.get(f, f), shown(f, old), shown(f, new))
                        for f, (old, new) in change.changes.items()],
        })
    return rows


@router.get("/admin/inventaire/{slug}")
def dataset_page(slug: str, request: Request, session: SessionDep,
                 principal: LoggedInDep) -> Response:
    dataset = service.get_dataset(session, principal, slug)
    history = service.history(session, principal, dataset)
    if not is_public(dataset):  # reads of closed entries are audited
        audit.record(session, principal, "inventory.read", f"dataset:{dataset.slug}",
                     {"path": request.url.path})
    return page(request, "admin/dataset.html", "inventaire", {
        "dataset": dataset,
        # Who changed what is staff business: a partner reads the data, not the history.
        "history": _history_rows(session, history) if is_staff(principal) else None,
        "can_edit": can_edit_dataset(principal, dataset),
        "can_view_grants": can_view_grants(principal, dataset),
        "can_view_findings": can_view_findings(principal, dataset),
        "titles": dataset_form.FIELD_TITLES,
    })


@router.get("/admin/inventaire/{slug}/modifier")
def edit_dataset_form(slug: str, request: Request, session: SessionDep,
                      principal: LoggedInDep) -> Response:
    dataset = service.get_dataset(session, principal, slug)
    require(can_edit_dataset(principal, dataset), principal, "modifier ce jeu de données")
    form = dataset_form.DatasetForm(values=dataset_form.values_of(dataset))
    return page(request, "admin/dataset_form.html", "inventaire",
                _form_context(session, principal, form, dataset))


@router.post("/admin/inventaire/{slug}/modifier")
def update_dataset(slug: str, request: Request, session: SessionDep, principal: LoggedInDep,
                   posted: FormDep) -> Response:
    dataset = service.get_dataset(session, principal, slug)
    require(can_edit_dataset(principal, dataset), principal, "modifier ce jeu de données")
    form = dataset_form.parse(session, principal, posted)
    if form.ok and form.data is not None:
        try:
            changes = service.update_dataset(session, principal, dataset, form.data)
        except Invalid as exc:
            session.rollback()
            form.errors["title"] = exc.message
        else:
            if changes:
                flash(request, f"Modifications enregistrées ({len(changes)} champ"
                               f"{'s' if len(changes) > 1 else ''}).")
            else:
                flash(request, "Aucune modification : rien n'a changé.", "warning")
            return RedirectResponse(f"/admin/inventaire/{dataset.slug}", status_code=303)
    return page(request, "admin/dataset_form.html", "inventaire",
                _form_context(session, principal, form, dataset), status=422)
