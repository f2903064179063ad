"""Legal holds (gel juridique): a litigation, a CADA request or an audit suspends the
retention of a dataset, or of one of its versions, whatever its rule says.

A hold has a kind, a reason, who placed it, a start, and an end date or a review date (at
least one). It is in force from its start until it is released (who, when, why) or its end
has passed; a review date only flags it for review. While in force, the planner marks the
items touching held data as held: they are not proposed on a slip, apply neither destroys,
purges, transfers nor anonymises them, and a slip visa'd before the hold is not executed
for them. Placing and releasing are recorded in the dataset's history and the audit log.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable
from datetime import date
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from patrimoine.access import audit
from patrimoine.access import permissions as perms
from patrimoine.access.principal import Principal
from patrimoine.core.clock import now
from patrimoine.core.errors import Invalid, NotFound
from patrimoine.core.vocabulary import label
from patrimoine.datastore import versions as store
from patrimoine.inventory.models import Dataset, DatasetChange
from patrimoine.retention.models import HoldKind, LegalHold


def _day(value: date | str | None, what: str) -> date | None:
    if value is None or isinstance(value, date):
        return value
    text = value.strip()
    if not text:
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise Invalid(f"{what} : date attendue (AAAA-MM-JJ), reçu « {text} ».") from None


def describe(hold: LegalHold) -> str:
    """The hold in one French sentence, as the slip and the pages show it."""
    what = (f"version {hold.version_number}" if hold.version_number is not None
            else "toutes les versions")
    until = (f"jusqu'au {hold.ends_on:%d/%m/%Y}" if hold.ends_on
             else f"à revoir le {hold.review_on:%d/%m/%Y}" if hold.review_on else "")
    return (f"{label(hold.kind)} — {what} — depuis le {hold.starts_on:%d/%m/%Y}"
            + (f", {until}" if until else "") + f" ; motif : {hold.reason} "
            f"(posé par {hold.placed_by})")


def hold_json(hold: LegalHold, today: date | None = None) -> dict[str, Any]:
    today = today or now().date()
    return {
        "id": hold.id, "dataset_id": hold.dataset_id, "version": hold.version_number,
        "kind": hold.kind.value, "kind_label": label(hold.kind), "reason": hold.reason,
        "starts_on": hold.starts_on.isoformat(),
        "ends_on": hold.ends_on.isoformat() if hold.ends_on else None,
        "review_on": hold.review_on.isoformat() if hold.review_on else None,
        "placed_by": hold.placed_by, "placed_at": hold.placed_at.isoformat(),
        "released_at": hold.released_at.isoformat() if hold.released_at else None,
        "released_by": hold.released_by, "release_reason": hold.release_reason,
        "in_force": hold.in_force(today),
        "review_due": bool(hold.review_on and hold.review_on <= today
                           and hold.in_force(today)),
        "description": describe(hold),
    }


def place_hold(session: Session, principal: Principal, dataset: Dataset, *, kind: str,
               reason: str, starts_on: date | str | None = None,
               ends_on: date | str | None = None, review_on: date | str | None = None,
               version: int | None = None) -> LegalHold:
    perms.require(perms.can_hold_data(principal, dataset.organisation_id), principal,
                  f"geler la conservation de « {dataset.title} »")
    errors = []
    if kind not in {k.value for k in HoldKind}:
        errors.append(f"Nature du gel inconnue « {kind} » : "
                      + ", ".join(f"{k.value} ({label(k)})" for k in HoldKind) + ".")
    reason = (reason or "").strip()
    if not reason:
        errors.append("Indiquez le motif du gel (n° de requête, demande CADA, mission "
                      "d'audit…).")
    elif len(reason) > 2000:
        errors.append("Le motif est trop long (2 000 caractères au plus).")
    start = _day(starts_on, "Début du gel") or now().date()
    end = _day(ends_on, "Fin du gel")
    review = _day(review_on, "Date de réexamen")
    if end is None and review is None:
        errors.append("Indiquez une date de fin ou une date de réexamen du gel.")
    if end is not None and end < start:
        errors.append("La fin du gel précède son début.")
    if version is not None and version not in {
            v.number for v in store.list_versions(session, dataset)}:
        errors.append(f"« {dataset.title} » n'a pas de version {version}.")
    if errors:
        raise Invalid("Gel juridique refusé.", errors=errors)
    hold = LegalHold(organisation_id=dataset.organisation_id, dataset_id=dataset.id,
                     version_number=version, kind=HoldKind(kind), reason=reason,
                     starts_on=start, ends_on=end, review_on=review, placed_by=principal.label)
    session.add(hold)
    session.flush()
    session.add(DatasetChange(dataset_id=dataset.id, actor_id=principal.account_id,
                              actor_label=principal.label, action="legal_hold_placed",
                              changes={"Gel juridique": [None, describe(hold)]}))
    audit.record(session, principal, "retention.hold_placed", f"dataset:{dataset.uid}",
                 {"slug": dataset.slug, **hold_json(hold)})
    return hold


def release_hold(session: Session, principal: Principal, hold_id: int,
                 reason: str) -> LegalHold:
    hold = session.get(LegalHold, hold_id)
    if hold is None:
        raise NotFound(f"Le gel juridique {hold_id} n'existe pas.")
    dataset = session.get(Dataset, hold.dataset_id)
    assert dataset is not None
    perms.require(perms.can_hold_data(principal, hold.organisation_id), principal,
                  f"lever un gel juridique de « {dataset.title} »")
    reason = (reason or "").strip()
    if not reason:
        raise Invalid("Indiquez pourquoi le gel est levé (jugement définitif, réponse "
                      "CADA donnée…).")
    if hold.released_at is not None:
        raise Invalid("Ce gel est déjà levé.")
    hold.released_at, hold.released_by, hold.release_reason = now(), principal.label, reason
    session.flush()
    session.add(DatasetChange(dataset_id=dataset.id, actor_id=principal.account_id,
                              actor_label=principal.label, action="legal_hold_released",
                              changes={"Gel juridique": [describe(hold), f"levé : {reason}"]}))
    audit.record(session, principal, "retention.hold_released", f"dataset:{dataset.uid}",
                 {"slug": dataset.slug, **hold_json(hold)})
    return hold


def list_holds(session: Session, organisation_ids: Collection[int] | None = None,
               dataset_id: int | None = None) -> list[LegalHold]:
    """Every hold, released ones included (newest first)."""
    query = select(LegalHold).order_by(LegalHold.placed_at.desc(), LegalHold.id.desc())
    if organisation_ids is not None:
        query = query.where(LegalHold.organisation_id.in_(list(organisation_ids)))
    if dataset_id is not None:
        query = query.where(LegalHold.dataset_id == dataset_id)
    return list(session.scalars(query))


def holds_in_force(session: Session, today: date,
                   dataset_ids: Collection[int] | None = None) -> dict[int, list[LegalHold]]:
    """dataset id -> its holds in force on `today`."""
    query = select(LegalHold).where(LegalHold.released_at.is_(None),
                                    LegalHold.starts_on <= today)
    if dataset_ids is not None:
        query = query.where(LegalHold.dataset_id.in_(list(dataset_ids)))
    out: dict[int, list[LegalHold]] = {}
    for hold in session.scalars(query.order_by(LegalHold.id)):
        if hold.in_force(today):
            out.setdefault(hold.dataset_id, []).append(hold)
    return out


def holding(holds: Iterable[LegalHold], versions: Iterable[int]) -> list[LegalHold]:
    """The holds among `holds` covering any of `versions` (a dataset hold covers all)."""
    numbers = set(versions)
    return [h for h in holds if h.version_number is None or h.version_number in numbers]


def held_text(holds: list[LegalHold]) -> str:
    return "Gel juridique : " + " ; ".join(describe(h) for h in holds) + "."
