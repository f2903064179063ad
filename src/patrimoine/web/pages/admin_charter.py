"""Back-office pages of the charter (/admin/charte): the dashboard per engagement (counts of
the last evaluation, trend, items failing and since when, deviations, actions), running an
evaluation, the register of deviations with its form, the action plan with its form and each
action's history; and the public register of deviations on the portal (/charte/ecarts)
when the charter publishes it."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response
from sqlalchemy import select
from sqlalchemy.orm import Session

from patrimoine.access.models import Role
from patrimoine.access.permissions import (
    can_approve_deviation,
    can_manage_charter,
    can_read_charter,
    charter_organisations,
    require,
    visible_charter_items,
)
from patrimoine.access.principal import Principal
from patrimoine.charter import actions, config, deviations, evaluations
from patrimoine.charter.engine import evaluate
from patrimoine.charter.models import CharterRunRule
from patrimoine.charter.rules.base import OUTCOME_LABELS, RULES, SEVERITY_LABELS
from patrimoine.core.clock import now
from patrimoine.core.db import DbInt
from patrimoine.core.errors import Invalid, NotFound
from patrimoine.inventory.models import Organisation
from patrimoine.web.deps import LoggedInDep, SessionDep
from patrimoine.web.pages.backoffice import FormDep, page
from patrimoine.web.pages.protection_forms import Form, validated
from patrimoine.web.templating import flash, render

router = APIRouter(include_in_schema=False)

BASE = "/admin/charte"
SECTION = "charte"
DEVIATION_TITLES = {
    "rule_id": "Règle", "item": "Élément (identifiant, ex. dataset:42)",
    "item_label": "Nom de l'élément", "organisation": "Organisation",
    "justification": "Justification", "approver_role": "Approuvé au titre du rôle",
    "starts_on": "Début", "expires_on": "Expiration", "link": "Lien vers l'expérimentation",
}
ACTION_TITLES = {
    "engagement": "Engagement", "organisation": "Organisation", "title": "Action",
    "owner": "Responsable", "due_on": "Échéance", "rule_ids": "Règles visées",
    "evidence": "Preuve de réalisation", "started_on": "Commencée le",
    "done_on": "Réalisée le",
}


def _readable(session: Session, principal: Principal) -> list[Organisation]:
    require(can_read_charter(principal), principal, "consulter la charte de la donnée")
    scope = charter_organisations(principal)
    orgs = session.scalars(select(Organisation).order_by(Organisation.name))
    return [o for o in orgs if scope is None or o.id in scope]


def _scope(request: Request, session: Session, principal: Principal
           ) -> tuple[list[Organisation], Organisation | None]:
    """The organisations the principal reads, and the one chosen (None: the whole instance,
    for an instance administrator only)."""
    orgs = _readable(session, principal)
    slug = request.query_params.get("organisation")
    chosen = next((o for o in orgs if o.slug == slug), None)
    if slug and chosen is None:
        raise NotFound("Organisation introuvable.")
    if chosen is None and not principal.is_superadmin:
        chosen = orgs[0] if orgs else None
    return orgs, chosen


def _query(org: Organisation | None) -> str:
    return f"?organisation={org.slug}" if org else ""


@router.get(BASE)
def dashboard(request: Request, session: SessionDep, principal: LoggedInDep) -> Response:
    orgs, org = _scope(request, session, principal)
    org_id = org.id if org else None
    ids = None if org is None else [org.id]
    charter = config.current(session)
    today = now().date()
    run = evaluations.last_run(session, org_id)
    counts: dict[tuple[str, str], CharterRunRule] = {}
    if run is not None:
        counts = {(r.engagement, r.rule_id): r for r in session.scalars(
            select(CharterRunRule).where(CharterRunRule.run_id == run.id))}
    failing = evaluations.failures(session, ids, limit=2000)
    visible = visible_charter_items(session, principal,
                                    [(f.item, f.organisation_id) for f in failing])
    trend = evaluations.trend(session, org_id)
    listed_actions = actions.listed(session, ids)
    listed_deviations = deviations.listed(session, ids)
    engagements = []
    for e in charter.engagements:
        rules = [(RULES[u.rule_id], counts.get((e.code, u.rule_id))) for u in e.rules
                 if u.rule_id in RULES]
        total = {k: sum(getattr(c, k) for _, c in rules if c is not None)
                 for k in ("passed", "failed", "deviations", "not_applicable")}
        mine = {u.rule_id for u in e.rules}
        engagements.append({
            "engagement": e, "rules": rules, "total": total,
            "trend": [p.as_dict() for p in trend.get(e.code, [])],
            "failing": [f for f in failing if f.engagement == e.code
                        and f.item in visible][:50],
            "failing_total": sum(1 for f in failing if f.engagement == e.code
                                 and f.item in visible),
            "failing_hidden": sum(1 for f in failing if f.engagement == e.code
                                  and f.item not in visible),
            "actions": [a.as_dict(today) for a in listed_actions if a.engagement == e.code],
            "deviations": [d.as_dict(today) for d in listed_deviations if d.rule_id in mine
                           and d.state(today) != deviations.EXPIRED],
        })
    return page(request, "admin/charter/dashboard.html", SECTION, {
        "breadcrumb": [(None, "Charte de la donnée")],
        "charter": charter, "run": run, "engagements": engagements, "organisations": orgs,
        "organisation": org, "query": _query(org), "severity_labels": SEVERITY_LABELS,
        "outcome_labels": OUTCOME_LABELS, "can_manage": can_manage_charter(principal, org_id),
        "all_allowed": principal.is_superadmin})


@router.post(f"{BASE}/evaluer")
def evaluate_page(request: Request, session: SessionDep, principal: LoggedInDep,
                  form: FormDep) -> Response:
    orgs, _ = _scope(request, session, principal)
    slug = str(form.get("organisation") or "")
    org = next((o for o in orgs if o.slug == slug), None)
    if org is None and not principal.is_superadmin:
        raise Invalid("Choisissez une organisation.")
    require(can_manage_charter(principal, org.id if org else None), principal,
            "évaluer la charte")
    result = evaluate(session, None if org is None else [org.id])
    evaluations.record(session, principal, result)
    failed = sum(len(r.failures) for r in result.rules)
    flash(request, f"Charte évaluée : {len(result.rules)} règle(s), {failed} élément(s) en "
                   "échec.")
    return RedirectResponse(BASE + _query(org), status_code=303)


# ---------------------------------------------------------------------------------------------
# Deviations
# ---------------------------------------------------------------------------------------------


def _approvable(principal: Principal, orgs: list[Organisation], roles: tuple[str, ...]
                ) -> list[Organisation]:
    return [o for o in orgs
            if any(can_approve_deviation(principal, o.id, Role(r)) for r in roles)]


def _deviations_page(request: Request, session: Session, principal: Principal, form: Form,
                     status: int = 200) -> Response:
    orgs = _readable(session, principal)
    charter = config.current(session)
    today = now().date()
    names = {o.id: o.name for o in orgs}
    ids = None if principal.is_superadmin else [o.id for o in orgs]
    return page(request, "admin/charter/deviations.html", SECTION, {
        "breadcrumb": [(BASE, "Charte de la donnée"), (None, "Écarts documentés")],
        "deviations": [d.as_dict(today) | {
            "organisation": names.get(d.organisation_id or 0, "Toutes"),
            "can_end": d.state(today) == deviations.RUNNING and can_approve_deviation(
                principal, d.organisation_id, Role(d.approver_role))}
            for d in deviations.listed(session, ids)],
        "form": form, "titles": DEVIATION_TITLES,
        "rules": [(r.id, f"{r.title} ({r.id})") for r in RULES.values()],
        "roles": charter.approver_labels(), "published": charter.publish_deviations,
        "organisations": [(o.slug, o.name) for o in _approvable(
            principal, orgs, charter.approver_roles)],
        "all_allowed": principal.is_superadmin}, status=status)


@router.get(f"{BASE}/ecarts")
def deviations_page(request: Request, session: SessionDep, principal: LoggedInDep
                    ) -> Response:
    today = now().date()
    values = {"starts_on": today.isoformat(), "rule_id": request.query_params.get("regle", ""),
              "item": request.query_params.get("element", "")}
    return _deviations_page(request, session, principal, Form(values=values))


@router.post(f"{BASE}/ecarts")
def create_deviation(request: Request, session: SessionDep, principal: LoggedInDep,
                     posted: FormDep) -> Response:
    form = Form(values={k: str(posted.get(k) or "").strip() for k in DEVIATION_TITLES})
    orgs = {o.slug: o for o in _readable(session, principal)}
    slug = form.values.get("organisation", "")
    if slug and slug not in orgs:
        form.errors["organisation"] = "Choisissez une organisation dans la liste."
        return _deviations_page(request, session, principal, form, 422)
    data: dict[str, Any] = {k: (v or None) for k, v in form.values.items()
                            if k != "organisation"}
    data["item_label"] = form.values.get("item_label", "")
    data["organisation_id"] = orgs[slug].id if slug else None
    parsed = validated(deviations.DeviationInput, data, form)
    if parsed is None:
        return _deviations_page(request, session, principal, form, 422)
    try:
        with session.begin_nested():
            d = deviations.record(session, principal, parsed)
    except Invalid as exc:
        form.general.append(exc.message)
        return _deviations_page(request, session, principal, form, 422)
    flash(request, f"Écart enregistré jusqu'au {d.expires_on:%d/%m/%Y}.")
    return RedirectResponse(f"{BASE}/ecarts#ecart-{d.id}", status_code=303)


@router.post(BASE + "/ecarts/{deviation_id:int}/fin")
def end_deviation(deviation_id: DbInt, request: Request, session: SessionDep,
                  principal: LoggedInDep, posted: FormDep) -> Response:
    _readable(session, principal)
    d = deviations.end(session, principal, deviation_id, now().date())
    flash(request, f"L'écart prend fin le {d.expires_on:%d/%m/%Y}.")
    return RedirectResponse(f"{BASE}/ecarts#ecart-{d.id}", status_code=303)


@router.get("/charte/ecarts")
def public_deviations(request: Request, session: SessionDep) -> Response:
    found = deviations.public_register(session)
    if found is None:
        raise NotFound("Le registre des écarts à la charte n'est pas publié.")
    today = now().date()
    names = {o.id: o.name for o in session.scalars(select(Organisation))}
    charter = config.current(session)
    return render(request, "portal/charter_deviations.html", {
        "section": "charter", "charter": charter,
        "deviations": [d.as_dict(today) | {"organisation": names.get(d.organisation_id or 0,
                                                                       "Toutes")}
                       for d in found]})


# ---------------------------------------------------------------------------------------------
# The action plan
# ---------------------------------------------------------------------------------------------


def _actions_page(request: Request, session: Session, principal: Principal, form: Form,
                  status: int = 200) -> Response:
    orgs = _readable(session, principal)
    today = now().date()
    ids = None if principal.is_superadmin else [o.id for o in orgs]
    charter = config.current(session)
    return page(request, "admin/charter/actions.html", SECTION, {
        "breadcrumb": [(BASE, "Charte de la donnée"), (None, "Plan d'actions")],
        "actions": [a.as_dict(today) for a in actions.listed(session, ids)],
        "names": {o.id: o.name for o in orgs}, "form": form, "titles": ACTION_TITLES,
        **_action_choices(session, principal, orgs, charter)}, status=status)


def _action_choices(session: Session, principal: Principal, orgs: list[Organisation],
                    charter: config.Charter) -> dict[str, Any]:
    return {"engagements": [(e.code, e.title) for e in charter.engagements],
            "rules": [(r.id, f"{r.title} ({r.id})") for r in RULES.values()],
            "organisations": [(o.slug, o.name) for o in orgs
                              if can_manage_charter(principal, o.id)],
            "can_create": can_manage_charter(principal),
            "all_allowed": principal.is_superadmin}


def _action_form(posted: Any, orgs: dict[str, Organisation]) -> tuple[Form, Any]:
    form = Form(values={k: str(posted.get(k) or "").strip() for k in ACTION_TITLES
                        if k != "rule_ids"})
    form.values["rule_ids"] = [str(v) for v in posted.getlist("rule_ids")]
    slug = form.values.get("organisation", "")
    if slug and slug not in orgs:
        form.errors["organisation"] = "Choisissez une organisation dans la liste."
        return form, None
    data: dict[str, Any] = {k: (v or None) for k, v in form.values.items()
                            if k not in ("organisation", "rule_ids", "evidence")}
    data["organisation_id"] = orgs[slug].id if slug else None
    data["rule_ids"] = form.values["rule_ids"]
    data["evidence"] = form.values.get("evidence", "")
    return form, validated(actions.ActionInput, data, form)


@router.get(f"{BASE}/actions")
def actions_page(request: Request, session: SessionDep, principal: LoggedInDep) -> Response:
    return _actions_page(request, session, principal, Form(values={"rule_ids": []}))


@router.post(f"{BASE}/actions")
def create_action(request: Request, session: SessionDep, principal: LoggedInDep,
                  posted: FormDep) -> Response:
    orgs = {o.slug: o for o in _readable(session, principal)}
    form, parsed = _action_form(posted, orgs)
    if parsed is None:
        return _actions_page(request, session, principal, form, 422)
    try:
        with session.begin_nested():
            a = actions.create(session, principal, parsed)
    except Invalid as exc:
        form.general.append(exc.message)
        return _actions_page(request, session, principal, form, 422)
    flash(request, f"Action « {a.title} » inscrite au plan.")
    return RedirectResponse(f"{BASE}/actions/{a.id}", status_code=303)


def _action_page(request: Request, session: Session, principal: Principal, action_id: int,
                 form: Form | None, status: int = 200) -> Response:
    orgs = _readable(session, principal)
    row = actions.get(session, action_id)
    if row.organisation_id is not None and row.organisation_id not in {o.id for o in orgs}:
        raise NotFound("Action introuvable.")
    today = now().date()
    current = actions.listed(session, None)
    facts = next(a for a in current if a.id == action_id)
    if form is None:
        values = facts.as_dict(today)
        slug = next((o.slug for o in orgs if o.id == row.organisation_id), "")
        form = Form(values={**{k: (values[k] or "") for k in ACTION_TITLES
                               if k not in ("organisation", "engagement", "rule_ids")},
                            "engagement": row.engagement.code, "organisation": slug,
                            "rule_ids": list(row.rule_ids or [])})
    return page(request, "admin/charter/action.html", SECTION, {
        "breadcrumb": [(BASE, "Charte de la donnée"), (f"{BASE}/actions", "Plan d'actions"),
                       (None, facts.title)],
        "action": facts.as_dict(today), "history": actions.history(session, action_id),
        "form": form, "titles": ACTION_TITLES,
        "can_edit": can_manage_charter(principal, row.organisation_id),
        **_action_choices(session, principal, orgs, config.current(session))}, status=status)


@router.get(BASE + "/actions/{action_id:int}")
def action_page(action_id: DbInt, request: Request, session: SessionDep,
                principal: LoggedInDep) -> Response:
    return _action_page(request, session, principal, action_id, None)


@router.post(BASE + "/actions/{action_id:int}")
def update_action(action_id: DbInt, request: Request, session: SessionDep,
                  principal: LoggedInDep, posted: FormDep) -> Response:
    orgs = {o.slug: o for o in _readable(session, principal)}
    form, parsed = _action_form(posted, orgs)
    if parsed is None:
        return _action_page(request, session, principal, action_id, form, 422)
    try:
        with session.begin_nested():
            actions.update(session, principal, action_id, parsed)
    except Invalid as exc:
        form.general.append(exc.message)
        return _action_page(request, session, principal, action_id, form, 422)
    flash(request, "Action enregistrée.")
    return RedirectResponse(f"{BASE}/actions/{action_id}", status_code=303)
