"""kill -9 at chosen moments, then restart and check nothing acknowledged or recorded was lost.

    .venv/bin/python benchmarks/faults.py [--rows 200000] [--writes 10]

On a fresh SQLite store (or `--database-url` for PostgreSQL), the process doing the work is
killed with SIGKILL at fractions of the time the same work takes uninterrupted:
- `patrimoine datastore load` of a new CSV version (CLI ingest);
- an upload of a new version to the API of `patrimoine serve` (the server is killed);
- `patrimoine inventory import` of a 653-row audit spreadsheet;
and the server is killed right after each 200 of acknowledged API writes.

After each kill, a server is started on the store (its start-up removes orphan version
files) and stopped, then the store is checked: every recorded version's file is there with
its sha256, no version file is unrecorded, acknowledged writes are present, the audit chain
verifies. One line per moment: what the kill interrupted and each check's outcome.
"""

from __future__ import annotations

import argparse
import hashlib
import http.client
import json
import os
import random
import signal
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "src"))

from sqlalchemy import func, select  # noqa: E402

from benchmarks.harness import free_port  # noqa: E402
from patrimoine.access import audit  # noqa: E402
from patrimoine.access import service as accounts  # noqa: E402
from patrimoine.access.principal import Principal  # noqa: E402
from patrimoine.bootstrap import bootstrap  # noqa: E402
from patrimoine.core.settings import Settings  # noqa: E402
from patrimoine.datastore import versions  # noqa: E402
from patrimoine.datastore.models import DatasetVersion  # noqa: E402
from patrimoine.inventory import service as inventory  # noqa: E402
from patrimoine.inventory.models import Dataset  # noqa: E402
from patrimoine.inventory.service import DatasetInput  # noqa: E402
from patrimoine.storage import migrate  # noqa: E402
from tests.support.spreadsheets import write_xlsx  # noqa: E402

PATRIMOINE = Path(sys.executable).with_name("patrimoine")
FRACTIONS = (0.1, 0.3, 0.5, 0.7, 0.8, 0.85, 0.9, 0.95, 1.0, 1.1)
SLUG = "subventions"


@dataclass
class Store:
    settings: Settings
    env: dict[str, str]
    token: str

    def services(self):  # type: ignore[no-untyped-def]
        return bootstrap(self.settings, check_schema=False)


def make_store(folder: Path, database_url: str | None) -> Store:
    settings = Settings(data_dir=folder / "data", secret_key="faults", warm_layouts=False,
                        **({"database_url": database_url} if database_url else {}))
    svc = bootstrap(settings, check_schema=False)
    migrate.upgrade(svc.db)
    system = Principal.system("faults")
    with svc.db.unit_of_work() as s:
        org = inventory.create_organisation(s, system, name="Ville de Faults", kind="ville")
        inventory.create_dataset(s, system, DatasetInput(title="Subventions",
                                                         organisation_id=org.id))
        admin = accounts.create_account(s, email="admin@faults.fr", full_name="Admin",
                                        password="mot-de-passe-solide", is_superadmin=True)
        token = accounts.create_api_token(s, admin, "faults")[1]
    svc.db.dispose()
    env = {**os.environ, "PYTHONPATH": str(ROOT / "src"),
           "PATRIMOINE_DATA_DIR": str(settings.data_dir),
           "PATRIMOINE_DATABASE_URL": settings.resolved_database_url,
           "PATRIMOINE_SECRET_KEY": "faults", "PATRIMOINE_WARM_LAYOUTS": "0",
           "PATRIMOINE_ACCESS_LOG": "0"}
    return Store(settings, env, token)


def write_csv(path: Path, rows: int, seed: int) -> Path:
    rng = random.Random(seed)
    with path.open("w", encoding="utf-8") as fh:
        fh.write("id;commune;beneficiaire;montant;date\n")
        for i in range(rows):
            fh.write(f"{i};Commune {rng.randrange(300)};Association {rng.randrange(10**6)};"
                     f"{rng.randrange(10**7) / 100};2025-{1 + i % 12:02d}-{1 + i % 28:02d}\n")
    return path


# ----------------------------------------------------------------------- the checks


def orphans(store: Store) -> int:
    """Version files (content-addressed, not hidden) that no version records."""
    svc = store.services()
    try:
        with svc.db.session() as s:
            used = set(s.scalars(select(DatasetVersion.path)))
    finally:
        svc.db.dispose()
    root = store.settings.data_dir / versions.VERSIONS_DIR
    return sum(1 for p in root.glob("*/*.parquet")
               if f"{versions.VERSIONS_DIR}/{p.parent.name}/{p.name}" not in used)


def check(store: Store) -> dict[str, object]:
    svc = store.services()
    try:
        with svc.db.session() as s:
            intact = 0
            recorded = list(s.scalars(select(DatasetVersion)))
            for v in recorded:
                path = versions.version_path(store.settings, v)
                if path.exists() and hashlib.sha256(path.read_bytes()).hexdigest() == \
                        v.content_hash:
                    intact += 1
            chain = audit.verify(s)
            datasets = int(s.scalar(select(func.count()).select_from(Dataset)) or 0)
    finally:
        svc.db.dispose()
    return {"versions": len(recorded), "intact": intact == len(recorded),
            "orphans": orphans(store), "audit": chain.ok, "datasets": datasets}


