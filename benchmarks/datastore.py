"""Patrimoine's datastore side by side with Datasette (what a city would otherwise pick) and
DuckDB itself (the floor), on one generated French-style CSV, in one run.

    make bench                      # 1,000,000 rows
    .venv/bin/python benchmarks/datastore.py --rows 200000 --requests 20

Datasette runs from its own virtual environment (.venv-bench, made by `make bench`) in its
best configuration: sqlite-utils `insert --csv`, then indexes on the filtered, sorted and
faceted columns, a full-text index, ANALYZE, limits raised and facet suggestions off.
Results are printed and written to var/bench/datastore-results.json.
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
import urllib.parse
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "benchmarks"))

import frenchcsv  # noqa: E402
from harness import (  # noqa: E402
    Server,
    Timing,
    environment,
    free_port,
    median_run,
    run_measured,
    time_calls,
    time_download,
    time_requests,
)

BIN = ROOT / ".venv" / "bin"
BENCH_BIN = ROOT / ".venv-bench" / "bin"
FILTER_COMMUNE = "Saint-Étienne"
SEARCH_WORD = "randonnée"
DEEP_OFFSET = 500_000
# Ingests a few seconds long are timed this many times (median): one run moves by ±0.1 s.
INGEST_RUNS = 3

DUCKDB_INGEST = """
import sys, duckdb
con = duckdb.connect()
con.execute("COPY (SELECT * FROM read_csv(?, delim=';', header=true, decimal_separator=',',
            dateformat='%d/%m/%Y')) TO '" + sys.argv[2] + "' (FORMAT parquet)", [sys.argv[1]])
""".replace("\n            ", " ")

# The loaded dataset is made open data, as a publisher would, so anonymous requests read it.
OPEN_DATASET = """
from patrimoine.access.principal import Principal
from patrimoine.cli.common import services
from patrimoine.inventory import service
from patrimoine.inventory.models import AccessLevel, LifecycleStage
svc = services()
with svc.db.unit_of_work() as session:
    who = Principal.system("benchmark")
    dataset = service.get_dataset(session, who, "subventions")
    data = service.dataset_input(dataset).model_copy(update={
        "access_level": AccessLevel.OPEN, "lifecycle_stage": LifecycleStage.PUBLISHED})
    service.update_dataset(session, who, dataset, data)
