"""The demo territory: how long it takes to load, then to answer the portal's pages and to
build and validate the whole DCAT-AP catalogue (timings the tests used to assert).

    .venv/bin/python benchmarks/demo_territory.py [--rounds 5]

A fresh SQLite store in a temporary folder; `load_demo` as `patrimoine demo` runs it (the
inventory, the accounts with production-cost password hashes, the dozen published datasets);
pages served in process (FastAPI's test client, no HTTP), one warm-up request then the median
of the rounds; the catalogue checked against the vendored DCAT-AP 3.0.1 shapes.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

import pyshacl  # noqa: E402
from fastapi.testclient import TestClient  # noqa: E402
from rdflib import Graph  # noqa: E402
from sqlalchemy import select  # noqa: E402

from patrimoine.bootstrap import bootstrap  # noqa: E402
from patrimoine.core.settings import Settings  # noqa: E402
from patrimoine.datastore.models import DatasetVersion  # noqa: E402
from patrimoine.demo.territory import load_demo  # noqa: E402
from patrimoine.interop import dcat  # noqa: E402
from patrimoine.storage import migrate  # noqa: E402
from patrimoine.web.app import create_app  # noqa: E402

SHAPES = ROOT / "tests" / "standards" / "dcat-ap" / "3.0.1"
BROWSER = {"User-Agent": "Mozilla/5.0 (X11; Linux x86_64) Firefox/128.0"}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=5, help="timed requests per page")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="patrimoine-bench-") as tmp:
        settings = Settings(data_dir=Path(tmp) / "data", secret_key="bench",
                            public_url="http://testserver")
        svc = bootstrap(settings, check_schema=False)
        migrate.upgrade(svc.db)
        try:
            start = time.perf_counter()
            with svc.db.unit_of_work() as session:
                load_demo(session, password="mot-de-passe-de-mesure", settings=settings)
            print(f"demo load (inventory, accounts, published datasets): "
                  f"{time.perf_counter() - start:.1f} s")

            with svc.db.session() as session:
                largest = session.scalars(select(DatasetVersion).order_by(
                    DatasetVersion.row_count.desc())).first()
                assert largest is not None
                slug, rows = largest.dataset.slug, largest.row_count
                types = {c["name"]: c["type"] for c in largest.columns}
            when = next(n for n, t in types.items() if t in ("date", "datetime"))
            how_much = next(n for n, t in types.items() if t in ("integer", "number"))
            pages = {"accueil": "/", "catalogue": "/datasets", "recherche": "/datasets?q=velo",
                     "facettes": "/datasets?carte=oui&tri=popularite",
                     "jeu de données": f"/datasets/{slug}",
                     "jeu filtré et trié": f"/datasets/{slug}?filtre={how_much}:gt:10"
                                           f"&tri=-{how_much}&page=3&type=line&x={when}"
                                           f"&y={how_much}&agg=avg",
                     "points de la carte": f"/datasets/{slug}/points.geojson"}
            print(f"\nportal pages ({slug}: {rows} rows), median of {args.rounds} ms:")
            with TestClient(create_app(services=svc)) as client:
                for name, url in pages.items():
                    assert client.get(url, headers=BROWSER).status_code == 200, url
                    timings = []
                    for _ in range(args.rounds):
                        start = time.perf_counter()
                        assert client.get(url, headers=BROWSER).status_code == 200, url
                        timings.append((time.perf_counter() - start) * 1000)
                    print(f"  {name:<20} {statistics.median(timings):7.1f}  "
                          f"(min {min(timings):.1f}, max {max(timings):.1f})")

            start = time.perf_counter()
            with svc.db.session() as session:
                catalogue = dcat.full_catalog(session, settings.public_url, settings)
            built = time.perf_counter() - start
            shapes = Graph()
            for name in ("shapes.ttl", "range.ttl"):
                shapes.parse(SHAPES / name, format="turtle")
            start = time.perf_counter()
            conforms, _, _ = pyshacl.validate(catalogue, shacl_graph=shapes, inference="none")
            print(f"\nDCAT-AP catalogue: {len(catalogue)} triples built in {built:.1f} s, "
                  f"validated (DCAT-AP 3.0.1, conforms={conforms}) in "
                  f"{time.perf_counter() - start:.1f} s")
        finally:
            svc.db.dispose()


if __name__ == "__main__":
    main()
