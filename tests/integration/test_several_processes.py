"""Several server processes on one database and one data folder (`patrimoine serve
--workers N`, or N servers behind a reverse proxy): real processes race on the audit chain,
version numbering, usage counters and layout builds, and each stays correct."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select

from patrimoine.access import audit
from patrimoine.access.models import AuditEvent
from patrimoine.bootstrap import Services, bootstrap
from patrimoine.core.settings import Settings
from patrimoine.datastore import engine
from patrimoine.datastore.models import DatasetVersion
from patrimoine.usage.models import DatasetDailyUsage
from tests import factories as f
from tests.support import server

pytestmark = pytest.mark.heavy

ROOT = Path(__file__).resolve().parents[2]
CONTENDERS = 3


@dataclass
class Race:
    """One store that CONTENDERS processes raced on, task after task (starting each task
    together): each process's start-up is paid once for the four races."""
    services: Services
    usage_dataset: int
    versions_dataset: int
    version: DatasetVersion


@pytest.fixture(scope="module")
def race(_templates: Any, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Race]:
    tmp = tmp_path_factory.mktemp("race")
    settings = Settings(data_dir=tmp / "data", database_url=_templates.new_url(tmp),
                        secret_key="test-secret-key", warm_layouts=False)
    services = bootstrap(settings, check_schema=False)
    with services.db.unit_of_work() as s:
        org = f.organisation(s)
        usage_dataset = f.dataset(s, org, "Compté").id
        versions_dataset = f.dataset(s, org, "Versionné").id
        version = f.parquet_version(settings, s, f.dataset(s, org, "Disposé"),
                                    f.generated_sql(30_000))
    barrier = tmp / "barrier"
    barrier.mkdir()
    tasks = ["audit:25", f"versions:6:{versions_dataset}", f"usage:200:{usage_dataset}",
             f"layout:1:{version.id}"]
    env = {**os.environ, "PATRIMOINE_DATA_DIR": str(settings.data_dir),
           "PATRIMOINE_DATABASE_URL": settings.resolved_database_url,
           "PATRIMOINE_SECRET_KEY": "test-secret-key",
           "PYTHONPATH": os.pathsep.join([str(ROOT / "src"), str(ROOT)])}
    args = [sys.executable, "-m", "tests.support.contender", str(barrier), str(CONTENDERS),
            *tasks]
    procs = [subprocess.Popen(args, cwd=ROOT, env=env, stderr=subprocess.PIPE, text=True)
             for _ in range(CONTENDERS)]
    for proc in procs:
        _out, err = proc.communicate(timeout=600)
        assert proc.returncode == 0, err[-3000:]
    yield Race(services, usage_dataset, versions_dataset, version)
    services.db.dispose()


def test_the_audit_chain_stays_one_chain(race: Race) -> None:
    with race.services.db.session() as s:
        report = audit.verify(s)
        hashes = s.scalars(select(AuditEvent.prev_hash)).all()
        raced = s.scalar(select(func.count()).select_from(AuditEvent)
                         .where(AuditEvent.action == "test.race"))
    assert report.ok and raced == CONTENDERS * 25, report
    assert len(set(hashes)) == len(hashes)  # no two entries after the same one


def test_versions_are_numbered_without_gaps_or_twins(race: Race) -> None:
    with race.services.db.session() as s:
        numbers = sorted(s.scalars(select(DatasetVersion.number)
                                   .where(DatasetVersion.dataset_id == race.versions_dataset)))
    assert numbers == list(range(1, CONTENDERS * 6 + 1))


def test_usage_counters_flushed_by_several_processes_add_up(race: Race) -> None:
    with race.services.db.session() as s:
        views = s.scalars(select(DatasetDailyUsage.views)
                          .where(DatasetDailyUsage.dataset_id == race.usage_dataset)).all()
    assert views == [CONTENDERS * 200]


def test_one_layout_built_by_several_processes_at_once(race: Race) -> None:
    settings = race.services.settings
    cache = settings.data_dir / engine.CACHE_DIR
    assert [p.name for p in cache.iterdir() if p.name.endswith(".tmp")] == []
    table = engine.open_version(settings, race.version)
    assert table.fetch("SELECT count(*), min(_row), max(_row) FROM records") == [
        (30_000, 1, 30_000)]
    rows = table.whole_rows
    assert rows is not None and b'"_row":30000' in rows.json([30_000])


def test_serve_with_workers_shares_one_store(services: Services, cli_env: dict[str, str],
                                             tmp_path: Path) -> None:
    world = f.portal_world(services, tmp_path)
    port = server.free_port()
    log = tmp_path / "serve.log"
    with log.open("wb") as out:
        process = subprocess.Popen(
            [str(server.PATRIMOINE), "serve", "--port", str(port), "--workers", "2"],
            env={**os.environ, **cli_env}, stdout=out, stderr=subprocess.STDOUT)
    running = server.Server(f"http://127.0.0.1:{port}", process, log)
    try:
        server._wait_until_up(running)
        for _ in range(20):
            request = urllib.request.Request(
                f"{running.url}/datasets/{world.counters.slug}",
                headers={"User-Agent": "Mozilla/5.0 Firefox/128.0"})
            with urllib.request.urlopen(request, timeout=30) as answer:
                assert answer.status == 200
    finally:
        process.send_signal(signal.SIGINT)  # each worker writes its counts as it stops
        process.wait(timeout=60)
    assert "2 processus" in log.read_text()
    with services.db.session() as s:
        views = s.scalars(select(DatasetDailyUsage.views)).all()
    assert sum(views) == 20, log.read_text()[-3000:]