# ----------------------------------------------------------------------- processes


class Serve:
    def __init__(self, store: Store) -> None:
        self.port = free_port()
        self.proc = subprocess.Popen([str(PATRIMOINE), "serve", "--port", str(self.port)],
                                     env=store.env, stdout=subprocess.DEVNULL,
                                     stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                if self.request("GET", "/connexion")[0] == 200:
                    return
            except OSError:
                time.sleep(0.1)
        raise RuntimeError("patrimoine serve did not start")

    def request(self, method: str, path: str, body: bytes | None = None,
                headers: dict[str, str] | None = None) -> tuple[int, bytes]:
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=600)
        try:
            conn.request(method, path, body=body, headers=headers or {})
            response = conn.getresponse()
            return response.status, response.read()
        finally:
            conn.close()

    def kill(self) -> None:
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait()

    def stop(self) -> None:
        self.proc.terminate()
        self.proc.wait(30)


def restart(store: Store) -> None:
    """A server's start-up (orphan files removed), then a clean stop."""
    Serve(store).stop()


def run_killed(cmd: list[str], env: dict[str, str], delay: float) -> str:
    """Run `cmd`, SIGKILL it after `delay` s; 'finished' if it was done by then."""
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        proc.wait(delay)
        return "finished" if proc.returncode == 0 else f"failed ({proc.returncode})"
    except subprocess.TimeoutExpired:
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        return "killed"


def timed(cmd: list[str], env: dict[str, str]) -> float:
    start = time.perf_counter()
    subprocess.run(cmd, env=env, check=True, stdout=subprocess.DEVNULL)
    return time.perf_counter() - start


def multipart(path: Path) -> tuple[bytes, str]:
    boundary = uuid.uuid4().hex
    head = (f"--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; "
            f"filename=\"{path.name}\"\r\nContent-Type: text/csv\r\n\r\n").encode()
    return head + path.read_bytes() + f"\r\n--{boundary}--\r\n".encode(), boundary


# ----------------------------------------------------------------------- scenarios


Line = dict[str, object]


def ingest_cli(store: Store, tmp: Path, rows: int) -> list[Line]:
    load = [str(PATRIMOINE), "datastore", "load", "--dataset", SLUG]
    duration = timed([*load, str(write_csv(tmp / "base.csv", rows, 0))], store.env)
    out = []
    for i, fraction in enumerate(FRACTIONS, start=1):
        before = check(store)["versions"]
        state = run_killed([*load, str(write_csv(tmp / f"v{i}.csv", rows, i))], store.env,
                           duration * fraction)
        left = orphans(store)
        restart(store)
        after = check(store)
        out.append({"scenario": "ingest (CLI)", "moment": f"{fraction:.0%} of {duration:.1f} s",
                    "process": state, "new version": after["versions"] != before,
                    "orphans before restart": left, **after})
    return out


KILLED_AFTER_MOVE = """
import os, signal, sys
from pathlib import Path
from patrimoine.access.principal import Principal
from patrimoine.bootstrap import bootstrap
from patrimoine.datastore import versions
from patrimoine.datastore.ingest import ingest
from patrimoine.inventory.models import Dataset
from sqlalchemy import select

real_replace = os.replace

def replace_then_die(src, dst):  # the moment between the move into place and the commit
    real_replace(src, dst)
    os.kill(os.getpid(), signal.SIGKILL)

versions.os.replace = replace_then_die
svc = bootstrap()
with svc.db.unit_of_work() as s:
    entry = s.scalars(select(Dataset).where(Dataset.slug == sys.argv[1])).one()
    ingest(s, svc.settings, Principal.system("faults"), entry, Path(sys.argv[2]))
"""


def moved_not_committed(store: Store, tmp: Path) -> list[Line]:
    """The one moment a timed kill rarely hits: the file moved into place, not committed
    (os.replace in datastore/versions.py made to kill its own process right after)."""
    before = check(store)["versions"]
    path = write_csv(tmp / "moved.csv", 1000, 999)
    proc = subprocess.run([sys.executable, "-c", KILLED_AFTER_MOVE, SLUG, str(path)],
                          env=store.env, capture_output=True)
    left = orphans(store)
    restart(store)
    after = check(store)
    return [{"scenario": "ingest (in process)", "moment": "after the move, before the commit",
             "process": "killed" if proc.returncode == -signal.SIGKILL else
             f"exit {proc.returncode}", "new version": after["versions"] != before,
             "orphans before restart": left, **after}]


