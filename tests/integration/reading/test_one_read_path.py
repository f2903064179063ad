"""One read path: every face reads a version's rows through reading/service.py.

1. The import graph: outside the datastore itself and the reading service, only the modules
   listed below (each with why) import the datastore modules that open versions and run
   queries on them (engine, query, export).
2. Every route of the app (taken from `app.routes`), and every CKAN action, asked by a
   partner whose grant shows some rows and hides some columns: no answer holds a hidden
   value or a value of a row outside the grant, and every answer that reads the version is
   in the audit log with the grant it used and the grant's purpose. The routes of a dataset
   (API, portal pages and embeds, CKAN) are asked with the parameters that make them read
   (`GETS`); the others with none.
"""

from __future__ import annotations

import io
import re
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import grimp
import pyarrow.parquet as pq
import pytest
from fastapi.routing import iter_route_contexts
from fastapi.testclient import TestClient
from python_calamine import CalamineWorkbook
from sqlalchemy import select

from patrimoine.access import service as accounts
from patrimoine.access.models import AuditEvent, Role
from patrimoine.access.principal import Principal
from patrimoine.core.clock import now
from patrimoine.core.db import Database
from patrimoine.core.settings import Settings
from patrimoine.grants import service as grants
from patrimoine.grants.models import GranteeKind
from patrimoine.interop import ckan, public
from patrimoine.inventory.models import AccessLevel, LifecycleStage
from patrimoine.reading.language import FORMATS
from patrimoine.standards import validation
from tests import factories as f

# ------------------------------------------------------------------ the import graph

OPENING = ("patrimoine.datastore.engine", "patrimoine.datastore.query",
           "patrimoine.datastore.export")
# Who else imports them, and why that is not a reader's read.
ALLOWED = {
    "patrimoine.grants.service": "a grant's rows are a filter in the datastore's grammar, "
                                 "parsed and checked against a version's columns when the "
                                 "grant is given; no data is read",
    "patrimoine.web.layout_warmer": "builds version layouts before a request needs them "
                                    "(prepare_version, layout_wanted); returns no rows",
    "patrimoine.cli.datastore": "`datastore load --build-layout` builds the loaded version's "
                                "layout (prepare_version, layout_ready); returns no rows",
    "patrimoine.standards.validation": "the conformity badge validates the files a download "
                                       "of the whole version gives (the same export, CSV and "
                                       "XLSX) against the declared schema; no reader, no rows "
                                       "returned",
    "patrimoine.retention.apply": "drops this process's opened tables of destroyed data "
                                  "(forget); no data is read",
    "patrimoine.reversibility.export": "writes every version whole into the instance's "
                                       "reversibility archive, for the operator who moves "
                                       "out (command line): no reader, no scope",
}


def _inside(module: str, package: str) -> bool:
    return module == package or module.startswith(package + ".")


def test_only_the_reading_service_opens_versions() -> None:
    graph = grimp.build_graph("patrimoine", cache_dir=None)
    # The datastore modules may become packages: their submodules count as themselves.
    targets = {m for name in OPENING for m in graph.modules if _inside(m, name)}
    importers = {m for t in targets for m in graph.find_modules_that_directly_import(t)}
    others = {m for m in importers
              if not _inside(m, "patrimoine.datastore") and not _inside(m, "patrimoine.reading")}
    assert others - set(ALLOWED) == set(), "read versions through reading/service.py"
    # The list stays true: an exception no longer needed is removed.
    assert set(ALLOWED) - others == set()


# --------------------------------------------------------------- every route, a partner

