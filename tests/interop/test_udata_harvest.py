"""data.gouv.fr harvesting Patrimoine: udata's own DCAT and CKAN harvesters (`DcatBackend`,
`CkanBackend`, unmodified, udata as pinned in requirements.txt) against a live `patrimoine
serve` over the demo territory.

Runs in its own environment (`make interop`: .venv-interop; udata's dependencies are heavy and
clash with ours), never in the main suite (conftest.py keeps it out). udata stores in MongoDB:
mongomock stands in for it, through mongoengine's `mongo_client_class`; udata's Celery tasks
run eagerly (its `Testing` settings). Patrimoine runs from its own environment, the command
named by PATRIMOINE_CLI (default .venv/bin/patrimoine).

What is checked, on both harvesters: the same datasets (count and remote ids, and no duplicate
when a source switches from one harvester to the other), no harvest error nor skipped item,
resources with format, media type, size and checksum that match the bytes downloaded, declared
schemas, and spatial coverages kept with a geometry.
"""

from __future__ import annotations

import hashlib
import json
import os
import socket
import subprocess
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import mongomock
import pytest
import requests
from flask import Flask
from rdflib import Graph, Namespace
from udata.app import create_app, standalone
from udata.settings import Testing

ROOT = Path(__file__).resolve().parents[2]
CLI = Path(os.environ.get("PATRIMOINE_CLI", ROOT / ".venv" / "bin" / "patrimoine"))
HYDRA = Namespace("http://www.w3.org/ns/hydra/core#")
SHIPPED_SUBSIDIES = "https://gitlab.com/opendatafrance/scdl/subventions/raw/v2.1.1/schema.json"
MEDIA = {"csv": "text/csv", "json": "application/json", "geojson": "application/geo+json",
         "parquet": "application/vnd.apache.parquet",
         "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"}


class UdataSettings(Testing):
    SECRET_KEY = "interop-tests"
    HARVESTER_BACKENDS = ["dcat", "ckan"]
    MONGODB_HOST = "mongodb://localhost/udata"
    MONGODB_SETTINGS = {"host": "mongodb://localhost/udata",
                        "mongo_client_class": mongomock.MongoClient}


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _run(env: dict[str, str], *args: str) -> str:
    done = subprocess.run([*args], env=env, capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stdout + done.stderr
    return done.stdout


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, dict[str, str]]]:
    """The demo territory served on a free port, two of its datasets declaring a schema."""
    assert CLI.is_file(), f"{CLI} absent : PATRIMOINE_CLI doit nommer la commande patrimoine."
    data = tmp_path_factory.mktemp("patrimoine")
    port = _free_port()
    url = f"http://127.0.0.1:{port}"
    env = {**os.environ, "PATRIMOINE_DATA_DIR": str(data), "PATRIMOINE_PUBLIC_URL": url,
           "PATRIMOINE_SECRET_KEY": "interop-tests"}
    _run(env, str(CLI), "db", "upgrade")
    _run(env, str(CLI), "demo")
    declared = json.loads(_run(env, str(CLI.parent / "python"),
                               str(Path(__file__).with_name("declare_schemas.py"))))
    with (data / "serve.log").open("wb") as log:
        server = subprocess.Popen([str(CLI), "serve", "--host", "127.0.0.1", "--port", str(port)],
                                  env=env, stdout=log, stderr=subprocess.STDOUT)
    try:
        for _ in range(600):
            try:
                with urllib.request.urlopen(url + "/api/util/status", timeout=2):
                    break
            except OSError:
                assert server.poll() is None, (data / "serve.log").read_text()
                time.sleep(0.1)
        yield url, declared
    finally:
        server.terminate()
        server.wait(timeout=30)


@pytest.fixture(scope="module")
def udata() -> Iterator[Flask]:
    app = standalone(create_app(override=UdataSettings))
    with app.app_context():
        yield app


def _harvest(backend: str, url: str) -> Any:
    from udata.harvest.backends import get_backend
    from udata.harvest.models import HarvestSource

    source = HarvestSource.objects.create(name=f"Patrimoine ({backend})", url=url,
                                          backend=backend)
    return get_backend(backend)(source).harvest()


def _datasets() -> dict[str, Any]:
    from udata.models import Dataset

    return {d.harvest.remote_id: d for d in Dataset.objects}


def _resources(dataset: Any, backend: str) -> list[Any]:
    """The resources one harvester wrote (DCAT ones keep the distribution's URI)."""
    return [r for r in dataset.resources
            if bool(r.harvest and r.harvest.uri) == (backend == "dcat")]


@pytest.fixture(scope="module")
def harvests(live: tuple[str, dict[str, str]], udata: Flask) -> dict[str, Any]:
    """DCAT first, then CKAN on the same source domain, as when a portal switches."""
    url, _ = live
    dcat = _harvest("dcat", url + "/catalog.ttl")
    after_dcat = {rid: d.to_mongo().to_dict() for rid, d in _datasets().items()}
    ckan = _harvest("ckan", url)
    return {"dcat": dcat, "ckan": ckan, "after_dcat": after_dcat, "datasets": _datasets()}


