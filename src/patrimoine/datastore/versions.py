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
  (`os.replace` from a temporary file in the same folder). The file a version was loaded
  from (`Original`) is kept the same way, under versions/<dataset uid>/originals/<sha256>,
  and follows the same rules below;
- failures: the temporary file is removed whatever happens; a file moved into place by a
  transaction that does not commit (or by a savepoint rolled back) is removed when the
  transaction ends, under the same lock, unless a committed version uses it by then;
  `remove_file_when_unused` does the same for the file of a version being destroyed;
- a process killed between moving a file into place and committing leaves a file no version
  uses: `remove_orphan_files` (run by each server at start-up) removes it, under the same
  lock;
- derived files: whatever is computed from a version's content and kept under
  `<data_dir>/cache/` (query layouts, their row stores, word and sort indexes, cached
  exports, distribution facts, with their locks and temporary files) is named by the
  content hash first (a leading "." for locks and temporary files), so that
  `derived_files` finds every one. When a destroyed version's file goes and no committed
  version has that content any more, they go with it; `remove_orphan_files` removes those
  of contents no version has.

The file operations are kept together here (placing, reusing, removing) so that another
store (an object store) can take their place.
"""

from __future__ import annotations

import hashlib
import logging
import os
import re
import shutil
import time
import uuid
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime
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
CACHE_ROOT = "cache"  # under the data folder: one folder per kind of derived file
ORIGINALS_DIR = "originals"  # in a dataset's folder: the files versions were loaded from
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


def published_at(version: DatasetVersion) -> datetime:
    """When the version was published, in UTC to the second: its Last-Modified, and the date
    stamped in its exports (so that an export is always the same bytes)."""
    at = version.created_at
    if at.tzinfo is None:
        at = at.replace(tzinfo=UTC)
    return at.astimezone(UTC).replace(microsecond=0)


def version_path(settings: Settings, version: DatasetVersion) -> Path:
    """Absolute path of the version's Parquet file."""
    return (settings.data_dir / version.path).resolve()


def relative_path(dataset: Dataset, content_hash: str) -> str:
    return f"{VERSIONS_DIR}/{dataset.uid}/{content_hash}.parquet"


def original_path(settings: Settings, version: DatasetVersion) -> Path | None:
    """Absolute path of the file the version was loaded from, when it has one."""
    return (settings.data_dir / version.source_path).resolve() if version.source_path else None


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
class _Staged:
    written: Path
    relative: str
    size: int


@dataclass(frozen=True)
class Original:
    """The file a version is loaded from, to keep beside it: where it is now and its media
    type (its name is the version's `source_filename`); `copying`, the copy `copy_original`
    started while the caller worked (else add_version copies it)."""

    path: Path
    media_type: str
    copying: Future[_Staged] | None = None

    def staged(self, settings: Settings, dataset: Dataset) -> _Staged:
        if self.copying is not None:
            return self.copying.result()
        return _stage_original(settings, dataset, self.path)


_COPIER = ThreadPoolExecutor(max_workers=2, thread_name_prefix="original-copy")


def copy_original(settings: Settings, dataset: Dataset, path: Path) -> Future[_Staged]:
    """Start copying the original in a thread: reading, hashing and writing its bytes release
    the GIL, so the copy runs while ingest writes the Parquet file. Give the future to
    `Original(copying=…)`, or to `discard_copy` if no version is added."""
    return _COPIER.submit(_stage_original, settings, dataset, path)


def discard_copy(copying: Future[_Staged]) -> None:
    """Wait for a copy nobody will place, and remove it."""
    try:
        copying.result().written.unlink(missing_ok=True)
    except Exception:  # the copy failed: nothing was left (see _stage_original)
        pass


