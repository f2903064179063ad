"""Evaluating the whole charter over a large territory, on SQLite and PostgreSQL.

    .venv/bin/python benchmarks/charter.py [--backends sqlite postgresql] [--scale 1.0]

Generates, with bulk inserts (no service per row), 20 organisations and at scale 1:
50,000 inventory entries (5,000 of them open data, 10,000 with a stored version),
5,000 processing activities (1,000 with a DPIA), 600 rights requests, 60 breaches,
10,000 retention rules, 2,000 applications, 1,000 contracts with their 7 clauses each and
400 reversibility tests, 300 partners, 300 algorithms and 100,000 audit events (reads of
datasets, which the sobriety rules read). Then evaluates the built-in library (every rule,
one engagement per area) and prints the time of each part of the snapshot and of each rule,
and whether the whole stays under 10 s. Both wall and CPU time are printed: on a busy
machine the wall time includes waiting for a core. The store is a throw-away one (a
temporary SQLite file; PostgreSQL: the tests' temporary cluster, tests/support/postgres.py).
"""

from __future__ import annotations

import argparse
import os
import random
import sys
import tempfile
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import insert, select

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT / "src"), str(ROOT)]

from patrimoine.access.models import AuditEvent  # noqa: E402
from patrimoine.charter.config import builtin  # noqa: E402
from patrimoine.charter.engine import evaluate  # noqa: E402
from patrimoine.core.db import Database  # noqa: E402
from patrimoine.datastore.models import DatasetVersion  # noqa: E402
from patrimoine.inventory.models import (  # noqa: E402
    AccessLevel,
    Dataset,
    LifecycleStage,
    Organisation,
    OrganisationKind,
    UpdateFrequency,
    YesNoUndefined,
)
from patrimoine.protection.register.models import (  # noqa: E402
    Breach,
    Dpia,
    ProcessingActivity,
    RightsRequest,
)
from patrimoine.protection.register.vocabulary import (  # noqa: E402
    BreachRisk,
    DpiaDecision,
    RequestKind,
    RequestStatus,
)
from patrimoine.retention.models import DatasetRetention  # noqa: E402
from patrimoine.retention.rules import DurationUnit, FinalFate, StartEvent  # noqa: E402
from patrimoine.sovereignty.contracts import DEFAULT_CLAUSES  # noqa: E402
from patrimoine.sovereignty.models import (  # noqa: E402
    Application,
    CharterClause,
    CharterPartner,
    ClauseStatus,
    Contract,
    ContractClause,
    DataLocation,
    HostingMode,
    PartnerKind,
    ReversibilityTest,
    TestResult,
)
from patrimoine.storage import migrate  # noqa: E402
from patrimoine.transparency.models import (  # noqa: E402
    AlgorithmKind,
    AlgorithmStatus,
    Automation,
    PublicAlgorithm,
)

NOW = datetime.now(UTC)
TODAY = NOW.date()
BATCH = 5_000


def bulk(db: Database, table: Any, rows: list[dict[str, Any]]) -> None:
    with db.unit_of_work() as s:
        for start in range(0, len(rows), BATCH):
            s.execute(insert(table), rows[start:start + BATCH])