def _total(url: str) -> int:
    g = Graph().parse(data=requests.get(url + "/catalog.ttl", timeout=30).text,
                      format="turtle")
    return int(next(g.objects(None, HYDRA.totalItems)))


def test_both_harvesters_see_the_same_datasets_without_error(
        live: tuple[str, dict[str, str]], harvests: dict[str, Any]) -> None:
    url, _ = live
    total = _total(url)
    assert total >= 10
    ids = {}
    for backend in ("dcat", "ckan"):
        job = harvests[backend]
        assert job.status == "done", (backend, job.status, [e.message for e in job.errors])
        assert not job.errors, backend
        statuses = [item.status for item in job.items]
        assert statuses == ["done"] * total, (backend, [
            (i.remote_id, i.status, [e.message for e in i.errors]) for i in job.items
            if i.status != "done"])
        ids[backend] = {item.remote_id for item in job.items}
    assert ids["dcat"] == ids["ckan"]
    # The CKAN harvest updated the datasets the DCAT one created: none twice.
    assert set(harvests["after_dcat"]) == set(harvests["datasets"]) == ids["dcat"]


def _download(url: str) -> bytes:
    r = requests.get(url, timeout=60)
    assert r.status_code == 200, (url, r.status_code, r.text[:300])
    return r.content


def test_dcat_resources_carry_format_media_type_size_and_checksum(
        harvests: dict[str, Any]) -> None:
    seen_formats = set()
    for dataset in harvests["datasets"].values():
        resources = _resources(dataset, "dcat")
        assert resources, dataset.title
        for r in resources:
            fmt = r.url.rsplit(".", 1)[1]
            seen_formats.add(fmt)
            body = _download(r.url)
            assert r.filesize == len(body), r.url
            assert r.checksum is not None and r.checksum.type == "sha256", r.url
            assert r.checksum.value == hashlib.sha256(body).hexdigest(), r.url
            if fmt == "ndjson":  # in neither the EU file types nor IANA's registry
                assert r.format is None and r.mime is None
            else:
                assert r.format == fmt and r.mime == MEDIA[fmt], (r.url, r.format, r.mime)
    assert {"csv", "json", "ndjson", "geojson", "parquet", "xlsx"} <= seen_formats


def test_ckan_resources_carry_format_media_type_size_and_checksum(
        live: tuple[str, dict[str, str]], harvests: dict[str, Any]) -> None:
    from udata.harvest.backends.ckan.schemas.ckan import schema

    url, _ = live
    for dataset in harvests["datasets"].values():
        resources = _resources(dataset, "ckan")
        assert resources, dataset.title
        for r in resources:
            fmt = r.url.rsplit(".", 1)[1]
            assert r.format == fmt and r.mime, (r.url, r.format, r.mime)
        # udata's CKAN harvester validates `size` and `hash` (its schema turns the hash into
        # {"type", "value"}) but stores neither (udata 17.18: it sets `resource.hash`, no such
        # field, and never `filesize`): they are checked here as the harvester receives them.
        package = requests.get(url + "/api/3/action/package_show",
                               params={"id": dataset.harvest.ckan_name}, timeout=30).json()
        for res in schema(package["result"])["resources"]:
            body = _download(res["url"])
            assert res["size"] == len(body), res["url"]
            assert res["hash"] == {"type": "sha256",
                                   "value": hashlib.sha256(body).hexdigest()}, res["url"]


def test_declared_schemas_travel(live: tuple[str, dict[str, str]],
                                 harvests: dict[str, Any]) -> None:
    url, declared = live
    by_slug = {d.harvest.ckan_name: d for d in harvests["datasets"].values()}
    assert SHIPPED_SUBSIDIES in declared.values() and "descriptor" in declared.values()
    for slug, kind in declared.items():
        dataset = by_slug[slug]
        schema_url = dataset.schema.url
        if kind == "descriptor":
            assert schema_url.startswith(url + "/datasets/uid/")
            assert "fields" in requests.get(schema_url, timeout=30).json()
        else:  # a shipped schema: where schema.data.gouv.fr publishes it
            assert schema_url == kind
        # DCAT: on the dataset and every distribution; CKAN: the package's `schema` extra.
        assert {r.schema.url for r in _resources(dataset, "dcat")} == {schema_url}
        assert dataset.extras["schema"] == schema_url
    others = [d for slug, d in by_slug.items() if slug not in declared]
    assert others and not any(d.schema for d in others)


def test_spatial_coverages_are_kept_with_a_geometry(harvests: dict[str, Any]) -> None:
    for rid, dataset in harvests["datasets"].items():
        # DCAT (dct:spatial / dcat:bbox) first, then CKAN (`spatial` extra): both kept one.
        for geom in (harvests["after_dcat"][rid]["spatial"]["geom"], dataset.spatial.geom):
            assert geom["type"] == "MultiPolygon", dataset.title
            xs = [p[0] for poly in geom["coordinates"] for ring in poly for p in ring]
            ys = [p[1] for poly in geom["coordinates"] for ring in poly for p in ring]
            # The demo's places are in and around Tours Métropole Val de Loire.
            assert 0.3 < min(xs) <= max(xs) < 1.0 and 47.1 < min(ys) <= max(ys) < 47.7, geom
