"""Several server processes on one database and one data folder (`patrimoine serve
--workers N`, or N servers behind a reverse proxy): real processes race on the audit chain,
version numbering, usage counters and layout builds, and each stays correct."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import urllib.request
from pathlib import Path

from sqlalchemy import select

from patrimoine.access import audit
from patrimoine.access.models import AuditEvent
from patrimoine.bootstrap import Services
from patrimoine.datastore import engine
from patrimoine.datastore.models import DatasetVersion
from patrimoine.usage.models import DatasetDailyUsage
from tests import factories as f
from tests.support import server

ROOT = Path(__file__).resolve().parents[2]
CONTENDERS = 3


def _race(env: dict[str, str], tmp_path: Path, task: str, n: int,
          ident: int | None = None) -> None:
    go = tmp_path / f"go-{task}"
    args = [sys.executable, "-m", "tests.support.contender", task, str(go), str(n)]
    if ident is not None:
        args.append(str(ident))
    full_env = {**os.environ, **env,
                "PYTHONPATH": os.pathsep.join([str(ROOT / "src"), str(ROOT)])}
    procs = [subprocess.Popen(args, cwd=ROOT, env=full_env, stderr=subprocess.PIPE, text=True)
             for _ in range(CONTENDERS)]
    go.touch()  # all start together
    for proc in procs:
        _out, err = proc.communicate(timeout=300)
        assert proc.returncode == 0, err[-3000:]


def test_the_audit_chain_stays_one_chain(services: Services, cli_env: dict[str, str],
                                         tmp_path: Path) -> None:
    _race(cli_env, tmp_path, "audit", 25)
    with services.db.session() as s:
        report = audit.verify(s)
        hashes = s.scalars(select(AuditEvent.prev_hash)).all()
    assert report.ok and report.checked == CONTENDERS * 25, report
    assert len(set(hashes)) == len(hashes)  # no two entries after the same one


def test_versions_are_numbered_without_gaps_or_twins(services: Services,
                                                     cli_env: dict[str, str],
                                                     tmp_path: Path) -> None:
    with services.db.unit_of_work() as s:
        dataset_id = f.dataset(s, f.organisation(s)).id
    _race(cli_env, tmp_path, "versions", 6, dataset_id)
    with services.db.session() as s:
        numbers = sorted(s.scalars(select(DatasetVersion.number)
                                   .where(DatasetVersion.dataset_id == dataset_id)))
    assert numbers == list(range(1, CONTENDERS * 6 + 1))


def test_usage_counters_flushed_by_several_processes_add_up(services: Services,
                                                            cli_env: dict[str, str],
                                                            tmp_path: Path) -> None:
    with services.db.unit_of_work() as s:
        dataset_id = f.dataset(s, f.organisation(s)).id
    _race(cli_env, tmp_path, "usage", 200, dataset_id)
    with services.db.session() as s:
        views = s.scalars(select(DatasetDailyUsage.views)).all()
    assert views == [CONTENDERS * 200]


def test_one_layout_built_by_several_processes_at_once(services: Services,
                                                       cli_env: dict[str, str],
                                                       tmp_path: Path) -> None:
    settings = services.settings
    with services.db.unit_of_work() as s:
        version = f.parquet_version(settings, s, f.dataset(s, f.organisation(s)),
                                    f.generated_sql(30_000))
    _race(cli_env, tmp_path, "layout", 1, version.id)
    cache = settings.data_dir / engine.CACHE_DIR
    assert [p.name for p in cache.iterdir() if p.name.endswith(".tmp")] == []
    table = engine.open_version(settings, version)
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
