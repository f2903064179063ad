"""The read-only snapshot the charter's rules judge: every register of the instance (or of
some organisations) read in a bounded number of queries, whatever the number of items.

`load()` reads each capability through its `queries` module (one query per table, a few more
for the quality scores of open datasets and per 5,000 datasets for reads), so 50,000
inventory entries cost the same dozen queries as fifty. The records are frozen dataclasses;
the rules never touch the database. Tests build a `Snapshot` directly with the records they
need.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from time import perf_counter

from sqlalchemy.orm import Session

from patrimoine.access import audit
from patrimoine.charter import quality
from patrimoine.charter.sobriety import READ_ACTIONS
from patrimoine.core.clock import now
from patrimoine.datastore import queries as stored
from patrimoine.inventory import queries as inventory
from patrimoine.protection import queries as protection
from patrimoine.retention import queries as retention
from patrimoine.sovereignty import queries as sovereignty
from patrimoine.transparency import queries as transparency
from patrimoine.usage import queries as usage

CHUNK = 5_000  # ids per query when a list of ids must be sent (SQLite's parameter limit)


@dataclass(frozen=True)
class Snapshot:
    at: datetime
    organisations: Sequence[inventory.OrganisationFacts] = ()
    datasets: Sequence[inventory.DatasetFacts] = ()
    # Quality scores of open datasets (dataset id -> score), their criteria give the reasons.
    quality: Mapping[int, quality.Score] = field(default_factory=dict)
    activities: Sequence[protection.ActivityFacts] = ()
    requests: Sequence[protection.RequestFacts] = ()
    breaches: Sequence[protection.BreachFacts] = ()
    dataset_rules: Mapping[int, retention.DatasetRuleFacts] = field(default_factory=dict)
    slip_items: Sequence[retention.SlipItemFacts] = ()
    versions: Sequence[stored.StoredVersion] = ()
    last_read: Mapping[int, date] = field(default_factory=dict)  # dataset id -> last read day
    applications: Sequence[sovereignty.ApplicationFacts] = ()
    levels: Mapping[int, Mapping[str, sovereignty.LevelFacts]] = field(default_factory=dict)
    clauses: Mapping[int, Sequence[sovereignty.ClauseFacts]] = field(default_factory=dict)
    contracts: Sequence[sovereignty.ContractFacts] = ()
    partners: Sequence[sovereignty.PartnerFacts] = ()
    algorithms: Sequence[transparency.AlgorithmFacts] = ()
    # How long each part took to read (seconds), for the benchmark.
    timings: Mapping[str, float] = field(default_factory=dict, compare=False)

    @property
    def today(self) -> date:
        return self.at.date()

    @property
    def organisation_slugs(self) -> dict[int, str]:
        return {o.id: o.slug for o in self.organisations}


def _chunks(ids: Sequence[int]) -> list[Sequence[int]]:
    return [ids[i:i + CHUNK] for i in range(0, len(ids), CHUNK)]


def load(session: Session, organisation_ids: Collection[int] | None = None,
         at: datetime | None = None) -> Snapshot:
    """Everything the rules read, of `organisation_ids` (every organisation when None)."""
    at = at or now()
    timings: dict[str, float] = {}
    started = perf_counter()

    def lap(name: str) -> None:
        nonlocal started
        timings[name] = perf_counter() - started
        started = perf_counter()

    orgs = inventory.organisation_facts(session, organisation_ids)
    org_ids = [o.id for o in orgs]
    wanted = None if organisation_ids is None else org_ids
    datasets = inventory.dataset_facts(session, organisation_ids=wanted)
    lap("inventaire")
    open_sets = [d for d in datasets if d.is_open]
    scores: dict[int, quality.Score] = {}
    for start in range(0, len(open_sets), 500):
        scores.update(quality.quality_scores(session, open_sets[start:start + 500]))
    lap("qualité")
    activities = protection.activity_facts(session, wanted)
    requests = protection.request_facts(session, wanted)
    breaches = protection.breach_facts(session, wanted)
    lap("protection")
    ids = [d.id for d in datasets]
    rules = retention.dataset_rule_facts(session, None if wanted is None else ids)
    wanted_ids = set(ids)
    slip_items = [s for s in retention.slip_item_facts(session) if s.dataset_id in wanted_ids]
    lap("conservation")
    versions = [v for chunk in _chunks(ids) for v in stored.stored_versions(session, chunk)]
    with_data = sorted({v.dataset_id for v in versions})
    last: dict[int, date] = {}
    for chunk in _chunks(with_data):
        last.update(usage.last_read(session, chunk))
    targets: dict[str, int] = {}
    by_id = {d.id: d for d in datasets}
    for dataset_id in with_data:
        targets[f"dataset:{by_id[dataset_id].slug}"] = dataset_id
        targets[f"dataset:{by_id[dataset_id].uid}"] = dataset_id
    names = list(targets)
    for start in range(0, len(names), CHUNK):
        for target, when in audit.last_at(session, READ_ACTIONS,
                                          names[start:start + CHUNK]).items():
            dataset_id = targets[target]
            last[dataset_id] = max(last.get(dataset_id, when.date()), when.date())
    lap("sobriété")
    applications = sovereignty.application_facts(session, wanted)
    levels = sovereignty.level_facts(session, org_ids)
    clauses = sovereignty.clause_facts(session, org_ids)
    contracts = sovereignty.contract_facts(session, wanted)
    partners = sovereignty.partner_facts(session, wanted)
    lap("souveraineté")
    algorithms = transparency.algorithm_facts(session, wanted)
    lap("transparence")
    return Snapshot(at=at, organisations=orgs, datasets=datasets, quality=scores,
                    activities=activities, requests=requests, breaches=breaches,
                    dataset_rules=rules, slip_items=slip_items, versions=versions,
                    last_read=last, applications=applications, levels=levels, clauses=clauses,
                    contracts=contracts, partners=partners, algorithms=algorithms,
                    timings=timings)