def upload_api(store: Store, tmp: Path, rows: int) -> list[Line]:
    path = write_csv(tmp / "upload-base.csv", rows, 100)
    body, boundary = multipart(path)
    headers = {"Authorization": f"Bearer {store.token}",
               "Content-Type": f"multipart/form-data; boundary={boundary}"}
    server = Serve(store)
    start = time.perf_counter()
    status, _ = server.request("POST", f"/api/v1/datasets/{SLUG}/versions", body, headers)
    duration = time.perf_counter() - start
    assert status == 201, status
    server.stop()
    out = []
    for i, fraction in enumerate(FRACTIONS, start=1):
        body, boundary = multipart(write_csv(tmp / f"upload-{i}.csv", rows, 100 + i))
        headers["Content-Type"] = f"multipart/form-data; boundary={boundary}"
        before = check(store)["versions"]
        server = Serve(store)
        answered: list[int] = []

        def send(server: Serve = server, body: bytes = body,
                 answered: list[int] = answered) -> None:
            try:
                answered.append(server.request("POST", f"/api/v1/datasets/{SLUG}/versions",
                                               body, headers)[0])
            except (OSError, http.client.HTTPException):
                pass

        sender = threading.Thread(target=send)
        sender.start()
        time.sleep(duration * fraction)
        server.kill()
        sender.join()
        left = orphans(store)
        restart(store)
        after = check(store)
        acknowledged = answered == [201]
        out.append({"scenario": "upload (API)", "moment": f"{fraction:.0%} of {duration:.1f} s",
                    "process": f"answered {answered[0]}" if answered else "killed",
                    "new version": after["versions"] != before,
                    "acknowledged kept": (after["versions"] != before) if acknowledged else "-",
                    "orphans before restart": left, **after})
    return out


def inventory_import(store: Store, tmp: Path, database_url: str | None) -> list[Line]:
    xlsx = write_xlsx(tmp / "audit.xlsx", title_row=True)
    cmd = [str(PATRIMOINE), "inventory", "import", str(xlsx)]
    if database_url is None:  # timed once uninterrupted on a store of its own
        duration = timed(cmd, make_store(tmp / "calibration", None).env)
    else:
        duration = timed([*cmd, "--dry-run"], store.env) * 1.5
    out = []
    base = check(store)["datasets"]
    for fraction in FRACTIONS:
        state = run_killed(cmd, store.env, duration * fraction)
        after = check(store)
        created = int(after["datasets"]) - int(base)  # type: ignore[call-overload]
        out.append({"scenario": "inventory import (CLI)",
                    "moment": f"{fraction:.0%} of {duration:.1f} s", "process": state,
                    "rows created": created, "all or nothing": created in (0, 653), **after})
        if created:
            break  # once imported, a re-import changes nothing: no later moment to test
    return out


def acknowledged_writes(store: Store, count: int) -> list[Line]:
    headers = {"Authorization": f"Bearer {store.token}", "Content-Type": "application/json"}
    svc = store.services()
    with svc.db.session() as s:
        org_id = s.scalar(select(Dataset.organisation_id).where(Dataset.slug == SLUG))
    svc.db.dispose()
    kept = 0
    for i in range(count):
        server = Serve(store)
        text = f"Écrit juste avant l'arrêt n° {i}"
        body = json.dumps({"title": "Subventions", "organisation_id": org_id,
                           "description": text}).encode()
        status, _ = server.request("PUT", f"/api/v1/datasets/{SLUG}", body, headers)
        server.kill()
        assert status == 200, status
        svc = store.services()
        with svc.db.session() as s:
            kept += s.scalar(select(Dataset.description).where(Dataset.slug == SLUG)) == text
        svc.db.dispose()
    return [{"scenario": "API writes", "moment": "kill -9 right after each 200",
             "process": f"{count} writes", "acknowledged kept": f"{kept}/{count}",
             **check(store)}]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=200_000)
    parser.add_argument("--writes", type=int, default=10)
    parser.add_argument("--database-url", default=None)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        store = make_store(Path(tmp), args.database_url)
        lines = [*ingest_cli(store, Path(tmp), args.rows),
                 *upload_api(store, Path(tmp), args.rows),
                 *moved_not_committed(store, Path(tmp)),
                 *inventory_import(store, Path(tmp), args.database_url),
                 *acknowledged_writes(store, args.writes)]
    keys = ["scenario", "moment", "process", "new version", "rows created", "acknowledged kept",
            "orphans before restart", "orphans", "intact", "audit"]
    print("| " + " | ".join(keys) + " |")
    print("|" + "---|" * len(keys))
    for line in lines:
        print("| " + " | ".join(str(line.get(k, "-")) for k in keys) + " |")
    bad = [ln for ln in lines if ln["orphans"] or not ln["intact"] or not ln["audit"]
           or ln.get("all or nothing") is False or ln.get("acknowledged kept") is False
           or (isinstance(ln.get("acknowledged kept"), str) and "/" in str(
               ln["acknowledged kept"]) and str(ln["acknowledged kept"]).split("/")[0]
               != str(ln["acknowledged kept"]).split("/")[1])]
    print(f"{len(lines)} moments, {len(bad)} with a loss or a leftover.")
    sys.exit(1 if bad else 0)


if __name__ == "__main__":
    main()
