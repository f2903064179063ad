"""The published versions of a dataset: reading them, and adding the next one.

`add_version` is the one place a version is added (ingest, anonymisation and the retention
purge all call it), so its rules hold for every caller:
- numbering: the dataset's versions are numbered 1, 2, 3… under a lock held until the
  transaction ends, across processes (PostgreSQL: an advisory lock on the dataset id;
  SQLite: the database's single write lock, taken at once);
- identical content: a file whose content hash is the latest version's adds nothing; the
  caller is told (`AddedVersion.created` is False) and says so in its own words. Content equal
  to an older version is a new version (going back is a change) sharing that version's file;
- files are content-addressed (versions/<dataset uid>/<sha256>.parquet): an existing file
  of that hash is reused, never overwritten; a new one is moved into place atomically
  (`os.replace` from a temporary file in the same folder);
- failures: the temporary file is removed whatever happens; a file moved into place by a
  transaction that does not commit (or by a savepoint rolled back) is removed when the
  transaction ends, under the same lock, unless a committed version uses it by then.

The file operations are kept together here (placing, reusing, removing) so that another
store (an object store) can take their place.
"""

from __future__ import annotations

import logging
import os
import re
import shutil
import time
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Engine, event, func, select, text
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, SessionTransaction

from patrimoine.core.errors import Conflict, NotFound
from patrimoine.core.settings import Settings
from patrimoine.datastore.models import DatasetVersion
from patrimoine.inventory.models import Dataset

VERSIONS_DIR = "versions"
# Temporary files and work folders in a dataset's folder are hidden (".ingest-…"); those
# older than this belong to writers that were killed and are removed by the next writer.
STALE_SECONDS = 24 * 3600
# pg_advisory_xact_lock(namespace, dataset id): the two-key form, apart from other locks.
_PG_LOCK_NAMESPACE = 7_316_421
_SHA256 = re.compile(r"[0-9a-f]{64}")

log = logging.getLogger("patrimoine.datastore")


def latest_version(session: Session, dataset: Dataset) -> DatasetVersion | None:
    return session.scalar(
        select(DatasetVersion)
        .where(DatasetVersion.dataset_id == dataset.id)
        .order_by(DatasetVersion.number.desc())
        .limit(1)
    )


def get_version(session: Session, dataset: Dataset, number: int) -> DatasetVersion:
    version = session.scalar(
        select(DatasetVersion).where(
            DatasetVersion.dataset_id == dataset.id, DatasetVersion.number == number
        )
    )
    if version is None:
        raise NotFound(f"La version {number} du jeu de données « {dataset.slug} » n'existe pas.")
    return version


def list_versions(session: Session, dataset: Dataset) -> list[DatasetVersion]:
    """Every version of the dataset, newest first."""
    return list(
        session.scalars(
            select(DatasetVersion)
            .where(DatasetVersion.dataset_id == dataset.id)
            .order_by(DatasetVersion.number.desc())
        )
    )


def version_path(settings: Settings, version: DatasetVersion) -> Path:
    """Absolute path of the version's Parquet file."""
    return (settings.data_dir / version.path).resolve()


def relative_path(dataset: Dataset, content_hash: str) -> str:
    return f"{VERSIONS_DIR}/{dataset.uid}/{content_hash}.parquet"


def dataset_folder(settings: Settings, dataset: Dataset) -> Path:
    return settings.data_dir / VERSIONS_DIR / dataset.uid


# --- adding a version ------------------------------------------------------------------------


def temporary_path(settings: Settings, dataset: Dataset, purpose: str) -> Path:
    """A new hidden file name in the dataset's folder (the same file system as its versions,
    so that `add_version` moves it into place atomically) for a writer to fill. Leftovers
    of writers killed more than a day ago are removed first."""
    folder = dataset_folder(settings, dataset)
    folder.mkdir(parents=True, exist_ok=True)
    _remove_stale_leftovers(folder)
    return folder / f".{purpose}-{uuid.uuid4().hex}.parquet.tmp"


def _remove_stale_leftovers(folder: Path) -> None:
    """Hidden files and folders older than a day (never those of a running writer)."""
    limit = time.time() - STALE_SECONDS
    for entry in folder.iterdir():
        if not entry.name.startswith("."):
            continue
        try:
            if entry.stat().st_mtime < limit:
                if entry.is_dir():
                    shutil.rmtree(entry, ignore_errors=True)
                else:
                    entry.unlink(missing_ok=True)
        except FileNotFoundError:
            continue


@dataclass(frozen=True)
class AddedVersion:
    """What `add_version` did. `created` False: the content was the latest version's and
    nothing was added (`version` is that latest version)."""

    version: DatasetVersion
    created: bool
    # The latest version before the call (None for a dataset's first version).
    previous: DatasetVersion | None