def generate(db: Database, scale: float) -> dict[str, int]:
    rng = random.Random(17)

    def n(count: int) -> int:
        return max(1, int(count * scale))
    orgs = [{"slug": f"org-{i}", "name": f"Organisation {i}", "kind": OrganisationKind.COMMUNE}
            for i in range(20)]
    bulk(db, Organisation, orgs)
    with db.session() as s:
        org_ids = list(s.scalars(select(Organisation.id).order_by(Organisation.id)))
    n_datasets = n(50_000)
    datasets = []
    for i in range(n_datasets):
        open_data = i % 10 == 0
        datasets.append({
            "slug": f"jeu-{i}", "title": f"Jeu de données {i} {rng.choice(['eau', 'voirie'])}",
            "organisation_id": org_ids[i % len(org_ids)],
            "description": "Description détaillée. " * rng.randint(0, 8),
            "access_level": AccessLevel.OPEN if open_data else AccessLevel.INTERNAL,
            "lifecycle_stage": LifecycleStage.PUBLISHED if open_data else LifecycleStage.STORED,
            "confidentiality": rng.choice(list(YesNoUndefined)),
            "producer": rng.choice([None, "Direction des finances", "Service urbanisme"]),
            "licence": rng.choice([None, "Licence Ouverte 2.0", "ODbL"]),
            "update_frequency": rng.choice(list(UpdateFrequency)),
            "updated_at": NOW - timedelta(days=rng.randint(0, 900))})
    bulk(db, Dataset, datasets)
    with db.session() as s:
        ds_ids = list(s.scalars(select(Dataset.id).order_by(Dataset.id)))
    with_data = ds_ids[::5]
    bulk(db, DatasetVersion, [
        {"dataset_id": d, "number": 1, "content_hash": f"{d % 3000:064x}",
         "path": f"versions/{d}/1.parquet", "row_count": 100, "size_bytes": rng.randint(1, 10**7),
         "columns": [{"name": "a", "type": "VARCHAR"}],
         "created_at": NOW - timedelta(days=rng.randint(0, 900))} for d in with_data])
    bulk(db, DatasetRetention, [
        {"dataset_id": d, "duration": rng.randint(1, 5), "unit": DurationUnit.YEARS,
         "start_event": StartEvent.CREATED, "final_fate": FinalFate.DESTRUCTION}
        for d in ds_ids[::5]])
    n_activities = n(5_000)
    bulk(db, ProcessingActivity, [
        {"organisation_id": org_ids[i % len(org_ids)], "reference": f"T-{i:05}",
         "name": f"Traitement {i}", "special_categories": ["health"] if i % 7 == 0 else [],
         "dpia_criteria": rng.sample(["large_scale", "systematic_monitoring",
                                      "vulnerable_persons"], rng.randint(0, 2)),
         "retention_rules": [] if i % 9 == 0 else [{"duration": 5, "unit": "years"}]}
        for i in range(n_activities)])
    with db.session() as s:
        act_ids = list(s.scalars(select(ProcessingActivity.id)))
    bulk(db, Dpia, [{"activity_id": a, "started_on": TODAY - timedelta(days=100),
                     "decision": DpiaDecision.FAVOURABLE} for a in act_ids[::5]])
    bulk(db, RightsRequest, [
        {"organisation_id": org_ids[i % len(org_ids)], "reference": f"D-{i:05}",
         "kind": RequestKind.ACCESS, "requester": "Personne",
         "received_on": TODAY - timedelta(days=rng.randint(0, 500)),
         "status": rng.choice(list(RequestStatus)),
         "answered_on": TODAY - timedelta(days=rng.randint(0, 400))}
        for i in range(n(600))])
    bulk(db, Breach, [
        {"organisation_id": org_ids[i % len(org_ids)], "reference": f"V-{i:04}",
         "title": "Violation", "aware_at": NOW - timedelta(days=rng.randint(0, 400)),
         "risk": rng.choice(list(BreachRisk)),
         "notified_at": NOW - timedelta(days=rng.randint(0, 300)) if i % 2 else None}
        for i in range(n(60))])
    bulk(db, Application, [
        {"organisation_id": org_ids[i % len(org_ids)], "reference": f"APP-{i:05}",
         "name": f"Application {i}", "hosting_mode": rng.choice(list(HostingMode)),
         "location": rng.choice(list(DataLocation)),
         "sensitivity": rng.choice([None, "public", "interne", "personnel", "sensible"])}
        for i in range(n(2_000))])
    bulk(db, CharterClause, [
        {"organisation_id": o, "code": c.code, "title": c.title, "rank": r,
         "reversibility": c.reversibility}
        for o in org_ids for r, c in enumerate(DEFAULT_CLAUSES)])
    n_contracts = n(1_000)
    bulk(db, Contract, [
        {"organisation_id": org_ids[i % len(org_ids)], "reference": f"C-{i:05}",
         "title": f"Contrat {i}", "supplier_name": "Prestataire", "processor": i % 2 == 0,
         "end_date": TODAY + timedelta(days=rng.randint(-100, 1500))}
        for i in range(n_contracts)])
    with db.session() as s:
        contracts = list(s.execute(select(Contract.id, Contract.organisation_id)))
        clauses = {(o, c): i for i, o, c in s.execute(
            select(CharterClause.id, CharterClause.organisation_id, CharterClause.code))}
    bulk(db, ContractClause, [
        {"contract_id": cid, "clause_id": clauses[(org, c.code)],
         "status": rng.choice(list(ClauseStatus))}
        for cid, org in contracts for c in DEFAULT_CLAUSES])
    bulk(db, ReversibilityTest, [
        {"contract_id": cid, "tested_on": TODAY - timedelta(days=30),
         "result": rng.choice(list(TestResult))} for cid, _ in contracts[::2]])
    bulk(db, CharterPartner, [
        {"organisation_id": org_ids[i % len(org_ids)], "name": f"Partenaire {i}",
         "siren": f"{i:09}", "kind": PartnerKind.COMPANY,
         "signed_on": date(2020, 1, 1) + timedelta(days=rng.randint(0, 2500))}
        for i in range(n(300))])
    bulk(db, PublicAlgorithm, [
        {"organisation_id": org_ids[i % len(org_ids)], "reference": f"ALG-{i:04}",
         "name": f"Algorithme {i}", "contact": "x", "purpose": "x", "legal_basis": "x",
         "automation": Automation.DECISION_SUPPORT, "kind": AlgorithmKind.RULES,
         "status": rng.choice(list(AlgorithmStatus)),
         "documents": {"description": {"url": "https://x.example/d"}}}
        for i in range(n(300))])
    bulk(db, AuditEvent, [
        {"actor_label": "lecteur", "action": "dataset.read",
         "target": f"dataset:jeu-{rng.randrange(n_datasets)}", "prev_hash": f"{i:064x}",
         "hash": f"{i + 1:064x}", "at": NOW - timedelta(days=rng.randint(0, 800))}
        for i in range(n(100_000))])
    return {"datasets": n_datasets, "activities": n_activities,
            "applications": n(2_000), "contracts": n_contracts, "audit events": n(100_000)}