SLUG = "releves-partages"
PARTNER = "asso@partenaire.fr"
# Values the partner's grant keeps from it: hidden columns (nom, montant) of every row, and
# every value of the rows outside its filter (commune:eq:Lyon).
HIDDEN = ("SECRET-NOM", "91827", "Hors-Champ", "CACHEE-AUTRE", "48.8512345", "43.6012345")
SHOWN = "VISIBLE-LYON"
COLUMNS: list[dict[str, object]] = [
    {"name": "nom", "type": "string"}, {"name": "commune", "type": "string"},
    {"name": "montant", "type": "number"}, {"name": "categorie", "type": "string"},
    {"name": "latitude", "type": "number"}, {"name": "longitude", "type": "number"},
]
ROWS_SQL = """
SELECT _row::BIGINT AS _row, nom, commune, montant::DOUBLE AS montant, categorie,
  latitude::DOUBLE AS latitude, longitude::DOUBLE AS longitude
FROM (VALUES
 (1, 'SECRET-NOM-ALPHA', 'Lyon', 918273.645, 'VISIBLE-LYON', 45.764, 4.8357),
 (2, 'SECRET-NOM-BRAVO', 'Lyon', 918274.5, 'VISIBLE-LYON', 45.75, 4.85),
 (3, 'SECRET-NOM-CHARLIE', 'Hors-Champ', 918275.25, 'CACHEE-AUTRE', 48.8512345, 2.35),
 (4, 'SECRET-NOM-DELTA', 'Hors-Champ', 918276.75, 'CACHEE-AUTRE', 43.6012345, 1.44)
) t(_row, nom, commune, montant, categorie, latitude, longitude)
"""
# A schema every hidden value breaks: a validation report would quote them.
SCHEMA = {"fields": [
    {"name": "nom", "type": "string", "constraints": {"pattern": "^[a-z]+$"}},
    {"name": "commune", "type": "string", "constraints": {"enum": ["Lyon"]}},
    {"name": "montant", "type": "number", "constraints": {"maximum": 10}},
    {"name": "categorie", "type": "string"},
    {"name": "latitude", "type": "number"}, {"name": "longitude", "type": "number"},
]}

API = "/api/v1/datasets/{slug}"
# The GET requests each route is asked (query parameters); a new route must be added here.
GETS: dict[str, list[dict[str, Any]]] = {
    API: [{}],
    API + "/history": [{}],
    API + "/versions": [{}],
    API + "/records": [{}, {"q": "secret"}, {"where": "commune:eq:Hors-Champ"},
                       {"sort": "-latitude", "columns": "categorie,latitude"}],
    API + "/versions/{number}/records": [{}],
    API + "/facets": [{"facet": ["commune", "categorie"]}],
    API + "/versions/{number}/facets": [{"facet": "categorie"}],
    API + "/aggregate": [{"group_by": "commune", "metric": "max:latitude"},
                         {"group_by": "categorie"}],
    API + "/versions/{number}/aggregate": [{"group_by": "commune"}],
    API + "/export.{fmt}": [{}],
    API + "/export": [{"format": fmt} for fmt in FORMATS],
    API + "/versions/{number}/export.{fmt}": [{}],
    API + "/versions/{number}/export": [{"format": "csv", "sep": ";"}],
    API + "/versions/{number}/counts": [{"by": "commune"}, {"by": "categorie,latitude"},
                                        {"by": "nom"}],
    API + "/versions/{number}/k-anonymity": [{"columns": "commune,categorie"}],
    API + "/versions/{number}/validation": [{}],
    API + "/versions/{number}/original": [{}],
    API + "/versions/{number}/findings": [{}],
    API + "/grants": [{}],
    API + "/publication": [{}],
    API + "/schema": [{}],
    API + "/quality": [{}],
    "/datasets/{slug}": [{}, {"recherche": "secret"}],
    "/datasets/{slug}/points.geojson": [{}],
    "/datasets/{slug}/chart.vl.json": [{"x": "commune"}],
    "/datasets/{slug}/telecharger": [{"format": "csv"}],
    "/datasets/{slug}.ttl": [{}],
    "/datasets/{slug}.rdf": [{}],
    "/datasets/{slug}.jsonld": [{}],
    "/embed/datasets/{slug}/chart": [{}],
    "/embed/datasets/{slug}/map": [{}],
    "/admin/inventaire/{slug}/schema": [{}],
    "/api/3/action/{name}": [{}],
    "/api/action/{name}": [{}],
}
# The routes that read the version's rows: each answer they give is audited.
READS = {API + p for p in (
    "/records", "/versions/{number}/records", "/facets", "/versions/{number}/facets",
    "/aggregate", "/versions/{number}/aggregate", "/export.{fmt}", "/export",
    "/versions/{number}/export.{fmt}", "/versions/{number}/export",
    "/versions/{number}/counts", "/versions/{number}/k-anonymity",
    "/versions/{number}/validation", "/versions/{number}/original")} | {
    "/datasets/{slug}", "/datasets/{slug}/points.geojson", "/datasets/{slug}/chart.vl.json",
    "/datasets/{slug}/telecharger", "/embed/datasets/{slug}/chart",
    "/embed/datasets/{slug}/map", "/admin/inventaire/{slug}/schema", "/api/3/action/{name}",
    "/api/action/{name}"}

