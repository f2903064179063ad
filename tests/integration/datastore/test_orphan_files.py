"""A version file moved into place but never recorded (the process killed between the move
and the commit) is removed at start-up, never a recorded one nor one another process is
adding right now (datastore/versions.remove_orphan_files)."""

from __future__ import annotations

import os
import shutil
import threading
import time
from pathlib import Path
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import event

from patrimoine.bootstrap import Services
from patrimoine.datastore import versions
from patrimoine.datastore.ingest import ingest
from patrimoine.inventory.models import Dataset
from patrimoine.web.app import create_app
from tests import factories as f
from tests.factories import SYSTEM

LOCK = ("DELETE FROM dataset_version WHERE 0", "pg_advisory_xact_lock")


def _first(services: Services, tmp_path: Path) -> tuple[Dataset, Path]:
    entry = f.new_dataset(services)
    version = f.load(services, entry, f.write(tmp_path, "v1.csv", "a;b\n1;2\n3;4\n"))
    return entry, versions.version_path(services.settings, version)


def _orphan(services: Services, entry: Dataset, recorded: Path) -> Path:
    """The state a kill between os.replace and the commit leaves: a content-addressed file
    in the dataset's folder that no version names."""
    orphan = versions.dataset_folder(services.settings, entry) / ("ab" * 32 + ".parquet")
    shutil.copyfile(recorded, orphan)
    return orphan


def test_an_unrecorded_file_goes_at_start_up_and_recorded_ones_stay(
        services: Services, tmp_path: Path) -> None:
    entry, recorded = _first(services, tmp_path)
    orphan = _orphan(services, entry, recorded)
    with TestClient(create_app(services=services)):
        pass
    assert not orphan.exists() and recorded.exists()
    assert versions.remove_orphan_files(services.db.engine, services.settings) == []


def test_a_file_another_process_is_adding_right_now_is_kept(
        services: Services, tmp_path: Path) -> None:
    entry, recorded = _first(services, tmp_path)
    engine = services.db.engine
    waiting, locking = threading.Event(), threading.Event()
    removed: list[list[str]] = []

    def on_execute(_conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        if threading.current_thread().name == "sweeper" and any(k in statement for k in LOCK):
            locking.set()  # about to wait for the writer's lock
            waiting.set()

    event.listen(engine, "before_cursor_execute", on_execute)
    try:
        with services.db.unit_of_work() as s:
            current = s.get(Dataset, entry.id)
            assert current is not None
            added = ingest(s, services.settings, SYSTEM, current,
                           f.write(tmp_path, "v2.csv", "a;b\n5;6\n"))
            placed = versions.version_path(services.settings, added)
            assert placed.exists()  # moved into place, not committed yet
            def sweep() -> None:
                try:
                    removed.append(versions.remove_orphan_files(engine, services.settings))
                finally:
                    waiting.set()

            sweeper = threading.Thread(name="sweeper", target=sweep)
            sweeper.start()
            waiting.wait()
        sweeper.join()
    finally:
        event.remove(engine, "before_cursor_execute", on_execute)
    assert locking.is_set()  # it saw the new file unrecorded, then waited for the writer
    assert removed == [[]]
    assert placed.exists() and recorded.exists()


def test_a_folder_without_a_committed_dataset_keeps_its_recent_files(
        services: Services, tmp_path: Path) -> None:
    entry, recorded = _first(services, tmp_path)
    folder = services.settings.data_dir / versions.VERSIONS_DIR / "cree-a-l-instant"
    folder.mkdir()
    recent, old = folder / ("cd" * 32 + ".parquet"), folder / ("ef" * 32 + ".parquet")
    for path in (recent, old):
        shutil.copyfile(recorded, path)
    two_days_ago = time.time() - 2 * versions.STALE_SECONDS
    os.utime(old, (two_days_ago, two_days_ago))
    removed = versions.remove_orphan_files(services.db.engine, services.settings)
    assert removed == [f"{versions.VERSIONS_DIR}/cree-a-l-instant/{old.name}"]
    assert recent.exists() and recorded.exists()


def test_derived_files_of_a_content_no_version_has_go_once_a_day_old(
        services: Services, tmp_path: Path) -> None:
    """A layout or row store left by a process killed between a destruction's commit and its
    clean-up; one being built for a version not yet committed is younger than a day."""
    entry, recorded = _first(services, tmp_path)
    cache = services.settings.data_dir / versions.CACHE_ROOT / "duckdb"
    cache.mkdir(parents=True)
    gone_hash, young_hash = "cd" * 32, "ef" * 32
    left = [cache / f"{gone_hash}-v5.rows.json", cache / f".{gone_hash}.lock"]
    young = cache / f"{young_hash}-v5.rows.json"
    kept = cache / f"{recorded.stem}-v5.rows.json"
    for path in (*left, young, kept):
        path.write_text('{"nom": "Quarantotto"}')
    day_old = time.time() - versions.STALE_SECONDS - 60
    for path in (*left, kept):
        os.utime(path, (day_old, day_old))
    assert versions.derived_files(services.settings.data_dir, gone_hash) == sorted(left)
    removed = versions.remove_orphan_files(services.db.engine, services.settings)
    assert sorted(removed) == sorted(p.relative_to(services.settings.data_dir).as_posix()
                                     for p in left)
    assert young.exists() and kept.exists()
