"""Latency of the datastore query API over real HTTP on a generated 1,000,000-row version.

    .venv/bin/python benchmarks/datastore_query_latency.py [ROWS] [WORKDIR]

Writes a French-style "subventions" Parquet version (leading `_row`), registers it as the
version of an open dataset in a fresh data folder, starts `patrimoine serve` and times
(keep-alive HTTP, sequential, 50 requests after one warm-up) the page kinds the issue names.
Prints median / p95 in ms and the CSV export rate. The first request of a version builds its
DuckDB layout; that one-off build time is printed separately.
"""

from __future__ import annotations

import hashlib
import http.client
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from urllib.parse import urlencode

import duckdb

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "src"))

from patrimoine.access.principal import Principal
from patrimoine.core.db import Database
from patrimoine.core.settings import Settings
from patrimoine.datastore import versions
from patrimoine.datastore.models import DatasetVersion
from patrimoine.inventory import service as inventory
from patrimoine.inventory.models import AccessLevel, OrganisationKind
from patrimoine.inventory.service import DatasetInput
from patrimoine.storage import migrate

COLUMNS = [
    ("id", "integer"), ("annee", "integer"), ("code_insee", "string"), ("commune", "string"),
    ("nom_beneficiaire", "string"), ("categorie", "string"), ("objet", "string"),
    ("montant", "number"), ("date_convention", "date"), ("date_versement", "datetime"),
    ("latitude", "number"), ("longitude", "number"),
]

GENERATE = """
COPY (
SELECT i::BIGINT AS _row, i AS id, 2015 + (i % 10) AS annee,
  lpad(((hash(i) % 95000) + 1000)::VARCHAR, 5, '0') AS code_insee,
  (['Paris','Saint-Étienne','Lyon','Évry','Châlons-en-Champagne','L''Haÿ-les-Roses',
    'Marseille','Nîmes','Besançon','Orléans'])[1 + (hash(i * 7) % 10)::INT] AS commune,
  'Association ' || (hash(i * 3) % 50000)::VARCHAR AS nom_beneficiaire,
  (['Culture','Sport','Social','Éducation','Santé','Environnement','Jeunesse'])
    [1 + (hash(i * 11) % 7)::INT] AS categorie,
  'Subvention pour l''opération n°' || (i % 977)::VARCHAR || ' fête élève' AS objet,
  round((hash(i * 13) % 1000000) / 100.0, 2)::DOUBLE AS montant,
  DATE '2015-01-01' + (hash(i * 17) % 3650)::INT AS date_convention,
  CASE WHEN i % 17 = 0 THEN NULL
       ELSE TIMESTAMP '2015-01-01' + to_seconds((hash(i * 19) % 315360000)::BIGINT) END
    AS date_versement,
  43.0 + (hash(i * 23) % 700000) / 100000.0 AS latitude,
  -1.0 + (hash(i * 29) % 800000) / 100000.0 AS longitude
FROM range(1, {n} + 1) t(i) ORDER BY i
) TO '{path}' (FORMAT parquet, COMPRESSION zstd)
"""

REQUESTS = {
    "first_page": {},
    "filter_page": {"where": "commune:eq:Saint-Étienne"},
    "sorted_page": {"sort": "-montant"},
    "deep_page_offset_500000": {"offset": "500000"},
    "deep_sorted_page_offset_500000": {"sort": "montant", "offset": "500000"},
    "search": {"q": "chalons"},
    "bbox": {"bbox": "2.0,45.0,2.5,45.5"},
}


