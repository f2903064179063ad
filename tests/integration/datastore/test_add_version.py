"""Adding a version (datastore.versions.add_version), as ingest, anonymisation and the
retention purge all do: identical content, an existing file, failures after the move,
concurrent writers."""

from __future__ import annotations

import os
import threading
import time
from pathlib import Path
from typing import Any

import duckdb
import pytest
from sqlalchemy import event, func, select, text

from patrimoine.bootstrap import Services
from patrimoine.core.errors import Invalid
from patrimoine.datastore import versions
from patrimoine.datastore.ingest import writer
from patrimoine.datastore.models import DatasetVersion
from patrimoine.inventory.models import Dataset, DatasetChange
from patrimoine.protection.findings import anonymise as anon
from patrimoine.protection.findings import service as findings
from patrimoine.retention.apply import purge_rows
from tests.factories import SYSTEM, load, retention_world, subscribers_csv, write

BACKEND = os.environ.get("PATRIMOINE_TEST_DB", "sqlite")
A = subscribers_csv(range(2015, 2020))
B = subscribers_csv(range(2015, 2025))
DROP_EMAIL = [anon.Operation("drop", "email")]


def _folder(services: Services, dataset: Dataset) -> Path:
    return versions.dataset_folder(services.settings, dataset)


def _hidden(services: Services, dataset: Dataset) -> list[str]:
    """Temporary files and work folders left in the dataset's folder (and its originals)."""
    folder = _folder(services, dataset)
    return [p.name for p in (*folder.iterdir(), *folder.glob(f"{versions.ORIGINALS_DIR}/*"))
            if p.name.startswith(".")]


def _files(services: Services, dataset: Dataset) -> list[str]:
    """The version files, and the originals kept (one per distinct file loaded)."""
    folder = _folder(services, dataset)
    return sorted([p.name for p in folder.iterdir() if p.is_file()]
                  + [f"{versions.ORIGINALS_DIR}/{p.name}"
                     for p in folder.glob(f"{versions.ORIGINALS_DIR}/*")])


def _numbers(services: Services, dataset: Dataset) -> list[int]:
    with services.db.session() as s:
        return list(s.scalars(select(DatasetVersion.number).where(
            DatasetVersion.dataset_id == dataset.id).order_by(DatasetVersion.number)))


def _history(services: Services, dataset: Dataset) -> int:
    with services.db.session() as s:
        return s.scalar(select(func.count()).select_from(DatasetChange).where(
            DatasetChange.dataset_id == dataset.id)) or 0


def _anonymise(services: Services, dataset: Dataset, number: int) -> DatasetVersion:
    with services.db.unit_of_work() as s:
        entry = s.get(Dataset, dataset.id)
        assert entry is not None
        source = versions.get_version(s, entry, number)
        version = anon.anonymise(s, services.settings, SYSTEM, entry, source, DROP_EMAIL)
        s.flush()
        s.expunge(version)
        return version


def _purge(services: Services, dataset: Dataset, asof: str) -> dict[str, Any]:
    """Purge the latest version's rows ended more than 5 years before `asof`."""
    purge = {"column": "date_fin_abonnement", "asof": asof, "duration": 5, "unit": "years"}
    with services.db.unit_of_work() as s:
        entry = s.get(Dataset, dataset.id)
        assert entry is not None
        return purge_rows(s, services.settings, SYSTEM, entry, {"purge": purge, "versions": []})


def _identity(path: Path) -> tuple[int, int]:
    stat = path.stat()
    return stat.st_ino, stat.st_mtime_ns


def _path(services: Services, version: DatasetVersion) -> Path:
    return versions.version_path(services.settings, version)


# --- the three callers agree -----------------------------------------------------------------


def test_content_identical_to_the_latest_version_adds_nothing_whoever_adds_it(
        services: Services, tmp_path: Path) -> None:
    w = retention_world(services)
    v1 = load(services, w.dataset, write(tmp_path, "a.csv", A))
    history = _history(services, w.dataset)

    again = load(services, w.dataset, write(tmp_path, "copie.csv", A))  # ingest
    assert again.unchanged and again.number == 1
    assert _numbers(services, w.dataset) == [1] and _history(services, w.dataset) == history

    v2 = _anonymise(services, w.dataset, 1)  # anonymisation
    history = _history(services, w.dataset)
    with pytest.raises(Invalid, match="donne exactement la version 2, déjà enregistrée"):
        _anonymise(services, w.dataset, 1)
    assert _numbers(services, w.dataset) == [1, 2] and _history(services, w.dataset) == history

    # retention purge: nothing ended five years before 2016
    assert _purge(services, w.dataset, "2016-01-01") == {
        "new_version": None, "removed_rows": 0, "destroyed": []}
    assert _numbers(services, w.dataset) == [1, 2] and _history(services, w.dataset) == history
    assert _hidden(services, w.dataset) == []
    # The copy loaded again left no second original; the anonymised version has none.
    assert v1.source_path is not None
    assert _files(services, w.dataset) == sorted(
        {f"{v.content_hash}.parquet" for v in (v1, v2)}
        | {v1.source_path.removeprefix(f"versions/{w.dataset.uid}/")})


