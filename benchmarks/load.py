"""Many visitors at once: `patrimoine serve` on the demo territory under 50 and 200 concurrent
clients, SQLite and PostgreSQL, 1 and 4 worker processes; then Datasette beside it on the
same machine for comparable reads (a table page, a filtered page, a CSV export).

    .venv/bin/python benchmarks/load.py [--seconds 60] [--clients 50 200] [--workers 1 4]
        [--backends sqlite postgresql] [--skip-datasette]

Each client is a loop sending one request after the other (keep-alive) for `--seconds`; the
mix is what a portal sees: home, catalogue and searches, dataset pages, API pages with
varied filters, sorts and offsets, facets, CSV exports, CKAN `package_search` with varied
`q`, downloads (counted) and HEAD checks. Printed per run: requests/s, p50/p95/p99 latency
(client side, sent → last byte) and errors (HTTP 5xx, 4xx the mix never expects, timeouts).
The client runs on the same machine as the server: on 2 cores it takes part of the CPU.
PostgreSQL is a throw-away cluster (tests/support/postgres.py). Datasette comes from
.venv-bench (`make bench` makes it) and serves a SQLite copy of the same version.
"""

from __future__ import annotations

import argparse
import http.client
import os
import random
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import quote

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))
sys.path.insert(0, str(ROOT))

import pyarrow.parquet as pq  # noqa: E402
from harness import Server, free_port  # noqa: E402

from patrimoine.bootstrap import bootstrap  # noqa: E402
from patrimoine.core.settings import Settings  # noqa: E402
from patrimoine.datastore.versions import version_path  # noqa: E402
from patrimoine.interop import public  # noqa: E402

PATRIMOINE = Path(sys.executable).with_name("patrimoine")
DATASETTE = ROOT / ".venv-bench" / "bin" / "datasette"
BROWSER = {"User-Agent": "Mozilla/5.0 (X11; Linux x86_64) Firefox/128.0"}
WORDS = ["velo", "arbres", "ecole", "budget", "eau", "parking", "subventions", "dechets",
         "bibliotheque", "transport", "population", "zzz", "*:*", "tags:environnement",
         "organization:ligerac res_format:CSV"]


@dataclass
class Target:
    slug: str
    number: int
    text_column: str | None
    value: str | None
    number_column: str | None
    rows: int


@dataclass
class Result:
    seconds: float
    latencies: list[float] = field(default_factory=list)
    errors: int = 0
    kinds: dict[str, int] = field(default_factory=dict)

    def line(self) -> str:
        done = sorted(self.latencies)
        if not done:
            return "no request answered"

        def pct(p: float) -> float:
            return done[min(len(done) - 1, int(p * len(done)))] * 1000

        return (f"{len(done) / self.seconds:7.1f} req/s  p50 {statistics.median(done) * 1000:6.0f} "
                f"ms  p95 {pct(0.95):6.0f} ms  p99 {pct(0.99):6.0f} ms  errors {self.errors}"
                + (f" {self.kinds}" if self.kinds else ""))


def targets(env: dict[str, str]) -> list[Target]:
    settings = Settings(data_dir=Path(env["PATRIMOINE_DATA_DIR"]),
                        database_url=env.get("PATRIMOINE_DATABASE_URL"))
    svc = bootstrap(settings, check_schema=False)
    out = []
    with svc.db.session() as s:
        for entry in public.everything(s, settings):
            v = entry.version
            if v is None or not v.row_count:
                continue
            cols = {c["name"]: c["type"] for c in v.columns}
            text = next((n for n, t in cols.items() if t == "string"), None)
            num = next((n for n, t in cols.items() if t in ("integer", "number")), None)
            value = None
            if text:
                first = pq.read_table(version_path(settings, v), columns=[text]).column(0)
                value = next((x for x in first.to_pylist() if x), None)
            out.append(Target(entry.dataset.slug, v.number, text, value, num, v.row_count))
    svc.db.dispose()
    return out


