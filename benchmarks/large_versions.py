"""Large versions: ingest, layout build and every query shape of `make bench` at 1M, 10M and
50M rows, beside DuckDB's floor on the same Parquet file.

    .venv/bin/python benchmarks/large_versions.py                  # 1M and 10M rows
    .venv/bin/python benchmarks/large_versions.py --rows 1000000 10000000 50000000

For each size, in a fresh data folder:
1. the CSV of benchmarks/frenchcsv.py, written line by line (a 50M-row file is 9 GB: it is
   skipped, with the reason printed, when the disk cannot hold it, its Parquet file and
   its layout);
2. `patrimoine datastore load` (wall time and peak RSS of the process tree);
3. a server whose layout build fails (PATRIMOINE_LAYOUT_MEMORY_LIMIT=1MB: a first request
   records the failure, every later one reads the Parquet file): every query shape, timed;
4. the layout built alone (`engine.prepare_version` in a process of its own): wall time,
   peak RSS, peak bytes in the temporary directory it spills to, and the layout's size;
5. a server with the layout: every query shape, timed;
6. DuckDB alone, in process, on the version's own Parquet file: the floor.

HTTP timings are client-side medians (sent → last byte) over keep-alive connections, after
two untimed requests per shape; a shape answered otherwise than 200 (a query over the time
limit: 503) is shown as refused. Results are printed as a Markdown table and written to
var/bench/large-versions-results.json.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "benchmarks"))

import frenchcsv  # noqa: E402
from datastore import (  # noqa: E402
    FILTER_COMMUNE,
    OPEN_DATASET,
    PAGE_TYPES,
    SEARCH_WORD,
    patrimoine_paths,
)
from harness import (  # noqa: E402
    Server,
    Timing,
    environment,
    free_port,
    run_measured,
    time_calls,
    time_download,
    time_requests,
)

BIN = Path(sys.executable).parent
PATRIMOINE = str(BIN / "patrimoine")
# Disk a size needs besides its CSV: Parquet (~0.3x the CSV), layout and row store (~2.7x),
# the build's temporary files (~1x), with a margin.
DISK_FACTOR = 6.0
CSV_BYTES_PER_ROW = 183

BUILD = """
import json, sys
from patrimoine.core.settings import Settings
from patrimoine.bootstrap import bootstrap
from patrimoine.datastore import engine
from patrimoine.datastore.models import DatasetVersion
svc = bootstrap(Settings())
with svc.db.session() as s:
    version = s.get(DatasetVersion, int(sys.argv[1]))