def _stage_original(settings: Settings, dataset: Dataset, path: Path) -> _Staged:
    """A copy of the original in the dataset's originals folder (hidden until placed), named
    by the sha256 of its bytes."""
    folder = dataset_folder(settings, dataset) / ORIGINALS_DIR
    folder.mkdir(parents=True, exist_ok=True)
    _remove_stale_leftovers(folder)
    written = folder / f".original-{uuid.uuid4().hex}.tmp"
    digest = hashlib.sha256()
    try:
        with open(path, "rb") as source, open(written, "wb") as out:
            while chunk := source.read(1 << 20):
                digest.update(chunk)
                out.write(chunk)
            out.flush()
            os.fsync(out.fileno())
    except BaseException:
        written.unlink(missing_ok=True)
        raise
    relative = f"{VERSIONS_DIR}/{dataset.uid}/{ORIGINALS_DIR}/{digest.hexdigest()}"
    return _Staged(written, relative, written.stat().st_size)


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
    original: Original | None = None,
) -> AddedVersion:
    """Add the finished Parquet file `written` (from `temporary_path`) as the dataset's next
    version, in the caller's transaction, keeping a copy of the `original` it was loaded
    from; see the module docstring for the rules.

    `content_hash` is the sha256 of the file's bytes, as the writer computed it while
    writing (`ingest.writer.write_parquet`): it names the file. `written` is consumed:
    moved into place or removed, whatever happens; `original` is left where it is."""
    staged: _Staged | None = None
    try:
        if original is not None:  # copied before the lock: other writers need not wait
            staged = original.staged(settings, dataset)
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
        if staged is not None:
            _place(session, dataset, staged.written, staged.relative,
                   settings.data_dir / staged.relative)
        number = (session.scalar(select(func.max(DatasetVersion.number))
                                 .where(DatasetVersion.dataset_id == dataset.id)) or 0) + 1
        version = DatasetVersion(
            dataset_id=dataset.id, number=number, content_hash=content_hash, path=relative,
            row_count=row_count, size_bytes=size, columns=columns, positions=positions,
            source_filename=source_filename[:500], source_format=source_format,
            source_path=staged.relative if staged else None,
            source_media_type=original.media_type[:100] if original else "",
            source_size=staged.size if staged else None,
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
    finally:
        if staged is not None:  # placed (moved away), reused, or not needed
            staged.written.unlink(missing_ok=True)
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
#
# A version's file and its row must go together, but files are outside the transaction.
# So a file moved into place, or left by a destroyed version, is looked at once the
# outermost transaction has ended, however it ended (committed, rolled back, a savepoint
# rolled back or, on SQLite, a savepoint released as a commit): it is removed then when no
# committed version uses it. The check holds the dataset's lock, so a writer that found
# the file in place and reuses it (which it does under the lock) has committed by then.


@dataclass(frozen=True)
class _FileToCheck:
    engine: Engine
    dataset_id: int
    relative: str
    path: Path
    # A version's file being destroyed: the data folder whose derived files of that content
    # go with it, when no committed version has the content any more.
    derived_of: Path | None = None


def derived_files(data_dir: Path, content_hash: str) -> list[Path]:
    """Every file kept under `<data_dir>/cache/` that was derived from this content (see the
    module docstring)."""
    root = Path(data_dir) / CACHE_ROOT
    if not _SHA256.fullmatch(content_hash) or not root.is_dir():
        return []
    found: set[Path] = set()
    for folder in (p for p in root.iterdir() if p.is_dir()):
        for pattern in (f"{content_hash}*", f".{content_hash}*"):
            found.update(p for p in folder.glob(pattern) if p.is_file())
    return sorted(found)


@dataclass(frozen=True)
class DestroyedFile:
    """A file that goes with a version being destroyed: its path relative to the data
    folder, and its size."""

    file: str
    bytes: int


_TO_CHECK = "datastore_files_to_check"


def _place(session: Session, dataset: Dataset, written: Path, relative: str,
           final: Path) -> None:
    """Reuse the file of that content when there is one, else move `written` into place."""
    if final.exists():
        written.unlink()
        return
    _check_when_transaction_ends(session, dataset.id, relative, final)
    os.replace(written, final)


def remove_file_when_unused(session: Session, settings: Settings,
                            version: DatasetVersion) -> list[DestroyedFile]:
    """For a version about to be destroyed (its row deleted next, in this transaction):
    remove its file, the original it was loaded from, and the derived files of its content,
    once the transaction has ended, if no committed version uses them then. Returns the
    files that go, as this transaction sees the other versions (for the record of the
    destruction)."""
    others = (select(func.count()).select_from(DatasetVersion)
              .where(DatasetVersion.id != version.id))
    going: list[Path] = []
    for relative in (version.path, version.source_path):
        if not relative:
            continue
        path = settings.data_dir / relative
        _check_when_transaction_ends(session, version.dataset_id, relative, path,
                                     settings.data_dir if relative == version.path else None)
        if not session.scalar(others.where(
                DatasetVersion.dataset_id == version.dataset_id,
                (DatasetVersion.path == relative) | (DatasetVersion.source_path == relative))):
            going.append(path)
    if not session.scalar(others.where(DatasetVersion.content_hash == version.content_hash)):
        going += derived_files(settings.data_dir, version.content_hash)
    return [DestroyedFile(p.relative_to(settings.data_dir).as_posix(), _size(p))
            for p in going if p.is_file()]


def _size(path: Path) -> int:
    try:
        return path.stat().st_size
    except FileNotFoundError:
        return 0


def _check_when_transaction_ends(session: Session, dataset_id: int, relative: str,
                                 path: Path, derived_of: Path | None = None) -> None:
    if not event.contains(session, "after_transaction_end", _on_transaction_end):
        event.listen(session, "after_transaction_end", _on_transaction_end)
    session.info.setdefault(_TO_CHECK, []).append(
        _FileToCheck(session.get_bind().engine, dataset_id, relative, path, derived_of))


def _on_transaction_end(session: Session, transaction: SessionTransaction) -> None:
    if transaction.parent is None and session.info.get(_TO_CHECK):
        _remove_unused(session.info.pop(_TO_CHECK))


def _remove_unused(files: list[_FileToCheck]) -> None:
    """Remove the files no committed version uses, under each dataset's numbering lock."""
    for dataset_id in sorted({f.dataset_id for f in files}):
        of_dataset = [f for f in files if f.dataset_id == dataset_id]
        try:
            with of_dataset[0].engine.begin() as connection:
                _lock_numbering(connection, dataset_id)
                used = _used(connection, [f.relative for f in of_dataset], dataset_id)
                for f in of_dataset:
                    if f.relative not in used:
                        f.path.unlink(missing_ok=True)
                        if f.derived_of is not None:
                            _remove_derived(connection, f.derived_of, f.path.stem)
        except Exception:  # the transaction is over; an unused file is only wasted space
            log.exception("Could not remove the unused version files %s",
                          [f.relative for f in of_dataset])


def _remove_derived(connection: Connection, data_dir: Path, content_hash: str) -> None:
    """The derived files of a content no committed version has (the version file is gone
    first, so no reader can build them again)."""
    if not connection.scalar(select(func.count()).select_from(DatasetVersion)
                             .where(DatasetVersion.content_hash == content_hash)):
        for path in derived_files(data_dir, content_hash):
            path.unlink(missing_ok=True)


def _used(connection: Connection, relatives: list[str], dataset_id: int | None = None
          ) -> set[str]:
    """Those of `relatives` a committed version uses, as its file or its original."""
    used: set[str] = set()
    for column in (DatasetVersion.path, DatasetVersion.source_path):
        query = select(column).where(column.in_(relatives))
        if dataset_id is not None:
            query = query.where(DatasetVersion.dataset_id == dataset_id)
        used.update(r for r in connection.scalars(query) if r)
    return used


def remove_orphan_files(engine: Engine, settings: Settings) -> list[str]:
    """Remove the version files no committed version uses (left by a process killed between
    moving a file into place and committing, or whose clean-up failed), the hidden
    leftovers of writers killed more than a day ago, and the derived files of contents no
    version has; the relative paths removed.

    A writer moving a file into place holds the dataset's numbering lock until it commits,
    so each dataset's candidates are checked again under that lock: a file being added by
    another process right now is either not there yet or committed by then. A folder with
    no committed dataset (one being created in a transaction still open) cannot be locked:
    its files are removed only when older than a day."""
    root = settings.data_dir / VERSIONS_DIR
    removed = _remove_orphan_derived(engine, settings.data_dir)
    if not root.is_dir():
        return removed
    with engine.connect() as connection:
        used = set(connection.scalars(select(DatasetVersion.path)))
        used.update(p for p in connection.scalars(select(DatasetVersion.source_path)) if p)
        dataset_ids = {uid: id_ for uid, id_ in connection.execute(select(Dataset.uid,
                                                                            Dataset.id))}
    for folder in sorted(p for p in root.iterdir() if p.is_dir()):
        _remove_stale_leftovers(folder)
        candidates = {f"{VERSIONS_DIR}/{folder.name}/{p.name}": p
                      for p in folder.glob("*.parquet") if _SHA256.fullmatch(p.stem)}
        originals = folder / ORIGINALS_DIR
        if originals.is_dir():
            _remove_stale_leftovers(originals)
            candidates.update({f"{VERSIONS_DIR}/{folder.name}/{ORIGINALS_DIR}/{p.name}": p
                               for p in originals.iterdir() if _SHA256.fullmatch(p.name)})
        candidates = {rel: p for rel, p in candidates.items() if rel not in used}
        if not candidates:
            continue
        dataset_id = dataset_ids.get(folder.name)
        if dataset_id is None:
            limit = time.time() - STALE_SECONDS
            old = {rel: p for rel, p in candidates.items() if _mtime(p) < limit}
            removed += _unlink(old)
            continue
        with engine.begin() as connection:
            _lock_numbering(connection, dataset_id)
            still = _used(connection, list(candidates))
            removed += _unlink({rel: p for rel, p in candidates.items() if rel not in still})
    if removed:
        log.info("Removed %d version file(s) no version uses: %s", len(removed), removed)
    return removed


def _remove_orphan_derived(engine: Engine, data_dir: Path) -> list[str]:
    """Derived files (under cache/) of contents no committed version has, older than a day
    (a version being added in a transaction still open may already have its layout), e.g.
    left by a process killed between a destruction's commit and its clean-up."""
    root = data_dir / CACHE_ROOT
    if not root.is_dir():
        return []
    with engine.connect() as connection:
        hashes = set(connection.scalars(select(DatasetVersion.content_hash)))
    limit = time.time() - STALE_SECONDS
    removed: list[str] = []
    for path in sorted(root.glob("*/*")):
        content = path.name.lstrip(".")[:64]
        if (path.is_file() and _SHA256.fullmatch(content) and content not in hashes
                and _mtime(path) < limit):
            path.unlink(missing_ok=True)
            removed.append(path.relative_to(data_dir).as_posix())
    return removed


def _mtime(path: Path) -> float:
    try:
        return path.stat().st_mtime
    except FileNotFoundError:
        return time.time()


def _unlink(files: dict[str, Path]) -> list[str]:
    for path in files.values():
        path.unlink(missing_ok=True)
    return list(files)
