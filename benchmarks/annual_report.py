"""The annual report on a large territory: how long its figures, its HTML and its PDF take.

    .venv/bin/python benchmarks/annual_report.py [--datasets 50000]

A fresh SQLite store in a temporary folder, filled in bulk (plain inserts, no service rules:
only the registers' rows the report counts): 10 organisations, 50,000 inventory entries (a
third open and published, with three years of daily portal usage on 2,000 of them), 5,000
processing activities with 500 DPIAs, 900 rights requests over three years, 30 breaches, 2,000
applications, 1,000 contracts with their clauses, 60 partners, 20 algorithms, 100 requests for
data of general interest. Prints the time of each chapter's figures, of the HTML and of the PDF
(issue 17 asks for the whole report under 30 s).
"""

from __future__ import annotations

import argparse
import random
import sys
import tempfile
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

from sqlalchemy import insert  # noqa: E402

from patrimoine.bootstrap import bootstrap  # noqa: E402
from patrimoine.core.settings import Settings  # noqa: E402
from patrimoine.inventory.models import Dataset, Organisation  # noqa: E402
from patrimoine.protection.register.models import (  # noqa: E402
    Breach,
    Dpia,
    ProcessingActivity,
    RightsRequest,
)
from patrimoine.report import render, service  # noqa: E402
from patrimoine.report.figures import report_date  # noqa: E402
from patrimoine.sovereignty.models import (  # noqa: E402
    Application,
    CharterClause,
    CharterPartner,
    Contract,
    ContractClause,
)
from patrimoine.storage import migrate  # noqa: E402
from patrimoine.transparency.models import GeneralInterestRequest, PublicAlgorithm  # noqa: E402
from patrimoine.usage.models import DatasetDailyUsage  # noqa: E402

ORGANISATIONS = 10
# Titles drawn from a vocabulary of 3,000 made-up words, a few words each, as an inventory's
# are (sobriety compares titles through their rarest words: titles all made of the same few
# words would make that comparison quadratic, which real inventories are not).
SYLLABLES = ("ba", "co", "di", "fe", "gu", "la", "mo", "ni", "pe", "ri", "so", "tu", "va",
             "zé", "cha", "pro", "tri", "ver")
WORDS = tuple(a + b + c for a in SYLLABLES for b in SYLLABLES for c in SYLLABLES)[:3000]


def _moment(rng: random.Random, year: int) -> datetime:
    return datetime(year, 1, 1, tzinfo=UTC) + timedelta(days=rng.randrange(0, 360))