"""

PAGE_TYPES = ["first_page", "filter_page", "deep_page", "sorted_page", "facet", "group_by",
              "search", "csv_export"]


def patrimoine_paths(slug: str, deep_offset: int) -> dict[str, str]:
    base = f"/api/v1/datasets/{slug}"
    q = urllib.parse.quote
    return {
        "first_page": f"{base}/records?limit=100",
        "filter_page": f"{base}/records?limit=100&where=commune:eq:{q(FILTER_COMMUNE)}",
        "deep_page": f"{base}/records?limit=100&offset={deep_offset}",
        "sorted_page": f"{base}/records?limit=100&sort=-montant",
        "facet": f"{base}/facets?facet=categorie",
        "group_by": f"{base}/aggregate?group_by=categorie&metric=sum:montant&metric=count",
        "search": f"{base}/records?limit=100&q={q(SEARCH_WORD)}",
        "csv_export": f"{base}/export.csv",
    }


def datasette_paths(deep_offset: int) -> dict[str, str]:
    table = "/bench/subventions"
    q = urllib.parse.quote
    # montant arrives as text ("1 234,56"): the SQL a user would write to sum it.
    total = ("select categorie, sum(cast(replace(replace(montant, ' ', ''), ',', '.') as real))"
             " as total, count(*) as n from subventions group by categorie")
    return {
        "first_page": f"{table}.json?_size=100",
        "filter_page": f"{table}.json?_size=100&commune={q(FILTER_COMMUNE)}",
        # Datasette pages deep by keyset (_next), its fastest way there.
        "deep_page": f"{table}.json?_size=100&_next={deep_offset}",
        "sorted_page": f"{table}.json?_size=100&_sort_desc=montant",
        "facet": f"{table}.json?_size=0&_facet=categorie",
        "group_by": f"/bench.json?sql={q(total)}",
        "search": f"{table}.json?_size=100&_search={q(SEARCH_WORD)}",
        "csv_export": f"{table}.csv?_stream=on&_size=max",
    }


def measure_paths(server: Server, conn, paths: dict[str, str], n: int) -> dict[str, Timing]:  # type: ignore[no-untyped-def]
    for path in paths.values():  # first requests build caches: none of them is timed
        time_requests(conn, path, 2)
    timings = {name: time_requests(conn, path, n) for name, path in paths.items()
               if name != "csv_export"}
    timings["csv_export"] = time_download(f"http://127.0.0.1:{server.port}{paths['csv_export']}", 3)
    return timings


def measure_duckdb(csv: Path, work: Path, n: int) -> dict[str, object]:
    import duckdb

    parquet = work / "duckdb-floor.parquet"
    ingest = median_run([run_measured([str(BIN / "python"), "-c", DUCKDB_INGEST, str(csv),
                                       str(parquet)]) for _ in range(INGEST_RUNS)])
    con = duckdb.connect()
    # DuckDB's sniffer leaves "22 939,73" as text: the floor's queries get a real number.
    con.execute("CREATE TABLE t AS SELECT * REPLACE (CAST(replace(replace(montant, ' ', ''), "
                f"',', '.') AS DOUBLE) AS montant) FROM read_parquet('{parquet}')")
    export = work / "duckdb-export.csv"

    def page(sql: str, *params: object) -> None:
        con.execute(sql, list(params)).fetchall()

    calls = {
        "first_page": lambda: (page("SELECT * FROM t LIMIT 100"), page("SELECT count(*) FROM t")),
        "filter_page": lambda: (page("SELECT * FROM t WHERE commune = ? LIMIT 100", FILTER_COMMUNE),
                                page("SELECT count(*) FROM t WHERE commune = ?", FILTER_COMMUNE)),
        "deep_page": lambda: page(f"SELECT * FROM t LIMIT 100 OFFSET {DEEP_OFFSET}"),
        "sorted_page": lambda: page("SELECT * FROM t ORDER BY montant DESC LIMIT 100"),
        "facet": lambda: page("SELECT categorie, count(*) n FROM t GROUP BY 1 ORDER BY n DESC LIMIT 30"),
        "group_by": lambda: page("SELECT categorie, count(*), sum(montant) FROM t GROUP BY 1"),
        "search": lambda: page("SELECT * FROM t WHERE strip_accents(lower(objet)) LIKE ? LIMIT 100",
                               "%randonnee%"),
        "csv_export": lambda: con.execute(f"COPY t TO '{export}' (HEADER)"),
    }
    timings = {name: time_calls(call, 3 if name == "csv_export" else n) for name, call in calls.items()}
    timings["csv_export"].bytes = export.stat().st_size
    return {"ingest_s": ingest.seconds, "ingest_rss_mb": ingest.peak_rss_mb, "timings": timings}


def measure_datasette(csv: Path, work: Path, n: int) -> dict[str, object]:
    db = work / "bench.db"
    db.unlink(missing_ok=True)
    utils = str(BENCH_BIN / "sqlite-utils")
    ingest = run_measured([utils, "insert", str(db), "subventions", str(csv), "--csv",
                           "--delimiter", ";"])
    for column in ("commune", "categorie", "montant"):
        run_measured([utils, "create-index", str(db), "subventions", column])
    run_measured([utils, "enable-fts", str(db), "subventions", "objet", "nom_beneficiaire",
                  "--create-triggers"])
    run_measured([utils, "analyze", str(db)])
    port = free_port()
    cmd = [str(BENCH_BIN / "datasette"), "serve", "-i", str(db), "--port", str(port),
           "--setting", "sql_time_limit_ms", "600000", "--setting", "facet_time_limit_ms",
           "600000", "--setting", "max_csv_mb", "0", "--setting", "suggest_facets", "off"]
    with Server(cmd, port, ready_path="/-/versions.json") as server:
        conn = server.connection()
        timings = measure_paths(server, conn, datasette_paths(DEEP_OFFSET), n)
        rss = server.rss_mb()
    return {"ingest_s": ingest.seconds, "ingest_rss_mb": ingest.peak_rss_mb, "timings": timings,
            "server_rss_mb": rss}


def measure_patrimoine(csv: Path, work: Path, n: int) -> dict[str, object]:
    data_dir = work / "patrimoine"
    env = environment(PATRIMOINE_DATA_DIR=str(data_dir))
    env.pop("PATRIMOINE_DATABASE_URL", None)
    patrimoine = str(BIN / "patrimoine")
    runs = []
    for _ in range(INGEST_RUNS):  # each into a new store: the same content makes no new version
        shutil.rmtree(data_dir, ignore_errors=True)
        run_measured([patrimoine, "db", "upgrade"], env=env)
        run_measured([patrimoine, "organisation", "create", "Ville de Banc-d'Essai"], env=env)
        runs.append(run_measured([patrimoine, "datastore", "load", str(csv), "--dataset",
                                  "subventions", "--json"], env=env))
    ingest = median_run(runs)
    run_measured([str(BIN / "python"), "-c", OPEN_DATASET], env=env)
    port = free_port()
    with Server([patrimoine, "serve", "--port", str(port)], port, env=env,
                ready_path="/api/v1/datasets/subventions/versions") as server:
        conn = server.connection()
        timings = measure_paths(server, conn, patrimoine_paths("subventions", DEEP_OFFSET), n)
        rss = server.rss_mb()
    return {"ingest_s": ingest.seconds, "ingest_rss_mb": ingest.peak_rss_mb, "timings": timings,
            "server_rss_mb": rss, "version": json.loads(ingest.stdout)}


def ratio(slower: float, faster: float) -> str:
    return f"{slower / faster:6.1f}×" if faster > 0 else "   —"


def report(rows: int, size: int, results: dict[str, dict[str, object]]) -> str:
    pat, das, duck = results["patrimoine"], results["datasette"], results["duckdb"]
    lines = [f"# Datastore benchmark: {rows:,} rows, {size / 1e6:,.0f} MB French CSV", "",
             f"## Ingest (Patrimoine and DuckDB: median of {INGEST_RUNS} runs)", "",
             "| tool | seconds | peak RSS MB |", "|---|---:|---:|"]
    for name, res in (("Patrimoine datastore load", pat), ("sqlite-utils insert --csv", das),
                      ("DuckDB CSV→Parquet (floor)", duck)):
        lines.append(f"| {name} | {res['ingest_s']:.2f} | {res['ingest_rss_mb']:.0f} |")
    lines += ["", f"Patrimoine vs DuckDB floor: {pat['ingest_s'] / duck['ingest_s']:.2f}× the time; "
              f"sqlite-utils vs Patrimoine: {das['ingest_s'] / pat['ingest_s']:.1f}× slower.", "",
              "## Requests over HTTP (median / p95 ms; DuckDB: in-process floor, no HTTP)", "",
              "| request | Patrimoine | Datasette indexed | DuckDB floor | Datasette ÷ Patrimoine (median / p95) |",
              "|---|---:|---:|---:|---:|"]
    for name in PAGE_TYPES:
        p, d, f = (res["timings"][name] for res in (pat, das, duck))  # type: ignore[index]
        lines.append(f"| {name} | {p.median_ms:.1f} / {p.p95_ms:.1f} | {d.median_ms:.1f} / "
                     f"{d.p95_ms:.1f} | {f.median_ms:.1f} / {f.p95_ms:.1f} | "
                     f"{ratio(d.median_ms, p.median_ms)} / {ratio(d.p95_ms, p.p95_ms)} |")
    p_exp, d_exp = pat["timings"]["csv_export"], das["timings"]["csv_export"]  # type: ignore[index]
    lines += ["", f"CSV export throughput: Patrimoine {p_exp.bytes / 1e6 / (p_exp.median_ms / 1000):.0f} MB/s, "
              f"Datasette {d_exp.bytes / 1e6 / (d_exp.median_ms / 1000):.0f} MB/s.",
              f"Server RSS after the run: Patrimoine {pat['server_rss_mb']:.0f} MB, "
              f"Datasette {das.get('server_rss_mb', 0):.0f} MB."]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--requests", type=int, default=50, help="timed requests per page type")
    parser.add_argument("--work", type=Path, default=ROOT / "var" / "bench")
    parser.add_argument("--skip", action="append", default=[], choices=["datasette"])
    args = parser.parse_args()
    global DEEP_OFFSET
    DEEP_OFFSET = min(DEEP_OFFSET, args.rows // 2)
    args.work.mkdir(parents=True, exist_ok=True)
    csv = frenchcsv.write(args.work / f"subventions_{args.rows}.csv", args.rows)
    results: dict[str, dict[str, object]] = {}
    results["duckdb"] = measure_duckdb(csv, args.work, args.requests)
    results["patrimoine"] = measure_patrimoine(csv, args.work, args.requests)
    if "datasette" not in args.skip:
        results["datasette"] = measure_datasette(csv, args.work, args.requests)
    else:
        results["datasette"] = results["duckdb"]
    text = report(args.rows, csv.stat().st_size, results)
    print(text)
    out = args.work / "datastore-results.json"
    out.write_text(json.dumps(results, default=lambda o: o.__dict__, indent=2, ensure_ascii=False))
    print(f"\nRésultats bruts : {out}")


if __name__ == "__main__":
    main()
