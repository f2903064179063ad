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
from patrimoine.retention.models import (
    DatasetRetention,
    EliminationSlip,
    EliminationSlipItem,
    SlipStatus,
)
from patrimoine.retention.rules import EVENT_DATED, DurationUnit, FinalFate, StartEvent, add_period


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

    @property
    def row_level(self) -> bool:
        """Counted row by row from a date column of the data (the retention plan's work)."""
        return self.start_event == StartEvent.DATE_COLUMN

    @property
    def awaits_event(self) -> bool:
        """Counted from a dated event whose date is not known yet."""
        return self.start_event in EVENT_DATED and self.event_date is None

    @property
    def archived(self) -> bool:
        """Its data went to the archives, as its final fate says."""
        return self.final_fate == FinalFate.ARCHIVES and self.transferred_at is not None

    def due_on(self, first_stored: date, newest_stored: date) -> date:
        """When the retention runs out: from the dated event, from the newest version
        (`updated`), else from the first version's creation. Not for row-level rules."""
        if self.start_event in EVENT_DATED and self.event_date is not None:
            start = self.event_date
        elif self.start_event == StartEvent.UPDATED:
            start = newest_stored
        else:
            start = first_stored
        return add_period(start, self.duration, self.unit)


@dataclass(frozen=True)
class SlipItemFacts:
    """A dataset listed on an elimination slip: the slip, and whether its elimination is
    still to come (awaiting the visa, or visaed and not executed)."""

    dataset_id: int
    slip_reference: str
    pending: bool


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
    return [SlipItemFacts(row.dataset_id, row.reference,
                          row.status in (SlipStatus.AWAITING_VISA, SlipStatus.APPROVED)
                          and row.executed_at is None)
            for row in session.execute(
        select(i.dataset_id, s.reference, s.status, i.executed_at)
        .join(s, s.id == i.slip_id).where(i.dataset_id.is_not(None)))]
