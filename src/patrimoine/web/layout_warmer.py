"""Build the DuckDB layouts of versions in the background, before a request needs them.

A version's layout takes seconds to build for a million rows, minutes for tens of millions.
A `LayoutWarmer` runs one daemon thread that prepares versions one at a time (the engine
also allows one build at a time per data folder), so that a single build at most competes
with the requests being answered:

- at start-up (`start(initial=True)`), the newest version of every dataset that has data
  and, for open datasets, the newest one the public may read (they differ while the
  newest waits for the personal-data gate), datasets with the most recent data first;
- right after a version is created through the web (`prepare_after_commit`), once its
  transaction is committed, ahead of what is left of the start-up list;
- every `RESCAN_S` seconds when idle, the same list again, keeping the versions whose layout
  is not on disk yet (`engine.layout_wanted`): versions loaded by `patrimoine datastore load`
  while the server runs, and versions whose failed build is due for another try.

Until its layout is ready, a version is read from its Parquet file: no request waits for a
build. A failed build is recorded by the engine with its reason (the version's page shows
it to staff) and tried again only after its backoff; failures are logged and never stop the
server. `stop()` lets the build under way finish on its own (the thread is a daemon) and
starts no other.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import deque
from collections.abc import Callable

from sqlalchemy import event, func, select
from sqlalchemy.orm import Session

from patrimoine.access.principal import Principal
from patrimoine.bootstrap import Services
from patrimoine.datastore import engine
from patrimoine.datastore.models import DatasetVersion
from patrimoine.inventory.models import Dataset
from patrimoine.protection import gate

log = logging.getLogger("patrimoine.web.layout_warmer")


def startup_versions(session: Session) -> list[int]:
    """Ids of the versions worth preparing at start-up (see the module doc), in order."""
    newest = (select(DatasetVersion.dataset_id, func.max(DatasetVersion.number).label("n"))
              .group_by(DatasetVersion.dataset_id).subquery())
    latest = list(session.scalars(
        select(DatasetVersion)
        .join(newest, (DatasetVersion.dataset_id == newest.c.dataset_id)
              & (DatasetVersion.number == newest.c.n))
        .order_by(DatasetVersion.created_at.desc(), DatasetVersion.id.desc())))
    datasets = {d.id: d for d in session.scalars(
        select(Dataset).where(Dataset.id.in_([v.dataset_id for v in latest])))}
    # Without settings: a version never scanned is not scanned here (it stays closed).
    public = gate.newest_readable_versions(session, Principal.anonymous(),
                                           list(datasets.values()))
    ids: list[int] = []
    for version in latest:
        ids.append(version.id)
        shown = public.get(version.dataset_id)
        if shown is not None and shown.id != version.id:
            ids.append(shown.id)
    return ids


class LayoutWarmer:
    """One background thread preparing version layouts, one at a time."""

    # How long a version is looked for after it was handed over (its transaction commits
    # right after the request's handler returns).
    COMMIT_WAIT_S = 30.0
    # How often an idle warmer looks for versions created outside the server (CLI loads).
    RESCAN_S = 30.0

    def __init__(self, services: Services) -> None:
        self.services = services
        self._queue: deque[int] = deque()
        self._wake = threading.Condition()
        self._stop = threading.Event()
        self._initial = False
        self._thread: threading.Thread | None = None
        self._busy = False
        self.prepared: list[int] = []  # ids prepared by this warmer, in order (for tests)
        # Not retried by rescans: versions that cannot be read at all (a missing file). A
        # failed build is retried by the engine's own backoff (engine.layout_wanted).
        self._failed: set[int] = set()

    def start(self, *, initial: bool) -> None:
        """Start the thread; with `initial`, it first lists the start-up versions."""
        with self._wake:
            if self._thread is not None:
                return
            self._initial = initial
            self._stop.clear()
            self._thread = threading.Thread(target=self._run, name="patrimoine-layouts",
                                            daemon=True)
            self._thread.start()

    def stop(self, timeout: float = 1.0) -> None:
        """Ask the thread to stop; a build under way is not waited for beyond `timeout`."""
        self._stop.set()
        with self._wake:
            self._wake.notify_all()
            thread, self._thread = self._thread, None
        if thread is not None:
            thread.join(timeout)

    def prepare(self, version_id: int) -> None:
        """Prepare this version next (before what is left of the start-up list)."""
        with self._wake:
            if version_id in self._queue:
                self._queue.remove(version_id)
            self._queue.appendleft(version_id)
            self._wake.notify_all()

    def prepare_after_commit(self, session: Session, version: DatasetVersion) -> None:
        """Prepare `version` once `session` commits (nothing happens if it rolls back)."""
        version_id = version.id
        event.listen(session, "after_commit", lambda _s: self.prepare(version_id), once=True)

    def wait_idle(self, timeout: float) -> bool:
        """Wait until nothing is queued or being built (tests, benchmarks)."""
        return self._wait_until(lambda: not (self._queue or self._busy or self._initial),
                                timeout)

    def wait_built(self, version_id: int, timeout: float) -> bool:
        """Wait until this warmer has built the version's layout (tests, benchmarks)."""
        return self._wait_until(lambda: version_id in self.prepared, timeout)

    def _wait_until(self, done: Callable[[], bool], timeout: float) -> bool:
        deadline = time.monotonic() + timeout
        with self._wake:
            while not done():
                left = deadline - time.monotonic()
                if left <= 0:
                    return False
                self._wake.wait(min(left, 0.1))
        return True

    # ------------------------------------------------------------------ the thread

    def _list(self, *, missing_only: bool) -> None:
        """Queue the start-up versions (with `missing_only`, those without a layout yet)."""
        try:
            with self.services.db.session() as session:
                ids = startup_versions(session)
                if missing_only:
                    ids = [i for i in ids if i not in self._failed
                           and not self._settled(session, i)]
            with self._wake:
                self._queue.extend(i for i in ids if i not in self._queue)
        except Exception:
            log.exception("Préparation des versions : liste impossible à lire")

    def _settled(self, session: Session, version_id: int) -> bool:
        """Nothing to build for this version now (built, gone, or waiting for a retry)."""
        version = session.get(DatasetVersion, version_id)
        return version is None or not engine.layout_wanted(self.services.settings, version)

    def _run(self) -> None:
        if self._initial:
            try:
                self._list(missing_only=False)
            finally:
                with self._wake:
                    self._initial = False
                    self._wake.notify_all()
        while not self._stop.is_set():
            with self._wake:
                if not self._queue:
                    self._wake.wait(self.RESCAN_S)
                if self._stop.is_set():
                    return
                version_id = self._queue.popleft() if self._queue else None
                self._busy = version_id is not None
            if version_id is None:  # idle for RESCAN_S: anything loaded meanwhile?
                self._list(missing_only=True)
                continue
            try:
                self._prepare(version_id)
            except engine.LayoutUnavailable as exc:  # recorded; retried after its backoff
                log.error("Préparation de la version %s impossible : %s", version_id,
                          exc.message)
            except Exception:
                self._failed.add(version_id)
                log.exception("Préparation de la version %s impossible", version_id)
            finally:
                with self._wake:
                    self._busy = False
                    self._wake.notify_all()

    def _prepare(self, version_id: int) -> None:
        deadline = time.monotonic() + self.COMMIT_WAIT_S
        while True:
            with self.services.db.session() as session:
                version = session.get(DatasetVersion, version_id)
            if version is not None:
                break
            if time.monotonic() > deadline or self._stop.wait(0.2):
                return
        started = time.perf_counter()
        engine.prepare_version(self.services.settings, version)
        self.prepared.append(version_id)
        log.info("Version %s (jeu %s) prête en %.1f s", version.number, version.dataset_id,
                 time.perf_counter() - started)