def fill(session: Any, n_datasets: int, year: int) -> None:
    rng = random.Random(17)
    session.execute(insert(Organisation), [
        {"id": i, "slug": f"org-{i}", "name": f"Organisation {i}", "kind": "commune"}
        for i in range(1, ORGANISATIONS + 1)])
    orgs = range(1, ORGANISATIONS + 1)
    rows = []
    for i in range(1, n_datasets + 1):
        public = i % 3 == 0
        title = " ".join(rng.sample(WORDS, rng.randrange(3, 6))) + f" {year - i % 12}"
        rows.append({"id": i, "slug": f"jeu-{i}", "title": title,
                     "organisation_id": rng.choice(orgs), "search_text": "",
                     "access_level": "open" if public else "internal",
                     "lifecycle_stage": "published" if public else "stored",
                     "licence": "etalab-2.0" if public else None,
                     "description": "Données " * (5 + i % 30),
                     "created_at": _moment(rng, rng.choice((year - 2, year - 1, year)))})
    session.execute(insert(Dataset), rows)
    used = [i for i in range(3, n_datasets + 1, 3)][:2000]
    usage = []
    start = date(year - 2, 1, 1)
    for dataset_id in used:
        for day in rng.sample(range(1000), 60):
            usage.append({"dataset_id": dataset_id, "day": start + timedelta(days=day),
                          "views": rng.randrange(1, 40), "downloads": rng.randrange(0, 10)})
    session.execute(insert(DatasetDailyUsage), usage)
    session.execute(insert(ProcessingActivity), [
        {"id": i, "organisation_id": rng.choice(orgs), "reference": f"T-{i:05d}",
         "name": f"Traitement {i}", "status": rng.choice(("active", "active", "draft", "ended")),
         "created_at": _moment(rng, rng.choice((year - 2, year - 1, year)))}
        for i in range(1, 5001)])
    session.execute(insert(Dpia), [
        {"activity_id": rng.randrange(1, 5001), "decision": "favourable",
         "started_on": date(rng.choice((year - 2, year - 1, year)), 1 + i % 12, 1)}
        for i in range(500)])
    session.execute(insert(RightsRequest), [
        {"organisation_id": rng.choice(orgs), "reference": f"DDP-{i:04d}", "kind": "access",
         "requester": f"Personne {i}", "status": "answered",
         "received_on": date(year - 2 + i % 3, 1 + i % 12, 1 + i % 28)}
        for i in range(900)])
    session.execute(insert(Breach), [
        {"organisation_id": rng.choice(orgs), "reference": f"VIO-{i:03d}",
         "title": f"Violation {i}", "aware_at": _moment(rng, year - i % 3),
         "notified_at": _moment(rng, year - i % 3) if i % 2 else None}
        for i in range(30)])
    session.execute(insert(Application), [
        {"organisation_id": rng.choice(orgs), "reference": f"APP-{i:04d}",
         "name": f"Application {i}", "status": "in_service",
         "hosting_mode": rng.choice(("own",) * 8 + ("private_host", "saas")),
         "location": rng.choice(("france",) * 8 + ("eu", "third_country"))}
        for i in range(2000)])
    session.execute(insert(CharterClause), [
        {"organisation_id": o, "code": f"c{k}", "title": f"Clause {k}", "rank": k}
        for o in orgs for k in range(7)])
    session.execute(insert(Contract), [
        {"id": i, "organisation_id": rng.choice(orgs), "reference": f"M-{i:04d}",
         "title": f"Marché {i}", "kind": "public_contract", "supplier_name": f"Prestataire {i}",
         "start_date": date(year - 3, 1, 1), "end_date": date(year + 2, 1, 1)}
        for i in range(1, 1001)])
    clause_ids = {o: [(o - 1) * 7 + k + 1 for k in range(7)] for o in orgs}
    organisation_of = {cid: oid for cid, oid in session.execute(
        Contract.__table__.select().with_only_columns(Contract.id, Contract.organisation_id))}
    session.execute(insert(ContractClause), [
        {"contract_id": cid, "clause_id": clause, "status": rng.choice(("present",) * 5 + (
            "absent",))}
        for cid, oid in organisation_of.items() for clause in clause_ids[oid]])
    session.execute(insert(CharterPartner), [
        {"organisation_id": rng.choice(orgs), "name": f"Partenaire {i}",
         "siren": f"{100000000 + i}", "kind": "company",
         "signed_on": date(year - 2 + i % 3, 3, 1)} for i in range(60)])
    session.execute(insert(PublicAlgorithm), [
        {"organisation_id": rng.choice(orgs), "reference": f"ALG-{i:03d}",
         "name": f"Algorithme {i}", "contact": "x", "purpose": "x", "legal_basis": "x",
         "automation": "fully_automated", "kind": "rules", "status": "published",
         "published_on": date(year - i % 3, 2, 1)} for i in range(20)])
    session.execute(insert(GeneralInterestRequest), [
        {"organisation_id": rng.choice(orgs), "reference": f"DIG-{i:03d}",
         "holder": f"Détenteur {i}", "holder_kind": "company", "data_asked": "x",
         "basis": "voluntary", "state": "asked", "asked_on": date(year - i % 3, 4, 1)}
        for i in range(100)])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--datasets", type=int, default=50_000)
    args = parser.parse_args()
    year = date.today().year
    with tempfile.TemporaryDirectory(prefix="patrimoine-bench-") as tmp:
        settings = Settings(data_dir=Path(tmp) / "data", secret_key="bench")
        svc = bootstrap(settings, check_schema=False)
        migrate.upgrade(svc.db)
        try:
            started = time.perf_counter()
            with svc.db.unit_of_work() as s:
                fill(s, args.datasets, year)
            print(f"territoire rempli en {time.perf_counter() - started:.1f} s", flush=True)
            with svc.db.session() as s:
                begin = time.perf_counter()
                last = [begin]

                def done(chapter: str) -> None:
                    now = time.perf_counter()
                    print(f"  chiffres {chapter:<13} {now - last[0]:6.2f} s", flush=True)
                    last[0] = now
                view = service.live_view(s, settings, year, None, progress=done)
                html_start = time.perf_counter()
                html = render.document_html(view)
                print(f"  HTML                   {time.perf_counter() - html_start:6.2f} s"
                      f" ({len(html) // 1024} ko)")
                pdf_start = time.perf_counter()
                data = render.pdf(view)
                print(f"  PDF                    {time.perf_counter() - pdf_start:6.2f} s"
                      f" ({len(data) // 1024} ko)")
                print(f"rapport {year} au {report_date(year)} : "
                      f"{time.perf_counter() - begin:.1f} s en tout")
        finally:
            svc.db.dispose()


if __name__ == "__main__":
    main()