def mix(ts: list[Target], rng: random.Random) -> tuple[str, str]:
    """(method, path) of one request of the portal's mix."""
    t = rng.choice(ts)
    api = f"/api/v1/datasets/{t.slug}/versions/{t.number}"
    roll = rng.random()
    if roll < 0.10:
        return "GET", rng.choice(["/", "/datasets", "/organisations"])
    if roll < 0.20:
        return "GET", f"/datasets?q={quote(rng.choice(WORDS[:12]))}&page={rng.randint(1, 2)}"
    if roll < 0.40:
        return "GET", f"/datasets/{t.slug}"
    if roll < 0.47:
        return "GET", f"/datasets/{t.slug}?page={rng.randint(1, 3)}"
    if roll < 0.65:
        offset = rng.randint(0, max(0, t.rows - 20))
        sort = f"&sort=-{quote(t.number_column)}" if t.number_column and rng.random() < .5 else ""
        return "GET", f"{api}/records?limit=20&offset={offset}{sort}"
    if roll < 0.75 and t.text_column and t.value:
        where = quote(f"{t.text_column}:eq:{t.value}")
        return "GET", f"{api}/records?limit=50&where={where}"
    if roll < 0.80 and t.text_column:
        return "GET", f"{api}/facets?facet={quote(t.text_column)}"
    if roll < 0.85:
        return "GET", f"{api}/export.csv"
    if roll < 0.95:
        q = quote(rng.choice(WORDS))
        return "GET", f"/api/3/action/package_search?q={q}&rows={rng.choice([5, 10, 20])}"
    if roll < 0.98:
        return "GET", f"/datasets/{t.slug}/telecharger?format=csv"
    return "HEAD", f"/datasets/{t.slug}"


