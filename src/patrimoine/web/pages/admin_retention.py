"""Back-office pages of retention (/admin/conservation): the plan, the elimination slips and
their visa, the actions done, the legal holds, sobriety figures; a printable slip page; a
dataset's rule and its legal holds (placed and released there)."""

from __future__ import annotations

from datetime import date, datetime, time
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response
from sqlalchemy import select

from patrimoine.access import permissions as perms
from patrimoine.access.permissions import can_edit_dataset, require
from patrimoine.charter import sobriety
from patrimoine.core.db import DbInt
from patrimoine.core.errors import Conflict, Invalid
from patrimoine.core.vocabulary import choices, label
from patrimoine.datastore import versions as store
from patrimoine.inventory import service as inventory
from patrimoine.inventory.models import Dataset, Organisation
from patrimoine.retention import apply as applier
from patrimoine.retention import holds, planner, slips
from patrimoine.retention import service as rules
from patrimoine.retention.models import HoldKind, RetentionAction
from patrimoine.retention.rules import DurationUnit, FinalFate, StartEvent
from patrimoine.web.deps import LoggedInDep, SessionDep, services
from patrimoine.web.pages.backoffice import FormDep, page
from patrimoine.web.templating import flash

router = APIRouter(include_in_schema=False)

BASE = "/admin/conservation"
SECTION = "conservation"


def _organisations(session: SessionDep, principal: Any) -> list[Organisation]:
    scope = perms.retention_viewable_organisations(principal)
    require(scope is None or bool(scope), principal, "consulter la conservation des données")
    orgs = session.scalars(select(Organisation).order_by(Organisation.name))
    return [o for o in orgs if scope is None or o.id in scope]


@router.get(BASE)
def retention_page(request: Request, session: SessionDep, principal: LoggedInDep) -> Response:
    orgs = _organisations(session, principal)
    ids = [o.id for o in orgs]
    settings = services(request).settings
    plan = planner.build_plan(session, settings, ids)
    found = slips.list_slips(session, principal)
    actions = session.scalars(select(RetentionAction).where(
        RetentionAction.organisation_id.in_(ids)).order_by(RetentionAction.id.desc()).limit(50))
    figures = sobriety.compute(session, settings, ids)
    found_holds = holds.list_holds(session, ids)
    datasets_by_id = {d.id: d for d in session.scalars(
        select(Dataset).where(Dataset.id.in_({h.dataset_id for h in found_holds})))}
    manageable = [o for o in orgs if perms.can_manage_retention(principal, o.id)]
    to_propose = {o.id for o in manageable
                  if any(i.organisation_id == o.id and i.needs_visa and i.slip is None
                         for i in plan.items)}
    return page(request, "admin/retention/index.html", SECTION, {
        "breadcrumb": [(None, "Conservation des données")],
        "holds": [(h, holds.hold_json(h), datasets_by_id.get(h.dataset_id))
                  for h in found_holds],
        "plan": plan, "items": [i.as_json() for i in plan.items],
        "slips": [slips.slip_json(s) for s in found], "actions": list(actions),
        "sobriety": figures.as_json(), "organisations": {o.id: o for o in orgs},
        "can_apply": bool(manageable),
        "to_propose": [o for o in manageable if o.id in to_propose],
        "action_labels": planner.ACTION_LABELS,
    })


@router.post(f"{BASE}/appliquer")
def apply_page(request: Request, session: SessionDep, principal: LoggedInDep,
               form: FormDep) -> Response:
    scope = perms.retention_managed_organisations(principal)
    require(scope is None or bool(scope), principal, "décider de la conservation des données")
    outcome = applier.apply_plan(session, services(request).settings, principal, scope)
    done, skipped = len(outcome.done), len(outcome.skipped)
    flash(request, f"{done} action(s) de conservation effectuée(s)"
          + (f", {skipped} en attente (visa ou bordereau)." if skipped else "."))
    return RedirectResponse(BASE, status_code=303)


@router.post(f"{BASE}/bordereaux")
def create_slip_page(request: Request, session: SessionDep, principal: LoggedInDep,
                     form: FormDep) -> Response:
    try:
        organisation_id = int(str(form.get("organisation", "")))
    except ValueError:
        raise Invalid("Organisation manquante.") from None
    try:
        slip = slips.create_slip(session, services(request).settings, principal,
                                 organisation_id)
    except Conflict as exc:
        flash(request, exc.message, "error")
        return RedirectResponse(BASE, status_code=303)
    flash(request, f"Bordereau d'élimination {slip.reference} établi : à faire viser par le "
                   "directeur des archives.")
    return RedirectResponse(f"{BASE}/bordereaux/{slip.id}", status_code=303)


@router.get(BASE + "/bordereaux/{slip_id:int}")
def slip_page(slip_id: DbInt, request: Request, session: SessionDep, principal: LoggedInDep
              ) -> Response:
    slip = slips.get_slip(session, principal, slip_id)
    org = session.get(Organisation, slip.organisation_id)
    return page(request, "admin/retention/slip.html", SECTION, {
        "breadcrumb": [(BASE, "Conservation des données"), (None, f"Bordereau {slip.reference}")],
        "slip": slips.slip_json(slip), "organisation": org,
        "can_visa": perms.can_manage_retention(principal, slip.organisation_id)
        and slip.status.value == "awaiting_visa",
        "today": date.today().isoformat(),
    })


