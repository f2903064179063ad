"""The background confirmation of an import (web/import_jobs.py): its state file follows
the progress, belongs to its owner, says in French how it failed, and the page following
it works while it runs."""

from __future__ import annotations

import threading
import time
from typing import Any

from fastapi.testclient import TestClient

from patrimoine.access.models import Role
from patrimoine.access.principal import Principal
from patrimoine.bootstrap import Services
from patrimoine.core.errors import Invalid
from patrimoine.web import import_jobs
from tests import factories as f

MAX_POLLS = 3000  # a bound, not a measure


def _until(services: Services, principal: Principal, job: str, test: Any) -> dict[str, Any]:
    for _ in range(MAX_POLLS):
        state = import_jobs.read(services, principal, job)
        if state is not None and test(state):
            return state
        time.sleep(0.01)
    raise AssertionError(f"job {job} never reached the state awaited")


def test_a_running_job_reports_its_progress_to_its_owner_only(
        services: Services, client: TestClient) -> None:
    with services.db.unit_of_work() as s:
        org = f.organisation(s)
        owner_id = f.account(s, "agd@ville.fr",
                             roles=[(org, Role.CHIEF_DATA_OFFICER, None)]).id
        other_id = f.account(s, "autre@ville.fr",
                             roles=[(org, Role.CHIEF_DATA_OFFICER, None)]).id
    owner, other = f.principal(services, owner_id), f.principal(services, other_id)
    release = threading.Event()

    def work(session: Any, progress: Any) -> dict[str, Any]:
        progress(5, 10)
        release.wait()
        progress(10, 10)
        return {"message": "Import terminé.", "done": 10, "total": 10}

    job = import_jobs.start(services, owner, work)
    state = _until(services, owner, job, lambda s: s["done"] == 5)
    assert state["state"] == "running" and state["total"] == 10
    assert import_jobs.read(services, other, job) is None
    assert import_jobs.read(services, owner, "../../etc/passwd") is None
    # The page following it, while it runs: a progress bar and the script that polls.
    f.login(client, "agd@ville.fr")
    page = client.get(f"/admin/inventaire/import/suivi/{job}")
    assert page.status_code == 200
    assert '<progress id="avancement" max="10" value="5">' in page.text
    assert '<script src="/static/js/import-progress.js" defer></script>' in page.text
    assert client.get(f"/admin/inventaire/import/suivi/{job}/etat").json() == {
        "state": "running", "done": 5, "total": 10, "message": None}
    release.set()
    _until(services, owner, job, lambda s: s["state"] == "done")
    r = client.get(f"/admin/inventaire/import/suivi/{job}", follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == "/admin/inventaire?tri=-updated"


def test_a_failed_job_says_why_in_french(services: Services) -> None:
    principal = Principal.system("tests")

    def refused(session: Any, progress: Any) -> dict[str, Any]:
        raise Invalid("Le fichier a changé entre-temps.")

    def broken(session: Any, progress: Any) -> dict[str, Any]:
        raise RuntimeError("boom")

    job = import_jobs.start(services, principal, refused)
    state = _until(services, principal, job, lambda s: s["state"] != "running")
    assert state["state"] == "failed" and state["message"] == "Le fichier a changé entre-temps."
    job = import_jobs.start(services, principal, broken)
    state = _until(services, principal, job, lambda s: s["state"] != "running")
    assert state["state"] == "failed" and "rien n'a été enregistré" in state["message"]
    assert "boom" not in state["message"]
