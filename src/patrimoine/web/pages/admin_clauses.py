"""Back-office page of an organisation's charter clauses: the clauses its contracts should
carry (the seven of Orléans' charter by default), each one's title, model text, order and
whether it is the reversibility clause the watch looks at; a clause is changed or added."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response
from pydantic import ValidationError
from sqlalchemy.orm import Session

from patrimoine.access.permissions import can_edit_sovereignty, can_read_sovereignty, require
from patrimoine.access.principal import Principal
from patrimoine.core.errors import Invalid
from patrimoine.inventory.models import Organisation
from patrimoine.inventory.service import get_organisation_by_slug
from patrimoine.sovereignty import contracts as ctr
from patrimoine.web.deps import LoggedInDep, SessionDep
from patrimoine.web.errors import validation_message
from patrimoine.web.pages.admin_sovereignty import BASE, SECTION
from patrimoine.web.pages.backoffice import FormDep, page
from patrimoine.web.pages.protection_forms import Form
from patrimoine.web.templating import flash

router = APIRouter(include_in_schema=False)

TITLES = {"code": "Code", "title": "Intitulé", "text": "Texte type de la clause",
          "rank": "Ordre", "reversibility": "C'est la clause de réversibilité"}


def _page(request: Request, session: Session, principal: Principal, org: Organisation,
          form: Form, status: int = 200) -> Response:
    return page(request, "admin/sovereignty/clauses.html", SECTION, {
        "breadcrumb": [(BASE, "Souveraineté"), (f"{BASE}/contrats", "Contrats"),
                       (None, f"Clauses de la charte — {org.name}")],
        "organisation": org, "clauses": ctr.clause_set(session, org.id),
        "form": form, "titles": TITLES,
        "can_edit": can_edit_sovereignty(principal, org.id)}, status=status)


@router.get(BASE + "/clauses/{slug}")
def clauses_page(slug: str, request: Request, session: SessionDep, principal: LoggedInDep
                 ) -> Response:
    org = get_organisation_by_slug(session, slug)
    require(can_read_sovereignty(principal, org.id), principal,
            "consulter les clauses de la charte de cette organisation")
    clauses = ctr.clause_set(session, org.id)
    return _page(request, session, principal, org, Form(values={
        "rank": str(max((c.rank for c in clauses), default=-1) + 1)}))


@router.post(BASE + "/clauses/{slug}")
def save_clause_page(slug: str, request: Request, session: SessionDep, principal: LoggedInDep,
                     posted: FormDep) -> Response:
    org = get_organisation_by_slug(session, slug)
    require(can_edit_sovereignty(principal, org.id), principal,
            "modifier les clauses de la charte de cette organisation")
    values = {k: str(v).strip() for k, v in posted.items() if k != "csrf_token"}
    form = Form(values=values)
    try:
        data = ctr.ClauseInput.model_validate({
            "code": values.get("code", ""), "title": values.get("title", ""),
            "text": values.get("text", ""), "rank": values.get("rank") or "0",
            "reversibility": values.get("reversibility") == "on"})
        with session.begin_nested():
            clause = ctr.set_clause(session, principal, org.id, data)
    except ValidationError as exc:
        for e in exc.errors():
            form.errors.setdefault(str(e["loc"][0]) if e["loc"] else "", validation_message(e))
        return _page(request, session, principal, org, form, 422)
    except Invalid as exc:
        form.general += [exc.message, *exc.errors]
        return _page(request, session, principal, org, form, 422)
    flash(request, f"Clause « {clause.title} » enregistrée.")
    return RedirectResponse(f"{BASE}/clauses/{org.slug}#clause-{clause.code}", status_code=303)
