"""Read-only figures of retention for the tiers above (the charter): what the archives
packages of each organisation weigh; the datasets' own rules and the datasets listed on
elimination slips (`dataset_rule_facts`, `slip_item_facts`)."""

from __future__ import annotations

from collections.abc import Collection, Iterable
from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from patrimoine.core.settings import Settings
from patrimoine.retention.apply import archives_root
from patrimoine.retention.models import DatasetRetention, EliminationSlip, EliminationSlipItem
from patrimoine.retention.rules import DurationUnit, FinalFate, StartEvent


def archives_bytes(settings: Settings, organisation_slugs: Iterable[str]) -> dict[str, int]:
    """Bytes of the archives packages written for each organisation (by slug; 0 for none)."""
    root = archives_root(settings)
    out = {}
    for slug in organisation_slugs:
        folder = root / slug
        out[slug] = sum(p.stat().st_size for p in folder.rglob("*") if p.is_file()) \
            if folder.is_dir() else 0
    return out


@dataclass(frozen=True)
class DatasetRuleFacts:
    """A dataset's own retention rule, read-only."""

    dataset_id: int
    duration: int
    unit: DurationUnit
    start_event: StartEvent
    final_fate: FinalFate
    event_date: date | None
    transferred_at: datetime | None


@dataclass(frozen=True)
class SlipItemFacts:
    """A dataset listed on an elimination slip: the slip's status, whether it was done."""

    dataset_id: int
    slip_reference: str
    status: str  # SlipStatus value
    executed: bool


def dataset_rule_facts(session: Session, dataset_ids: Collection[int] | None = None
                       ) -> dict[int, DatasetRuleFacts]:
    """The datasets' own rules (dataset id -> rule), one query (every rule when None)."""
    r = DatasetRetention
    query = select(r.dataset_id, r.duration, r.unit, r.start_event, r.final_fate, r.event_date,
                   r.transferred_at)
    if dataset_ids is not None:
        query = query.where(r.dataset_id.in_(list(dataset_ids)))
    return {row.dataset_id: DatasetRuleFacts(*row) for row in session.execute(query)}


def slip_item_facts(session: Session) -> list[SlipItemFacts]:
    """Every dataset item of the elimination slips, one query."""
    i, s = EliminationSlipItem, EliminationSlip
    return [SlipItemFacts(row.dataset_id, row.reference, str(row.status),
                          row.executed_at is not None)
            for row in session.execute(
        select(i.dataset_id, s.reference, s.status, i.executed_at)
        .join(s, s.id == i.slip_id).where(i.dataset_id.is_not(None)))]