def add_version(
    session: Session,
    settings: Settings,
    dataset: Dataset,
    written: Path,
    *,
    content_hash: str,
    row_count: int,
    columns: list[dict[str, Any]],
    positions: dict[str, str] | None,
    source_filename: str,
    source_format: str,
    ingest_settings: dict[str, Any],
    created_by: int | None,
) -> AddedVersion:
    """Add the finished Parquet file `written` (from `temporary_path`) as the dataset's next
    version, in the caller's transaction; see the module docstring for the rules.

    `content_hash` is the sha256 of the file's bytes, as the writer computed it while
    writing (`ingest.writer.write_parquet`): it names the file. `written` is consumed:
    moved into place or removed, whatever happens."""
    try:
        if not _SHA256.fullmatch(content_hash):
            raise ValueError(f"not a sha256 hex digest: {content_hash!r}")
        _lock_numbering(session, dataset.id)
        latest = latest_version(session, dataset)
        if latest is not None and latest.content_hash == content_hash:
            written.unlink()
            return AddedVersion(latest, created=False, previous=latest)
        relative = relative_path(dataset, content_hash)
        size = written.stat().st_size
        _place(session, dataset, written, relative, settings.data_dir / relative)
        number = (session.scalar(select(func.max(DatasetVersion.number))
                                 .where(DatasetVersion.dataset_id == dataset.id)) or 0) + 1
        version = DatasetVersion(
            dataset_id=dataset.id, number=number, content_hash=content_hash, path=relative,
            row_count=row_count, size_bytes=size, columns=columns, positions=positions,
            source_filename=source_filename[:500], source_format=source_format,
            ingest_settings=ingest_settings, created_by=created_by)
        session.add(version)
        try:
            session.flush()
        except IntegrityError:  # a writer that bypassed the lock; the caller rolls back
            raise Conflict("Une autre opération vient d'ajouter une version à ce jeu de "
                           "données ; recommencez.") from None
    except BaseException:
        written.unlink(missing_ok=True)
        raise
    return AddedVersion(version, created=True, previous=latest)


def _lock_numbering(target: Session | Connection, dataset_id: int) -> None:
    """Hold the dataset's version-numbering lock until the transaction ends."""
    bind = target.get_bind() if isinstance(target, Session) else target
    if bind.dialect.name == "postgresql":
        target.execute(text("SELECT pg_advisory_xact_lock(:namespace, :dataset)"),
                       {"namespace": _PG_LOCK_NAMESPACE, "dataset": dataset_id})
    else:
        # SQLite has one write lock, taken by the first write of a transaction: this write
        # (of nothing) takes it now, so the numbering below is read under it.
        target.execute(text("DELETE FROM dataset_version WHERE 0"))


# --- the files -------------------------------------------------------------------------------


@dataclass
class _PlacedFile:
    """A file this session moved into place: it stays only if a committed version uses it."""

    engine: Engine
    dataset_id: int
    relative: str
    path: Path
    placed_in: SessionTransaction
    abandoned: bool = False  # its savepoint was rolled back


_PLACED = "datastore_placed_files"


def _place(session: Session, dataset: Dataset, written: Path, relative: str,
           final: Path) -> None:
    """Reuse the file of that content when there is one, else move `written` into place."""
    if final.exists():
        written.unlink()
        return
    placed = session.info.get(_PLACED)
    if placed is None:
        placed = session.info[_PLACED] = []
    if not event.contains(session, "after_transaction_end", _on_transaction_end):
        event.listen(session, "after_soft_rollback", _on_soft_rollback)
        event.listen(session, "after_commit", _on_commit)
        event.listen(session, "after_transaction_end", _on_transaction_end)
    transaction = session.get_nested_transaction() or session.get_transaction()
    assert transaction is not None
    placed.append(_PlacedFile(session.get_bind().engine, dataset.id, relative, final,
                              transaction))
    os.replace(written, final)


def _on_soft_rollback(session: Session, previous_transaction: SessionTransaction) -> None:
    for placed in session.info.get(_PLACED, []):
        transaction: SessionTransaction | None = placed.placed_in
        while transaction is not None and transaction is not previous_transaction:
            transaction = transaction.parent
        if transaction is not None:
            placed.abandoned = True


def _on_commit(session: Session) -> None:
    if session.in_nested_transaction():
        return  # a savepoint released: its files wait for the outermost transaction
    placed = session.info.get(_PLACED, [])
    placed[:] = [p for p in placed if p.abandoned]


def _on_transaction_end(session: Session, transaction: SessionTransaction) -> None:
    if transaction.parent is not None:
        return
    placed = session.info.pop(_PLACED, [])
    if placed:
        _remove_unused(placed)


def _remove_unused(placed: list[_PlacedFile]) -> None:
    """Remove the files no committed version uses, under each dataset's numbering lock (a
    writer that found the file there and reuses it holds the lock until it commits)."""
    for dataset_id in sorted({p.dataset_id for p in placed}):
        files = [p for p in placed if p.dataset_id == dataset_id]
        try:
            with files[0].engine.begin() as connection:
                _lock_numbering(connection, dataset_id)
                used = set(connection.scalars(select(DatasetVersion.path).where(
                    DatasetVersion.path.in_([p.relative for p in files]))))
                for p in files:
                    if p.relative not in used:
                        p.path.unlink(missing_ok=True)
        except Exception:  # the transaction is over; an unused file is harmless
            log.exception("Could not remove the unused version files %s",
                          [p.relative for p in files])