CKAN_READS = {"datastore_search", "datastore_info", "datastore_search_sql"}


def _concerned(path: str) -> bool:
    """A route of one dataset (or CKAN's actions): asked with the parameters of `GETS`, and
    by every method it has."""
    return (path.startswith(("/api/v1/datasets/{slug}", "/datasets/{slug}",
                             "/embed/datasets/{slug}"))
            or path in ("/api/3/action/{name}", "/api/action/{name}",
                        "/admin/inventaire/{slug}/schema"))


def _ckan_params(world: World) -> list[tuple[str, dict[str, Any]]]:
    """Every CKAN action, asked of the partner's dataset and its resource."""
    resource = world.resource_id
    each = {"id": resource, "resource_id": resource, "q": "secret",
            "sql": f'SELECT * FROM "{resource}"', "name": "datastore_search"}
    return [(name, params) for name in sorted(ckan.ACTIONS)
            for params in (each, {**each, "id": SLUG}, {**each, "q": SLUG})]


@dataclass
class World:
    token: str
    staff_token: str
    partner_id: int
    grant_id: int
    resource_id: str
    uid: str


@pytest.fixture
def world(db: Database, settings: Settings) -> World:
    with db.unit_of_work() as s:
        ville = f.organisation(s)
        asso = f.organisation(s, "Association Partenaire")
        dataset = f.dataset(s, ville, "Relevés partagés", access_level=AccessLevel.RESTRICTED,
                            lifecycle_stage=LifecycleStage.PUBLISHED)
        assert dataset.slug == SLUG
        f.parquet_version(settings, s, dataset, ROWS_SQL, columns=COLUMNS)
        system = Principal.system("tests")
        validation.declare_schema(s, system, dataset, descriptor=SCHEMA)
        partner = f.account(s, PARTNER, roles=[(asso, Role.PARTNER, None)])
        staff = f.account(s, "cdo@ville.fr", roles=[(ville, Role.CHIEF_DATA_OFFICER, None)])
        grant = grants.create_grant(s, system, dataset, grants.GrantInput(
            grantee_kind=GranteeKind.PARTNER, grantee=PARTNER, purpose="Étude partagée",
            valid_until=now() + timedelta(days=1), row_filter="commune:eq:Lyon",
            hidden_columns=["nom", "montant"]))
        return World(accounts.create_api_token(s, partner, "tests")[1],
                     accounts.create_api_token(s, staff, "tests")[1], partner.id, grant.id,
                     public.resource_uuid(dataset, "csv"), dataset.uid)


def _text(response: Any) -> str:
    """The answer as text, binary exports decoded (their strings may be compressed)."""
    kind = response.headers.get("content-type", "")
    if "parquet" in kind:
        return str(pq.read_table(io.BytesIO(response.content)).to_pylist())
    if "spreadsheetml" in kind:
        book = CalamineWorkbook.from_filelike(io.BytesIO(response.content))
        return str([book.get_sheet_by_index(i).to_python()
                    for i in range(len(book.sheet_names))])
    return response.text


def _urls(path: str, world: World) -> list[str]:
    filled = path.replace("{slug}", SLUG).replace("{number}", "1").replace("{uid}", world.uid) \
        .replace("{grant_id}", str(world.grant_id)).replace("{name:path}", "scdl-subventions")
    # Any other identifier: the first of its kind (the world has one of each, at most).
    filled = re.sub(r"\{\w+(:int)?\}", lambda m: "1" if m.group(0) != "{fmt}" else m.group(0),
                    filled)
    if "{fmt}" in filled:
        return [filled.replace("{fmt}", fmt) for fmt in FORMATS]
    return [filled]


