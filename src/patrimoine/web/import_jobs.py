"""The confirmation of a back-office import, run in the background with its progress.

Writing the 653 rows of an audit sheet takes a while on a small machine: the request that
confirms starts a thread and answers at once with a page that follows the progress. The
state is a small JSON file in the data folder (not memory), so whichever server process
answers the polling reads it. The thread has its own unit of work: all or nothing, as
before.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import re
import secrets
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from patrimoine.access.principal import Principal
from patrimoine.bootstrap import Services
from patrimoine.core.errors import PatrimoineError

log = logging.getLogger(__name__)
_ID = re.compile(r"^[A-Za-z0-9_-]{20,64}$")
PREFIX = "suivi-import-"
STALE_SECONDS = 24 * 3600

# What the thread runs: (session, progress) -> the final state's extra fields.
Work = Callable[[Any, Callable[[int, int], None]], dict[str, Any]]


def _path(services: Services, job: str) -> Path:
    folder = services.settings.data_dir / "uploads"
    folder.mkdir(parents=True, exist_ok=True)
    return folder / f"{PREFIX}{job}.json"


def _write(path: Path, state: dict[str, Any]) -> None:
    temporary = path.with_suffix(".tmp")
    temporary.write_text(json.dumps(state, ensure_ascii=False), encoding="utf-8")
    os.replace(temporary, path)


def start(services: Services, principal: Principal, work: Work) -> str:
    """Run `work` in a thread inside its own unit of work; return the job's id."""
    job = secrets.token_urlsafe(18)
    path = _path(services, job)
    limit = time.time() - STALE_SECONDS
    for old in path.parent.glob(f"{PREFIX}*"):  # states nobody came back to read
        with contextlib.suppress(OSError):
            if old.stat().st_mtime < limit:
                old.unlink()
    owner = principal.account_id
    _write(path, {"state": "running", "done": 0, "total": 0, "owner": owner})

    def progress(done: int, total: int) -> None:
        _write(path, {"state": "running", "done": done, "total": total, "owner": owner})

    def run() -> None:
        try:
            with services.db.unit_of_work() as session:
                extra = work(session, progress)
            _write(path, {"state": "done", "owner": owner, **extra})
        except PatrimoineError as exc:
            _write(path, {"state": "failed", "owner": owner, "message": exc.message})
        except Exception:
            log.exception("background import failed")
            _write(path, {"state": "failed", "owner": owner,
                          "message": "L'import a échoué sur une erreur interne : rien n'a été "
                                     "enregistré. Réessayez, ou prévenez l'exploitant."})

    threading.Thread(target=run, name=f"import-{job}", daemon=True).start()
    return job


def read(services: Services, principal: Principal, job: str) -> dict[str, Any] | None:
    """The job's state, if it exists and belongs to the principal."""
    if not _ID.match(job):
        return None
    try:
        state = json.loads(_path(services, job).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if not isinstance(state, dict) or state.get("owner") != principal.account_id:
        return None
    return state