def test_an_existing_file_of_the_same_content_is_reused_never_overwritten(
        services: Services, tmp_path: Path) -> None:
    w = retention_world(services)
    v1 = load(services, w.dataset, write(tmp_path, "a.csv", A))
    v2 = load(services, w.dataset, write(tmp_path, "b.csv", B))
    first, second = _identity(_path(services, v1)), _identity(_path(services, v2))

    v3 = load(services, w.dataset, write(tmp_path, "a-encore.csv", A))  # ingest
    assert (v3.number, v3.path) == (3, v1.path) and not v3.unchanged
    assert _identity(_path(services, v3)) == first

    v4 = _anonymise(services, w.dataset, 1)  # anonymisation: a new file
    anonymised = _identity(_path(services, v4))
    v5 = load(services, w.dataset, write(tmp_path, "b-encore.csv", B))
    assert v5.path == v2.path and _identity(_path(services, v5)) == second
    v6 = _anonymise(services, w.dataset, 1)  # the same as version 4, which is not the latest
    assert (v6.number, v6.path) == (6, v4.path)
    assert _identity(_path(services, v6)) == anonymised

    done = _purge(services, w.dataset, "2024-01-01")  # retention purge: a new file
    assert done["new_version"] == 7 and done["removed_rows"] > 0
    with services.db.session() as s:
        v7 = s.scalars(select(DatasetVersion).where(
            DatasetVersion.dataset_id == w.dataset.id, DatasetVersion.number == 7)).one()
    purged = _identity(_path(services, v7))
    _anonymise(services, w.dataset, 1)  # version 8, version 4's content again
    done = _purge(services, w.dataset, "2024-01-01")  # gives version 7's content
    assert done["new_version"] == 9
    with services.db.session() as s:
        v9 = s.scalars(select(DatasetVersion).where(
            DatasetVersion.dataset_id == w.dataset.id, DatasetVersion.number == 9)).one()
    assert v9.path == v7.path and _identity(_path(services, v9)) == purged
    assert _hidden(services, w.dataset) == []
    # the purge destroyed versions 6 and 8 (the rows of version 4's file live on in 4)
    assert _numbers(services, w.dataset) == [1, 2, 3, 4, 5, 7, 9]
    assert _identity(_path(services, v4)) == anonymised


# --- add_version itself ----------------------------------------------------------------------


def _written(services: Services, dataset: Dataset, value: int) -> tuple[Path, int, str]:
    """A finished Parquet file in the dataset's folder, as a writer leaves it."""
    tmp = versions.temporary_path(services.settings, dataset, "test")
    con = duckdb.connect()
    try:
        rows, digest = writer.write_parquet(con, f"SELECT {value}::BIGINT AS n", tmp)
    finally:
        con.close()
    return tmp, rows, digest


def _add(services: Services, dataset: Dataset, value: int) -> DatasetVersion:
    tmp, rows, digest = _written(services, dataset, value)
    with services.db.unit_of_work() as s:
        entry = s.get(Dataset, dataset.id)
        assert entry is not None
        return _add_in(s, services, entry, tmp, rows, digest).version


def _add_in(s: Any, services: Services, entry: Dataset, tmp: Path, rows: int,
            digest: str) -> versions.AddedVersion:
    return versions.add_version(
        s, services.settings, entry, tmp, content_hash=digest, row_count=rows,
        columns=[{"name": "n", "type": "integer", "source_name": "n"}], positions=None,
        source_filename="essai.csv", source_format="csv", ingest_settings={},
        created_by=None)


def _fails_after_adding(services: Services, dataset: Dataset, value: int) -> None:
    tmp, rows, digest = _written(services, dataset, value)
    with pytest.raises(RuntimeError, match="panne"), services.db.unit_of_work() as s:
        entry = s.get(Dataset, dataset.id)
        assert entry is not None
        added = _add_in(s, services, entry, tmp, rows, digest)
        assert added.created and _path(services, added.version).is_file()
        assert not tmp.exists()
        raise RuntimeError("panne avant la validation")