def setup(rows: int, work: Path) -> tuple[Settings, str]:
    settings = Settings(data_dir=work / "data", secret_key="bench")
    settings.ensure_data_dir()
    db = Database(settings.resolved_database_url)
    migrate.upgrade(db)
    system = Principal.system("benchmark")
    with db.unit_of_work() as s:
        org = inventory.create_organisation(s, system, name="Ville de Banc",
                                            kind=OrganisationKind.VILLE)
        dataset = inventory.create_dataset(s, system, DatasetInput(
            title="Subventions", organisation_id=org.id, access_level=AccessLevel.OPEN))
        folder = versions.dataset_folder(settings, dataset)
        folder.mkdir(parents=True, exist_ok=True)
        tmp = folder / "tmp.parquet"
        con = duckdb.connect()
        con.execute(GENERATE.format(n=rows, path=tmp))
        con.close()
        digest = hashlib.sha256(tmp.read_bytes()).hexdigest()
        tmp.replace(folder / f"{digest}.parquet")
        s.add(DatasetVersion(
            dataset_id=dataset.id, number=1, content_hash=digest,
            path=versions.relative_path(dataset, digest), row_count=rows,
            size_bytes=(folder / f"{digest}.parquet").stat().st_size,
            columns=[{"name": n, "type": t, "source_name": n} for n, t in COLUMNS],
            positions={"lat": "latitude", "lon": "longitude"},
            source_filename="subventions.csv", source_format="csv", ingest_settings={},
        ))
        slug = dataset.slug
    db.dispose()
    return settings, slug


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def get(conn: http.client.HTTPConnection, path: str) -> tuple[int, int]:
    conn.request("GET", path)
    response = conn.getresponse()
    size = 0
    while chunk := response.read(1 << 20):
        size += len(chunk)
    return response.status, size


def timed(conn: http.client.HTTPConnection, path: str, n: int) -> tuple[float, float]:
    status, _ = get(conn, path)
    assert status == 200, (status, path)
    samples = []
    for _ in range(n):
        start = time.perf_counter()
        get(conn, path)
        samples.append((time.perf_counter() - start) * 1000)
    samples.sort()
    return statistics.median(samples), samples[max(0, round(0.95 * n) - 1)]


def main() -> None:
    rows = int(sys.argv[1]) if len(sys.argv) > 1 else 1_000_000
    work = Path(sys.argv[2]) if len(sys.argv) > 2 else Path(tempfile.mkdtemp(prefix="ds-bench-"))
    t0 = time.perf_counter()
    settings, slug = setup(rows, work)
    print(f"generated {rows:,} rows in {time.perf_counter() - t0:.1f} s ({work})")
    port = free_port()
    env = {**os.environ, "PATRIMOINE_DATA_DIR": str(settings.data_dir),
           "PATRIMOINE_SECRET_KEY": "bench"}
    server = subprocess.Popen(
        [str(Path(sys.executable).parent / "patrimoine"), "serve", "--port", str(port)],
        env=env, stdout=subprocess.DEVNULL, stderr=(work / "server.log").open("w"))
    try:
        for _ in range(200):
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.1).close()
                break
            except OSError:
                time.sleep(0.1)
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=600)
        base = f"/api/v1/datasets/{slug}"
        start = time.perf_counter()
        assert get(conn, f"{base}/records?limit=1")[0] == 200
        print(f"layout build (first request of the version): {time.perf_counter() - start:.2f} s")
        print(f"{'request':34s} {'median ms':>10s} {'p95 ms':>8s}")
        for name, params in REQUESTS.items():
            query = urlencode({"limit": 100, **params})
            med, p95 = timed(conn, f"{base}/records?{query}", 50)
            print(f"{name:34s} {med:10.1f} {p95:8.1f}")
        for name, path in (
            ("facet_categorie", f"{base}/facets?facet=categorie"),
            ("groupby_sum_categorie",
             f"{base}/aggregate?group_by=categorie&metric=sum:montant&metric=count"),
            ("groupby_month", f"{base}/aggregate?group_by=date_convention:month&metric=avg:montant"),
        ):
            med, p95 = timed(conn, path, 50)
            print(f"{name:34s} {med:10.1f} {p95:8.1f}")
        curl = shutil.which("curl")
        for fmt in ("csv", "parquet", "ndjson"):
            times, size = [], 0
            url = f"http://127.0.0.1:{port}{base}/export.{fmt}"
            for _ in range(3):
                start = time.perf_counter()
                if curl:  # a C client: Python's chunked decoding would be the bottleneck
                    out = subprocess.run([curl, "-s", "-o", "/dev/null", "-w",
                                          "%{http_code} %{size_download}", url],
                                         capture_output=True, text=True, check=True).stdout
                    status, size = (int(x) for x in out.split())
                else:
                    status, size = get(conn, f"{base}/export.{fmt}")
                times.append(time.perf_counter() - start)
                assert status == 200
            best = statistics.median(times)
            print(f"export_{fmt:28s} {best * 1000:10.0f} ms  {size / 1e6:7.1f} MB  "
                  f"{size / 1e6 / best:6.0f} MB/s")
    finally:
        server.terminate()
        server.wait(10)


if __name__ == "__main__":
    main()