engine.prepare_version(svc.settings, version, force=True)
"""


def disk_free(path: Path) -> int:
    return shutil.disk_usage(path).free


def folder_bytes(path: Path) -> int:
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file()) if path.exists() else 0


class PeakBytes:
    """The most bytes a folder held while the block ran (sampled every 0.2 s)."""

    def __init__(self, folder: Path) -> None:
        self.folder, self.peak, self._done = folder, 0, threading.Event()

    def __enter__(self) -> PeakBytes:
        def sample() -> None:
            while not self._done.wait(0.2):
                try:
                    self.peak = max(self.peak, folder_bytes(self.folder))
                except OSError:  # a file removed while listed
                    pass
        self._thread = threading.Thread(target=sample, daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._done.set()
        self._thread.join()


def serve_and_time(env: dict[str, str], paths: dict[str, str], n: int,
                   exports: int) -> tuple[dict[str, Timing], float]:
    port = free_port()
    with Server([PATRIMOINE, "serve", "--port", str(port)], port, env=env,
                ready_path="/api/v1/datasets/subventions/versions") as server:
        conn = server.connection()
        timings: dict[str, Timing] = {}
        for name, path in paths.items():
            if name == "csv_export":
                if exports:
                    timings[name] = time_download(f"http://127.0.0.1:{port}{path}", exports)
                continue
            try:
                time_requests(conn, path, 1)  # with time_requests' own: two untimed requests
                timings[name] = time_requests(conn, path, n)
            except RuntimeError as exc:  # e.g. 503: over the query time limit
                print(f"    {name}: {exc}", flush=True)
                conn = server.connection()
                continue
            print(f"    {name}: {timings[name].median_ms:.1f} ms", flush=True)
        return timings, server.rss_mb()


def floor(parquet: Path, n: int, deep_offset: int) -> dict[str, Timing]:
    import duckdb

    con = duckdb.connect(config={"threads": 2, "memory_limit": "1GB"})
    con.execute(f"CREATE VIEW t AS SELECT * FROM read_parquet('{parquet}')")

    def page(sql: str, *params: object) -> None:
        con.execute(sql, list(params)).fetchall()

    calls = {
        "first_page": lambda: (page("SELECT * FROM t LIMIT 100"), page("SELECT count(*) FROM t")),
        "filter_page": lambda: (page("SELECT * FROM t WHERE commune = ? LIMIT 100", FILTER_COMMUNE),
                                page("SELECT count(*) FROM t WHERE commune = ?", FILTER_COMMUNE)),
        "deep_page": lambda: page(f"SELECT * FROM t LIMIT 100 OFFSET {deep_offset}"),
        "sorted_page": lambda: page("SELECT * FROM t ORDER BY montant DESC LIMIT 100"),
        "facet": lambda: page("SELECT categorie, count(*) n FROM t GROUP BY 1 ORDER BY n DESC LIMIT 30"),
        "group_by": lambda: page("SELECT categorie, count(*), sum(montant) FROM t GROUP BY 1"),
        "search": lambda: page("SELECT * FROM t WHERE strip_accents(lower(objet)) LIKE ? LIMIT 100",
                               f"%{SEARCH_WORD.replace('é', 'e')}%"),
    }
    return {name: time_calls(call, n) for name, call in calls.items()}


def measure(rows: int, work: Path, n: int, exports: int) -> dict[str, object]:
    csv = work / f"subventions_{rows}.csv"
    need = rows * CSV_BYTES_PER_ROW * (DISK_FACTOR if csv.exists() else DISK_FACTOR + 1)
    if disk_free(work) < need:
        reason = (f"skipped: {disk_free(work) / 1e9:.0f} GB free on the disk, about "
                  f"{need / 1e9:.0f} GB needed")
        print(f"{rows:,} rows: {reason}", flush=True)
        return {"rows": rows, "skipped": reason}
    print(f"{rows:,} rows: writing the CSV", flush=True)
    frenchcsv.write(csv, rows)
    data_dir = work / f"large-{rows}"
    shutil.rmtree(data_dir, ignore_errors=True)
    env = environment(PATRIMOINE_DATA_DIR=str(data_dir))
    env.pop("PATRIMOINE_DATABASE_URL", None)
    run_measured([PATRIMOINE, "db", "upgrade"], env=env)
    run_measured([PATRIMOINE, "organisation", "create", "Ville de Banc-d'Essai"], env=env)
    print(f"{rows:,} rows: ingest", flush=True)
    ingest = run_measured([PATRIMOINE, "datastore", "load", str(csv), "--dataset",
                           "subventions", "--json"], env=env)
    version = json.loads(ingest.stdout)
    run_measured([str(BIN / "python"), "-c", OPEN_DATASET], env=env)
    parquet = next((data_dir / "versions").rglob(f"{version['content_hash']}.parquet"))
    deep = min(500_000, rows // 2)
    paths = patrimoine_paths("subventions", deep)

    print(f"{rows:,} rows: served from the Parquet file (layout build failing)", flush=True)
    failing = {**env, "PATRIMOINE_WARM_LAYOUTS": "0", "PATRIMOINE_LAYOUT_MEMORY_LIMIT": "1MB"}
    from_parquet, parquet_rss = serve_and_time(failing, paths, n, 0)
    cache = data_dir / "cache" / "duckdb"
    for record in cache.glob("*.failed.json"):
        record.unlink()

    print(f"{rows:,} rows: layout build", flush=True)
    with PeakBytes(data_dir / "tmp" / "duckdb") as spilled:
        build = run_measured([str(BIN / "python"), "-c", BUILD, str(version["id"])], env=env)
    layout_bytes = sum(p.stat().st_size for p in cache.glob(f"{version['content_hash']}-v*")
                       if p.is_file())

    print(f"{rows:,} rows: served from the layout", flush=True)
    laid_out, layout_rss = serve_and_time({**env, "PATRIMOINE_WARM_LAYOUTS": "0"}, paths, n,
                                          exports)
    print(f"{rows:,} rows: DuckDB floor", flush=True)
    duck = floor(parquet, n, deep)
    return {
        "rows": rows, "csv_bytes": csv.stat().st_size, "parquet_bytes": parquet.stat().st_size,
        "ingest_s": ingest.seconds, "ingest_rss_mb": ingest.peak_rss_mb,
        "build_s": build.seconds, "build_rss_mb": build.peak_rss_mb,
        "build_spill_bytes": spilled.peak, "layout_bytes": layout_bytes,
        "from_parquet": from_parquet, "from_parquet_server_rss_mb": parquet_rss,
        "layout": laid_out, "layout_server_rss_mb": layout_rss, "floor": duck,
    }


def report(results: list[dict[str, object]]) -> str:
    done = [r for r in results if "skipped" not in r]
    lines = ["| | " + " | ".join(f"{r['rows']:,} rows" for r in done) + " |",
             "|---|" + "---:|" * len(done)]

    def row(label: str, cell) -> None:  # type: ignore[no-untyped-def]
        lines.append(f"| {label} | " + " | ".join(cell(r) for r in done) + " |")

    row("CSV / Parquet MB", lambda r: f"{r['csv_bytes'] / 1e6:,.0f} / {r['parquet_bytes'] / 1e6:,.0f}")
    row("ingest s (peak RSS MB)", lambda r: f"{r['ingest_s']:.1f} ({r['ingest_rss_mb']:,.0f})")
    row("layout build s", lambda r: f"{r['build_s']:.1f}")
    row("layout build peak RSS MB", lambda r: f"{r['build_rss_mb']:,.0f}")
    row("layout build peak spill MB", lambda r: f"{r['build_spill_bytes'] / 1e6:,.0f}")
    row("layout + row store on disk MB", lambda r: f"{r['layout_bytes'] / 1e6:,.0f}")
    lines += ["", "Median ms: from the layout / from the Parquet file (no layout) / DuckDB "
              "floor on the same Parquet file (in process, no HTTP)", "",
              "| shape | " + " | ".join(f"{r['rows']:,} rows" for r in done) + " |",
              "|---|" + "---:|" * len(done)]
    for name in PAGE_TYPES:
        if name == "csv_export":
            continue
        row(name, lambda r, name=name: " / ".join(
            f"{r[kind][name].median_ms:.1f}" if name in r[kind] else "refused"
            for kind in ("layout", "from_parquet", "floor")))
    row("csv_export (whole version), s", lambda r: f"{r['layout']['csv_export'].median_ms / 1000:.1f}"
        if "csv_export" in r["layout"] else "—")
    row("server RSS after the run MB (layout / Parquet)",
        lambda r: f"{r['layout_server_rss_mb']:,.0f} / {r['from_parquet_server_rss_mb']:,.0f}")
    for r in results:
        if "skipped" in r:
            lines.append(f"\n{r['rows']:,} rows: {r['skipped']}.")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, nargs="+", default=[1_000_000, 10_000_000])
    parser.add_argument("--requests", type=int, default=20, help="timed requests per shape")
    parser.add_argument("--exports", type=int, default=1,
                        help="timed whole CSV exports per size (0: none)")
    parser.add_argument("--work", type=Path, default=ROOT / "var" / "bench")
    args = parser.parse_args()
    args.work.mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()
    results = [measure(rows, args.work, args.requests, args.exports) for rows in args.rows]
    text = report(results)
    print(f"\n{text}\n\n(total {time.perf_counter() - started:,.0f} s, load average "
          f"{os.getloadavg()[0]:.1f} at the end)")
    out = args.work / "large-versions-results.json"
    out.write_text(json.dumps(results, default=lambda o: o.__dict__, indent=2))
    print(f"Résultats bruts : {out}")


if __name__ == "__main__":
    main()