def test_a_failure_between_the_move_and_the_commit_leaves_no_file(
        services: Services, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    w = retention_world(services)
    v1 = _add(services, w.dataset, 1)
    before = _files(services, w.dataset)

    # after add_version returned, in the caller's unit of work
    _fails_after_adding(services, w.dataset, 2)
    assert _files(services, w.dataset) == before and _numbers(services, w.dataset) == [1]

    # inside add_version, once the file is in place (inserting the row fails)
    def refuse(*_args: object) -> None:
        raise RuntimeError("panne à l'insertion")

    tmp, rows, digest = _written(services, w.dataset, 3)
    event.listen(DatasetVersion, "before_insert", refuse)
    try:
        with pytest.raises(RuntimeError, match="panne"), services.db.unit_of_work() as s:
            entry = s.get(Dataset, w.dataset.id)
            assert entry is not None
            _add_in(s, services, entry, tmp, rows, digest)
    finally:
        event.remove(DatasetVersion, "before_insert", refuse)
    assert _files(services, w.dataset) == before and _numbers(services, w.dataset) == [1]

    # in a savepoint rolled back, the outer transaction committing
    tmp, rows, digest = _written(services, w.dataset, 4)
    with services.db.unit_of_work() as s:
        entry = s.get(Dataset, w.dataset.id)
        assert entry is not None
        with pytest.raises(RuntimeError, match="panne"), s.begin_nested():
            _add_in(s, services, entry, tmp, rows, digest)
            raise RuntimeError("panne dans le point de sauvegarde")
        entry.description = "Modifié après l'échec"
    assert _files(services, w.dataset) == before and _numbers(services, w.dataset) == [1]

    # a file that was there already stays: version 1 uses it
    _add(services, w.dataset, 5)
    _fails_after_adding(services, w.dataset, 1)
    assert _path(services, v1).is_file() and _hidden(services, w.dataset) == []

    # the same through a caller: anonymisation fails when scanning the new version
    v3 = load(services, w.dataset, write(tmp_path, "a.csv", A))
    before = _files(services, w.dataset)

    def scan_fails(*_args: object, **_kwargs: object) -> None:
        raise RuntimeError("panne du scan")

    monkeypatch.setattr(findings, "scan_version", scan_fails)
    with pytest.raises(RuntimeError, match="panne du scan"):
        _anonymise(services, w.dataset, v3.number)
    assert _files(services, w.dataset) == before
    assert _numbers(services, w.dataset) == [1, 2, 3]


def test_stale_leftovers_of_every_writer_are_removed(services: Services) -> None:
    w = retention_world(services)
    _add(services, w.dataset, 1)
    folder = _folder(services, w.dataset)
    old = time.time() - 2 * versions.STALE_SECONDS
    leftovers = [folder / ".anonymise-1.parquet.tmp", folder / ".retention-2.parquet.tmp",
                 folder / ".work-3"]
    recent = folder / ".ingest-4.parquet.tmp"
    for path in leftovers:
        if path.name.startswith(".work"):
            path.mkdir()
        else:
            path.write_bytes(b"x")
        os.utime(path, (old, old))
    recent.write_bytes(b"x")  # a running writer's
    _add(services, w.dataset, 2)
    assert _hidden(services, w.dataset) == [recent.name]


# --- concurrent writers ----------------------------------------------------------------------


def test_writers_at_once_get_distinct_consecutive_numbers(services: Services) -> None:
    w = retention_world(services)
    files = [_written(services, w.dataset, value) for value in range(4)]
    start = threading.Barrier(len(files))
    numbers: dict[int, int] = {}
    errors: list[BaseException] = []

    def add(index: int) -> None:
        try:
            tmp, rows, digest = files[index]
            with services.db.unit_of_work() as s:
                entry = s.get(Dataset, w.dataset.id)
                assert entry is not None
                start.wait()
                numbers[index] = _add_in(s, services, entry, tmp, rows, digest).version.number
        except BaseException as exc:  # noqa: BLE001 - reported by the test below
            errors.append(exc)

    threads = [threading.Thread(target=add, args=(i,)) for i in range(len(files))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert sorted(numbers.values()) == [1, 2, 3, 4]
    assert _numbers(services, w.dataset) == [1, 2, 3, 4]


@pytest.mark.skipif(BACKEND != "postgresql", reason="needs PostgreSQL (PATRIMOINE_TEST_DB)")
def test_a_second_writer_waits_for_the_first_to_commit(services: Services) -> None:
    # Two sessions, as two processes would have: the second one's add_version waits on the
    # dataset's lock while the first holds it uncommitted, then takes the next number.
    w = retention_world(services)
    first_file, second_file = (_written(services, w.dataset, value) for value in (1, 2))
    first_holds, second_waits = threading.Event(), threading.Event()
    numbers: dict[str, int] = {}
    errors: list[BaseException] = []

    def writer_(name: str, written: tuple[Path, int, str], hold: bool) -> None:
        try:
            with services.db.unit_of_work() as s:
                entry = s.get(Dataset, w.dataset.id)
                assert entry is not None
                numbers[name] = _add_in(s, services, entry, *written).version.number
                if hold:
                    first_holds.set()
                    assert second_waits.wait(120)
        except BaseException as exc:  # noqa: BLE001 - reported by the test below
            errors.append(exc)
            first_holds.set()

    first = threading.Thread(target=writer_, args=("first", first_file, True))
    first.start()
    assert first_holds.wait(120)
    second = threading.Thread(target=writer_, args=("second", second_file, False))
    second.start()
    waiting = False
    with services.db.engine.connect() as c:
        for _ in range(1200):  # until the second session waits on the advisory lock
            waiting = bool(c.scalar(text(
                "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND NOT granted")))
            if waiting:
                break
            time.sleep(0.1)
    second_waits.set()
    first.join()
    second.join()
    assert waiting and errors == []
    assert numbers == {"first": 1, "second": 2}
    assert _numbers(services, w.dataset) == [1, 2]