@router.post(BASE + "/bordereaux/{slip_id:int}/visa")
def visa_page(slip_id: DbInt, request: Request, session: SessionDep, principal: LoggedInDep,
              form: FormDep) -> Response:
    raw = str(form.get("date", "") or "")
    at = None
    if raw:
        try:
            at = datetime.combine(date.fromisoformat(raw), time(12)).astimezone()
        except ValueError:
            raise Invalid("Date du visa invalide (AAAA-MM-JJ).") from None
    refused = form.get("decision") == "refused"
    slip = slips.record_visa(session, principal, slip_id, by=str(form.get("by", "")),
                             reference=str(form.get("reference", "")), at=at,
                             refused=refused, reason=str(form.get("reason", "")) or None)
    flash(request, f"Bordereau {slip.reference} : {label(slip.status).lower()}.")
    return RedirectResponse(f"{BASE}/bordereaux/{slip.id}", status_code=303)


@router.get(BASE + "/bordereaux/{slip_id:int}.xlsx")
def slip_xlsx(slip_id: DbInt, session: SessionDep, principal: LoggedInDep) -> Response:
    slip = slips.get_slip(session, principal, slip_id)
    org = session.get(Organisation, slip.organisation_id)
    assert org is not None
    return Response(
        slips.slip_xlsx(slip, org),
        media_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        headers={"Content-Disposition":
                 f'attachment; filename="bordereau-{slip.reference}.xlsx"'})


# A dataset's rule

RULE_FIELDS = ("duration", "unit", "start_event", "final_fate", "event_date", "date_column",
               "legal_reference")


def _rule_page(request: Request, session: SessionDep, principal: Any, dataset: Any,
               values: dict[str, Any], errors: list[str], status: int = 200) -> Response:
    own = rules.rule_of(session, dataset)
    latest = store.latest_version(session, dataset)
    return page(request, "admin/retention/rule.html", SECTION, {
        "breadcrumb": [(BASE, "Conservation des données"), (None, dataset.title)],
        "holds": [holds.hold_json(h) for h in holds.list_holds(session, dataset_id=dataset.id)],
        "can_hold": perms.can_hold_data(principal, dataset.organisation_id),
        "hold_kinds": choices(HoldKind),
        "dataset": dataset, "rule": rules.rule_json(own), "values": values, "errors": errors,
        "can_edit": can_edit_dataset(principal, dataset),
        "columns": latest.column_names() if latest else [],
        "units": choices(DurationUnit), "fates": choices(FinalFate),
        "events": choices(StartEvent),
    }, status=status)


@router.get(BASE + "/jeux/{slug}")
def rule_page(slug: str, request: Request, session: SessionDep, principal: LoggedInDep
              ) -> Response:
    dataset = inventory.get_dataset(session, principal, slug)
    own = rules.rule_of(session, dataset)
    values = {k: v for k, v in (rules.rule_json(own) or {}).items() if k in RULE_FIELDS}
    return _rule_page(request, session, principal, dataset, values, [])


@router.post(BASE + "/jeux/{slug}")
def save_rule_page(slug: str, request: Request, session: SessionDep, principal: LoggedInDep,
                   form: FormDep) -> Response:
    dataset = inventory.get_dataset(session, principal, slug)
    values = {k: str(form.get(k, "") or "").strip() for k in RULE_FIELDS}
    data: dict[str, Any] = {k: v for k, v in values.items() if v}
    if "duration" in data:
        try:
            data["duration"] = int(data["duration"])
        except ValueError:
            return _rule_page(request, session, principal, dataset, values,
                              ["Durée : un nombre entier de 0 à 1000."], 422)
    try:
        with session.begin_nested():
            rules.set_rule(session, principal, dataset, data)
    except Invalid as exc:
        return _rule_page(request, session, principal, dataset, values,
                          [exc.message, *exc.errors], 422)
    flash(request, f"Règle de conservation de « {dataset.title} » enregistrée.")
    return RedirectResponse(f"{BASE}/jeux/{dataset.slug}", status_code=303)


HOLD_FIELDS = ("kind", "reason", "starts_on", "ends_on", "review_on", "version")


@router.post(BASE + "/jeux/{slug}/gels")
def place_hold_page(slug: str, request: Request, session: SessionDep, principal: LoggedInDep,
                    form: FormDep) -> Response:
    dataset = inventory.get_dataset(session, principal, slug)
    values = {k: str(form.get(k, "") or "").strip() for k in HOLD_FIELDS}
    version = values.pop("version")
    try:
        number = int(version) if version else None
    except ValueError:
        flash(request, "Version : un numéro entier, ou rien pour tout le jeu de données.",
              "error")
        return RedirectResponse(f"{BASE}/jeux/{dataset.slug}#gels", status_code=303)
    try:
        with session.begin_nested():
            holds.place_hold(session, principal, dataset, version=number, **values)
    except Invalid as exc:
        flash(request, " ".join([exc.message, *exc.errors]), "error")
    else:
        flash(request, f"Gel juridique enregistré sur « {dataset.title} » : ses données ne "
                       "seront ni éliminées, ni triées, ni versées tant qu'il dure.")
    return RedirectResponse(f"{BASE}/jeux/{dataset.slug}#gels", status_code=303)


@router.post(BASE + "/gels/{hold_id:int}/lever")
def release_hold_page(hold_id: DbInt, request: Request, session: SessionDep,
                      principal: LoggedInDep, form: FormDep) -> Response:
    try:
        with session.begin_nested():
            hold = holds.release_hold(session, principal, hold_id,
                                      str(form.get("reason", "") or ""))
    except Invalid as exc:
        flash(request, exc.message, "error")
        return RedirectResponse(BASE + "#gels", status_code=303)
    flash(request, "Gel juridique levé.")
    dataset = session.get(Dataset, hold.dataset_id)
    return RedirectResponse(f"{BASE}/jeux/{dataset.slug}#gels" if dataset else BASE,
                            status_code=303)
