"""Versions: numbering, immutability, content hash, diff; atomic writes; permissions; audit."""

from __future__ import annotations

import hashlib
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pyarrow.parquet as pq
import pytest
from sqlalchemy import func, select

from patrimoine.access.models import AuditEvent, Role
from patrimoine.access.principal import Principal
from patrimoine.bootstrap import Services
from patrimoine.core.errors import Forbidden, Invalid, NotFound, Unauthenticated
from patrimoine.datastore import versions
from patrimoine.datastore.diff import diff
from patrimoine.datastore.ingest import writer
from patrimoine.datastore.models import DatasetVersion
from patrimoine.inventory.models import Dataset, DatasetChange
from tests import factories
from tests.factories import load, new_dataset, rows, write

V1 = "id;nom;montant\n1;Club;10,5\n2;Chorale;20\n3;Théâtre;30\n"
V2 = "id;nom;montant;ville\n1;Club;10,5;Troyes\n2;Chorale;25;Troyes\n4;Danse;5;Reims\n"


@pytest.fixture
def dataset(services: Services) -> Dataset:
    return new_dataset(services)


def _version_count(services: Services, dataset: Dataset) -> int:
    with services.db.unit_of_work() as session:
        return session.scalar(select(func.count()).select_from(DatasetVersion)
                              .where(DatasetVersion.dataset_id == dataset.id)) or 0


def test_versions_are_numbered_hashed_and_stay_readable(services: Services, dataset: Dataset,
                                                        tmp_path: Path) -> None:
    v1 = load(services, dataset, write(tmp_path, "v1.csv", V1))
    v2 = load(services, dataset, write(tmp_path, "v2.csv", V2))
    assert (v1.number, v2.number) == (1, 2)
    for v in (v1, v2):
        path = versions.version_path(services.settings, v)
        assert v.path == f"versions/{dataset.uid}/{v.content_hash}.parquet"
        assert hashlib.sha256(path.read_bytes()).hexdigest() == v.content_hash
        assert v.size_bytes == path.stat().st_size
        assert pq.read_schema(path).names[0] == "_row"
    assert [r["nom"] for r in rows(services, v1)] == ["Club", "Chorale", "Théâtre"]
    with services.db.unit_of_work() as session:
        entry = session.get(Dataset, dataset.id)
        assert entry is not None
        assert [v.number for v in versions.list_versions(session, entry)] == [2, 1]
        assert versions.latest_version(session, entry).number == 2  # type: ignore[union-attr]
        assert versions.get_version(session, entry, 1).id == v1.id
        with pytest.raises(NotFound, match="La version 9 du jeu de données"):
            versions.get_version(session, entry, 9)


def test_identical_content_makes_no_new_version(services: Services, dataset: Dataset,
                                                tmp_path: Path) -> None:
    v1 = load(services, dataset, write(tmp_path, "v1.csv", V1))
    assert not v1.unchanged
    again = load(services, dataset, write(tmp_path, "copie.csv", V1))
    assert again.unchanged and again.id == v1.id
    assert _version_count(services, dataset) == 1
    # the same table in another format gives the same Parquet file
    same = load(services, dataset, write(tmp_path, "v1.json",
                '[{"id":1,"nom":"Club","montant":10.5},{"id":2,"nom":"Chorale","montant":20},'
                '{"id":3,"nom":"Théâtre","montant":30}]'))
    assert same.unchanged
    # going back to earlier content after a change is a new version sharing the file
    load(services, dataset, write(tmp_path, "v2.csv", V2))
    v3 = load(services, dataset, write(tmp_path, "v1bis.csv", V1))
    assert v3.number == 3 and not v3.unchanged and v3.path == v1.path
    assert [r["_row"] for r in rows(services, v1)] == [1, 2, 3]


def test_diff_by_row_hash_and_by_key(services: Services, dataset: Dataset,
                                     tmp_path: Path) -> None:
    v1 = load(services, dataset, write(tmp_path, "v1.csv", V1))
    v2 = load(services, dataset, write(tmp_path, "v2.csv", V2.replace(";25;", ";25,5;")))
    whole = diff(services.settings, v1, v2)
    assert (whole.rows_added, whole.rows_removed, whole.rows_changed) == (2, 2, None)
    assert whole.columns_added == ["ville"] and whole.columns_removed == []
    assert whole.columns_retyped == []
    keyed = diff(services.settings, v1, v2, key="id")
    assert (keyed.rows_added, keyed.rows_removed, keyed.rows_changed) == (1, 1, 1)
    assert not keyed.identical and diff(services.settings, v1, v1).identical
    v3 = load(services, dataset, write(tmp_path, "v3.csv", "id;nom\nA;Club\n"))
    retyped = diff(services.settings, v2, v3)
    assert retyped.columns_retyped == [("id", "integer", "string")]
    assert retyped.columns_removed == ["montant", "ville"]
    with pytest.raises(Invalid, match="La colonne clé « ville » n'existe pas"):
        diff(services.settings, v1, v2, key="ville")


def _big_csv(tmp_path: Path, rows_: int) -> Path:
    path = tmp_path / "gros.csv"
    with open(path, "w", encoding="utf-8") as f:
        f.write("id;libelle;montant\n")
        f.writelines(f"{i};Ligne numéro {i};{i % 1000},5\n" for i in range(rows_))
    return path