def _asked(method: str, path: str, world: World) -> list[tuple[str, dict[str, Any]]]:
    """(url, parameters) of each request a route is asked."""
    if "{name}" in path:
        base = path.replace("{name}", "")
        return [(base + name, params) for name, params in _ckan_params(world)]
    asked = GETS.get(path, [{}]) if method == "GET" else [{}]
    return [(url, params) for url in _urls(path, world) for params in asked]


def test_a_partner_never_reads_what_its_grant_hides_and_every_read_is_logged(
        client: TestClient, db: Database, world: World) -> None:
    routes: dict[str, set[str]] = {}
    for route in iter_route_contexts(client.app.routes):  # type: ignore[attr-defined]
        if route.path:
            # Version numbers are routed as {number:int}: the table below names them {number}.
            routes.setdefault(route.path.replace("{number:int}", "{number}"), set()).update(
                route.methods or ())
    assert len(routes) > 150, "the whole app is asked"
    gets = {p for p, methods in routes.items() if "GET" in methods and _concerned(p)}
    assert gets == set(GETS), "every route that may read a version is asked here"
    headers = {"Authorization": f"Bearer {world.token}"}
    reads: list[tuple[str, str]] = []
    answered: dict[str, Any] = {}
    for path in sorted(routes):
        # Other routes are only read: their writes are not about this dataset's rows.
        methods = routes[path] - {"HEAD", "OPTIONS"} if _concerned(path) else {"GET"}
        for method in sorted(methods & routes[path]):
            for url, params in _asked(method, path, world):
                r = client.request(method, url, headers=headers, follow_redirects=False,
                                   params=params if method == "GET" else None,
                                   json=params if method in ("POST", "PUT") else None)
                text = _text(r)
                for value in HIDDEN:
                    assert value not in text, (method, url, params, r.status_code)
                if method != "GET" and "{name}" not in path:  # CKAN's POST is a read
                    assert 400 <= r.status_code < 500, (method, url, r.status_code)
                elif path in READS and r.status_code < 400 and (
                        "{name}" not in path or url.rsplit("/", 1)[1] in CKAN_READS):
                    reads.append((r.request.url.path, r.request.url.query.decode()))
                answered[f"{method} {url} {sorted(params.items())}"] = r
    # The grant works: its rows and columns are answered, not an error.
    records = answered[f"GET /api/v1/datasets/{SLUG}/records []"]
    assert records.status_code == 200 and SHOWN in records.text
    assert [row["_row"] for row in records.json()["rows"]] == [1, 2]
    counts = answered[f"GET /api/v1/datasets/{SLUG}/versions/1/counts [('by', 'commune')]"]
    assert counts.json()["groups"] == [] and counts.json()["suppressed_groups"] == 1
    # A hidden column is unknown to the partner's view: never a group, nor named as hidden.
    by_name = answered[f"GET /api/v1/datasets/{SLUG}/versions/1/counts [('by', 'nom')]"]
    assert by_name.status_code == 422
    assert "Colonne(s) inconnue(s) : nom. Colonnes : commune, categorie," in by_name.text
    assert len(reads) > 20
    with db.session() as s:
        events = s.scalars(select(AuditEvent).where(AuditEvent.actor_id == world.partner_id,
                                                    AuditEvent.target == f"dataset:{SLUG}")
                           .order_by(AuditEvent.id)).all()
    # Reads of the version (the fiche's own audit of a metadata read has no version).
    events = [e for e in events if "version" in e.details]
    assert [(e.details["path"], e.details["query"]) for e in events] == reads
    assert all(e.details["grants"] == [world.grant_id] for e in events)
    assert all(e.details["purposes"] == ["Étude partagée"] for e in events)


def test_staff_read_the_values_the_partner_is_kept_from(client: TestClient,
                                                        world: World) -> None:
    """The hidden values are there: the partner's answers lack them because of its grant."""
    headers = {"Authorization": f"Bearer {world.staff_token}"}
    for path in (f"/api/v1/datasets/{SLUG}/export.csv",
                 f"/api/v1/datasets/{SLUG}/versions/1/validation"):
        text = client.get(path, headers=headers).text
        assert all(value in text for value in ("SECRET-NOM", "Hors-Champ")), path