def measure(db: Database) -> float:
    started, cpu = time.perf_counter(), time.process_time()
    with db.session() as s:
        result = evaluate(s, charter=builtin())
    total, cpu = time.perf_counter() - started, time.process_time() - cpu
    print(f"  snapshot: {result.snapshot_seconds:.2f} s")
    for part, seconds in result.timings.items():
        print(f"    {part:<14} {seconds:6.2f} s")
    for r in result.rules:
        c = r.counts
        print(f"  {r.rule.id:<40} {r.seconds:6.3f} s  {len(r.results):>6} items, "
              f"{c['failed']:>6} failed")
    # On a shared machine the wall time includes waiting for a core: the CPU time of this
    # process (Python and SQLite; PostgreSQL's own work runs in its server) is printed too.
    print(f"  total: {total:.2f} s wall, {cpu:.2f} s CPU in this process — "
          f"{'under' if total < 10 else 'OVER'} 10 s; load average {os.getloadavg()[0]:.1f} "
          f"on {os.cpu_count()} cores")
    return total


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--backends", nargs="+", default=["sqlite", "postgresql"],
                        choices=["sqlite", "postgresql"])
    parser.add_argument("--scale", type=float, default=1.0)
    args = parser.parse_args()
    for backend in args.backends:
        with tempfile.TemporaryDirectory(prefix="patrimoine-charter-") as tmp:
            cluster = None
            if backend == "postgresql":
                import subprocess

                from tests.support.postgres import TemporaryCluster
                cluster = TemporaryCluster().start()
                subprocess.run([str(cluster.bindir / "createdb"), "-h", "127.0.0.1", "-p",
                                str(cluster.port), "-U", cluster.user, "charter"], check=True)
                url = cluster.url("charter")
            else:
                url = f"sqlite:///{Path(tmp) / 'charter.sqlite'}"
            try:
                db = Database(url)
                migrate.upgrade(db)
                started = time.perf_counter()
                sizes = generate(db, args.scale)
                print(f"\n{backend}: " + ", ".join(f"{v:,} {k}" for k, v in sizes.items())
                      + f" (generated in {time.perf_counter() - started:.0f} s)")
                measure(db)
                db.dispose()
            finally:
                if cluster is not None:
                    cluster.stop()


if __name__ == "__main__":
    main()