def _files(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir()) if folder.exists() else []


def test_failure_while_writing_leaves_no_half_version(services: Services, dataset: Dataset,
                                                      tmp_path: Path,
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    v1 = load(services, dataset, write(tmp_path, "v1.csv", V1))
    folder = versions.dataset_folder(services.settings, dataset)
    before = _files(folder)
    original = writer.pq.ParquetWriter.write_table
    calls = {"n": 0}

    def write_then_fail(self: object, *args: object, **kwargs: object) -> None:
        calls["n"] += 1
        if calls["n"] == 2:
            raise OSError("disque plein (simulé)")
        original(self, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(writer.pq.ParquetWriter, "write_table", write_then_fail)
    with pytest.raises(OSError, match="simulé"):
        load(services, dataset, _big_csv(tmp_path, 200_000))
    assert calls["n"] == 2  # one row group had been written when it failed
    assert _files(folder) == before  # no temporary file, no new version file
    assert _version_count(services, dataset) == 1
    assert [r["nom"] for r in rows(services, v1)] == ["Club", "Chorale", "Théâtre"]


def test_killed_process_leaves_no_version_and_no_row(services: Services, tmp_path: Path,
                                                     cli_env: dict[str, str]) -> None:
    with services.db.unit_of_work() as session:
        factories.organisation(session)
    big = _big_csv(tmp_path, 1_500_000)
    root = services.settings.data_dir / versions.VERSIONS_DIR
    proc = subprocess.Popen(
        [str(Path(sys.executable).parent / "patrimoine"), "datastore", "load", str(big),
         "--dataset", "tue-en-cours"],
        env={**os.environ, **cli_env}, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 60
    partial: list[Path] = []
    while time.monotonic() < deadline and proc.poll() is None:
        partial = [p for p in root.glob("*/.ingest-*.tmp") if p.stat().st_size > 0]
        if partial:
            break
        time.sleep(0.005)
    assert partial, "the load finished before it could be interrupted"
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    assert not list(root.glob("*/*.parquet"))  # only the hidden temporary file remains
    with services.db.unit_of_work() as session:
        assert session.scalar(select(func.count()).select_from(DatasetVersion)) == 0
        # the inventory entry created by the same command was rolled back too
        assert session.scalar(select(Dataset).where(Dataset.slug == "tue-en-cours")) is None
    # a later load removes leftovers once they are a day old
    old = time.time() - 2 * 24 * 3600
    for leftover in partial:
        os.utime(leftover, (old, old))
    with services.db.unit_of_work() as session:
        entry = factories.dataset(session, factories.organisation(session), "Reprise")
        entry.uid = partial[0].parent.name  # the same folder as the killed load
    load(services, entry, write(tmp_path, "v1.csv", V1))
    assert not any(p.exists() for p in partial)


def test_permissions(services: Services, tmp_path: Path) -> None:
    path = write(tmp_path, "v1.csv", V1)
    with services.db.unit_of_work() as session:
        org = factories.organisation(session)
        sport = factories.department(session, org, "Sports")
        culture = factories.department(session, org, "Culture")
        entry = factories.dataset(session, org, "Clubs", department=sport)
        referent = factories.account(session, "referent@example.fr",
                                     roles=[(org, Role.DATA_REFERENT, sport)])
        other = factories.account(session, "autre@example.fr",
                                  roles=[(org, Role.DATA_REFERENT, culture)])
        agent = factories.account(session, "agent@example.fr", roles=[(org, Role.AGENT, sport)])
        principals = {a.email: Principal.of(a) for a in (referent, other, agent)}
    with pytest.raises(Forbidden, match="n'a pas le droit de charger des données"):
        load(services, entry, path, principal=principals["agent@example.fr"])
    with pytest.raises(Forbidden):
        load(services, entry, path, principal=principals["autre@example.fr"])
    with pytest.raises(Unauthenticated, match="Connectez-vous"):
        load(services, entry, path, principal=Principal.anonymous())
    version = load(services, entry, path, principal=principals["referent@example.fr"])
    assert version.created_by == principals["referent@example.fr"].account_id


def test_each_version_is_audited_and_in_the_history(services: Services, dataset: Dataset,
                                                    tmp_path: Path) -> None:
    load(services, dataset, write(tmp_path, "v1.csv", V1))
    load(services, dataset, write(tmp_path, "v1.csv", V1))  # unchanged: nothing recorded
    load(services, dataset, write(tmp_path, "v2.csv", V2))
    with services.db.unit_of_work() as session:
        changes = session.scalars(select(DatasetChange).where(
            DatasetChange.dataset_id == dataset.id,
            DatasetChange.action == "version_published").order_by(DatasetChange.id)).all()
        assert [c.changes for c in changes] == [
            {"version": [None, 1], "row_count": [None, 3]},
            {"version": [1, 2], "row_count": [3, 3]},
        ]
        events = session.scalars(select(AuditEvent).where(
            AuditEvent.action == "dataset.version_published").order_by(AuditEvent.id)).all()
        assert [e.details["version"] for e in events] == [1, 2]
        assert events[0].target == f"dataset:{dataset.uid}"
        assert events[1].details["file"] == "v2.csv"
