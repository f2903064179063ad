"""JSON API of the charter (read only): the charter as written, the rule library, the last
stored evaluation with its failing items and since when, the trend per engagement, the
deviations and the action plan.

Who may read (access/permissions.py): an organisation's staff read its results, each failing
item named only to whoever may see it (`visible_charter_items`); without
`organisation`, an instance administrator reads the whole instance and anyone else their
only organisation (naming it is required when they have several).
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from sqlalchemy import select
from sqlalchemy.orm import Session

from patrimoine.access.permissions import (
    can_read_charter,
    charter_organisations,
    require,
    visible_charter_items,
)
from patrimoine.access.principal import Principal
from patrimoine.charter import actions, config, deviations, evaluations
from patrimoine.charter.models import CharterRunRule
from patrimoine.charter.rules.base import RULES
from patrimoine.core.clock import now
from patrimoine.core.db import DbInt
from patrimoine.core.errors import Invalid
from patrimoine.inventory.service import get_organisation_by_slug
from patrimoine.web.api.responses import ERRORS
from patrimoine.web.deps import PrincipalDep, SessionDep

router = APIRouter(prefix="/api/v1/charter", tags=["charte"], responses=ERRORS)
READING = "consulter la charte de la donnée"


def _scope(session: Session, principal: Principal, organisation: str | None) -> int | None:
    """The organisation read (None: the whole instance, for an instance administrator)."""
    if organisation:
        org = get_organisation_by_slug(session, organisation)
        require(can_read_charter(principal, org.id), principal, READING)
        return org.id
    require(can_read_charter(principal), principal, READING)
    mine = charter_organisations(principal)
    if mine is None:
        return None
    if len(mine) == 1:
        return mine[0]
    raise Invalid("Précisez l'organisation (paramètre « organisation »).")


@router.get("", summary="La charte : engagements, règles et paramètres")
def get_charter(session: SessionDep, principal: PrincipalDep) -> dict[str, Any]:
    require(can_read_charter(principal), principal, READING)
    _, slugs = config.organisation_maps(session)
    return config.to_data(config.current(session), slugs)


@router.get("/rules", summary="La bibliothèque de règles")
def list_rules(principal: PrincipalDep) -> list[dict[str, Any]]:
    require(can_read_charter(principal), principal, READING)
    return [r.as_dict() for r in RULES.values()]


@router.get("/evaluation", summary="La dernière évaluation enregistrée et ses éléments en échec")
def get_evaluation(session: SessionDep, principal: PrincipalDep,
                   organisation: str | None = None, limit: DbInt = 500) -> dict[str, Any]:
    org_id = _scope(session, principal, organisation)
    run = evaluations.last_run(session, org_id)
    if run is None:
        return {"run": None, "rules": [], "failures": [], "failures_hidden": 0}
    rules = session.scalars(select(CharterRunRule).where(CharterRunRule.run_id == run.id)
                            .order_by(CharterRunRule.id))
    failing = evaluations.failures(session, None if org_id is None else [org_id],
                                   limit=max(1, min(limit, 5000)))
    visible = visible_charter_items(session, principal,
                                    [(f.item, f.organisation_id) for f in failing])
    return {
        "run": {"id": run.id, "at": run.at.isoformat(), "by": run.actor_label,
                "highest_failed": run.highest_failed},
        "rules": [{"engagement": r.engagement, "rule_id": r.rule_id, "severity": r.severity,
                   "passed": r.passed, "failed": r.failed, "deviations": r.deviations,
                   "not_applicable": r.not_applicable} for r in rules],
        "failures": [{"engagement": f.engagement, "rule_id": f.rule_id, "item": f.item,
                      "label": f.label, "reason": f.reason, "link": f.link,
                      "outcome": f.outcome, "organisation_id": f.organisation_id,
                      "since": f.first_failed_at.isoformat()}
                     for f in failing if f.item in visible],
        "failures_hidden": sum(1 for f in failing if f.item not in visible)}


@router.get("/trend", summary="L'évolution de chaque engagement")
def get_trend(session: SessionDep, principal: PrincipalDep, organisation: str | None = None,
              limit: DbInt = 24) -> dict[str, list[dict[str, Any]]]:
    org_id = _scope(session, principal, organisation)
    return {code: [p.as_dict() for p in points] for code, points in
            evaluations.trend(session, org_id, max(1, min(limit, 200))).items()}


@router.get("/deviations", summary="Les écarts documentés")
def list_deviations(session: SessionDep, principal: PrincipalDep,
                    organisation: str | None = None) -> list[dict[str, Any]]:
    org_id = _scope(session, principal, organisation)
    today = now().date()
    return [d.as_dict(today) for d in deviations.listed(
        session, None if org_id is None else [org_id])]


@router.get("/actions", summary="Le plan d'actions et le statut de chaque action")
def list_actions(session: SessionDep, principal: PrincipalDep,
                 organisation: str | None = None) -> list[dict[str, Any]]:
    org_id = _scope(session, principal, organisation)
    today = now().date()
    return [a.as_dict(today) for a in actions.listed(
        session, None if org_id is None else [org_id])]