def hammer(port: int, clients: int, seconds: float, pick, seed: int = 1  # type: ignore[no-untyped-def]
           ) -> Result:
    """`clients` threads, each with its own keep-alive connection, sending requests until
    the deadline; latencies of the answered ones, the others counted as errors."""
    result = Result(seconds)
    lock = threading.Lock()
    deadline = time.monotonic() + seconds

    def visitor(n: int) -> None:
        rng = random.Random(seed * 1000 + n)
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        latencies, kinds = [], {}
        while time.monotonic() < deadline:
            method, path = pick(rng)
            start = time.perf_counter()
            try:
                conn.request(method, path, headers=BROWSER)
                response = conn.getresponse()
                while response.read(1 << 20):
                    pass
                ok, kind = response.status < 400, str(response.status)
                if response.will_close:
                    conn.close()
            except (OSError, http.client.HTTPException) as exc:
                ok, kind = False, type(exc).__name__
                conn.close()
            if ok:
                latencies.append(time.perf_counter() - start)
            else:
                kinds[kind] = kinds.get(kind, 0) + 1
        conn.close()
        with lock:
            result.latencies.extend(latencies)
            for kind, count in kinds.items():
                result.errors += count
                result.kinds[kind] = result.kinds.get(kind, 0) + count

    threads = [threading.Thread(target=visitor, args=(i,)) for i in range(clients)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return result


def warm_up(port: int, ts: list[Target]) -> None:
    """One untimed pass over every dataset (layouts, sort positions and exports built, as a
    server that has run for a while has them)."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=600)
    for t in ts:
        api = f"/api/v1/datasets/{t.slug}/versions/{t.number}"
        sort = [f"{api}/records?limit=20&sort=-{quote(t.number_column)}"] if t.number_column \
            else []
        for path in (f"/datasets/{t.slug}", f"{api}/records?limit=20", f"{api}/export.csv",
                     *sort):
            conn.request("GET", path, headers=BROWSER)
            conn.getresponse().read()
    conn.close()


def serve(env: dict[str, str], workers: int) -> Server:
    port = free_port()
    cmd = [str(PATRIMOINE), "serve", "--port", str(port)]
    if workers > 1:
        cmd += ["--workers", str(workers)]
    return Server(cmd, port, {**os.environ, **env, "PATRIMOINE_ACCESS_LOG": "false"},
                  ready_path="/connexion")


def prepare(env: dict[str, str]) -> None:
    full = {**os.environ, **env}
    for args in (["db", "upgrade"], ["demo", "--if-empty"]):
        subprocess.run([str(PATRIMOINE), *args], env=full, check=True,
                       stdout=subprocess.DEVNULL)


def datasette_copy(env: dict[str, str], t: Target, db: Path) -> None:
    """The version's rows in a SQLite table `t`, indexed on the filtered column."""
    settings = Settings(data_dir=Path(env["PATRIMOINE_DATA_DIR"]),
                        database_url=env.get("PATRIMOINE_DATABASE_URL"))
    svc = bootstrap(settings, check_schema=False)
    with svc.db.session() as s:
        entry = next(e for e in public.everything(s, settings) if e.dataset.slug == t.slug)
        assert entry.version is not None
        table = pq.read_table(version_path(settings, entry.version))
    svc.db.dispose()
    names = [n for n in table.column_names if n != "_row"]
    con = sqlite3.connect(db)
    con.execute(f"CREATE TABLE t ({', '.join(chr(34) + n + chr(34) for n in names)})")
    rows = zip(*(table.column(n).to_pylist() for n in names), strict=True)
    con.executemany(f"INSERT INTO t VALUES ({', '.join('?' * len(names))})",
                    ([str(v) if hasattr(v, "isoformat") else v for v in r] for r in rows))
    if t.text_column:
        con.execute(f'CREATE INDEX t_filter ON t("{t.text_column}")')
    con.commit()
    con.close()


def compare(env: dict[str, str], ts: list[Target], clients: int, seconds: float,
            work: Path) -> None:
    t = max((x for x in ts if x.text_column and x.value), key=lambda x: x.rows)
    api = f"/api/v1/datasets/{t.slug}/versions/{t.number}"
    where = quote(f"{t.text_column}:eq:{t.value}")
    ours = {"table page": f"{api}/records?limit=100",
            "filtered page": f"{api}/records?limit=100&where={where}",
            "CSV export": f"{api}/export.csv"}
    col, val = quote(t.text_column or ""), quote(t.value or "")
    theirs = {"table page": "/d/t.json?_size=100",
              "filtered page": f"/d/t.json?_size=100&{col}={val}",
              "CSV export": "/d/t.csv?_stream=on&_size=max"}
    db = work / "d.db"
    datasette_copy(env, t, db)
    print(f"\nDatasette beside Patrimoine ({t.slug}: {t.rows} rows), {clients} clients, "
          f"{seconds:.0f} s each, requests/s:")
    port = free_port()
    with Server([str(DATASETTE), "serve", "-i", str(db), "--port", str(port),
                 "--setting", "sql_time_limit_ms", "20000", "--setting",
                 "suggest_facets", "off"], port, ready_path="/d.json") as ds, \
            serve(env, 1) as pat:
        warm_up(pat.port, ts)
        for name in ours:
            p = hammer(pat.port, clients, seconds, lambda _r, path=ours[name]: ("GET", path))
            d = hammer(ds.port, clients, seconds, lambda _r, path=theirs[name]: ("GET", path))
            print(f"  {name:14} Patrimoine {p.line()}")
            print(f"  {'':14} Datasette  {d.line()}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument("--clients", type=int, nargs="+", default=[50, 200])
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 4])
    parser.add_argument("--backends", nargs="+", default=["sqlite", "postgresql"],
                        choices=["sqlite", "postgresql"])
    parser.add_argument("--skip-datasette", action="store_true")
    args = parser.parse_args()
    print(f"{os.cpu_count()} cores; load client on the same machine; {args.seconds:.0f} s a run")
    for backend in args.backends:
        with tempfile.TemporaryDirectory(prefix="patrimoine-load-") as tmp:
            work = Path(tmp)
            env = {"PATRIMOINE_DATA_DIR": str(work / "data"), "PATRIMOINE_SECRET_KEY": "bench",
                   "PATRIMOINE_PUBLIC_URL": "http://127.0.0.1"}
            cluster = None
            if backend == "postgresql":
                from tests.support.postgres import TemporaryCluster
                cluster = TemporaryCluster().start()
                subprocess.run([str(cluster.bindir / "createdb"), "-h", "127.0.0.1", "-p",
                                str(cluster.port), "-U", cluster.user, "load"], check=True)
                env["PATRIMOINE_DATABASE_URL"] = cluster.url("load")
            try:
                prepare(env)
                ts = targets(env)
                print(f"\n{backend}: demo territory, {len(ts)} public datasets with data")
                for workers in args.workers:
                    with serve(env, workers) as server:
                        warm_up(server.port, ts)
                        for clients in args.clients:
                            result = hammer(server.port, clients, args.seconds,
                                            lambda rng, ts=ts: mix(ts, rng))
                            print(f"  {workers} worker(s), {clients:3} clients: {result.line()}")
                if backend == "sqlite" and not args.skip_datasette and DATASETTE.exists():
                    compare(env, ts, args.clients[0], args.seconds, work)
            finally:
                if cluster is not None:
                    cluster.stop()


if __name__ == "__main__":
    main()
