"""The word index answers full-text search exactly as scanning the folded text does, alone
or combined with filters, sorts, pages, cursors, facets, aggregates, exports and restricted
views; the whole-version CSV export is kept and sent again byte for byte."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from patrimoine.datastore import engine
from patrimoine.datastore import export as ex
from patrimoine.datastore import query as q
from patrimoine.datastore.engine import VersionTable
from patrimoine.datastore.engine import tables as engine_tables
from tests.factories import open_table

WORDS = ["Œuvre", "élève", "Saint-Étienne", "l'Haÿ-les-Roses", "CAFÉ", "cafe", "Ærø",
         "randonnée", "«citation»", "n°12", "a.b", "x;y", "100,5", "W123456789", "École",
         "MÉDIATHÈQUE", "æther", "Noël", "crème brûlée"]
COMMUNES = ["Lyon", "Saint-Étienne", "Évry", "L'Haÿ-les-Roses", "Nîmes"]
COLUMNS: list[dict[str, Any]] = [
    {"name": "nom", "type": "string"},
    {"name": "commune", "type": "string"},
    {"name": "note", "type": "string"},
    {"name": "montant", "type": "number"},
    {"name": "quantite", "type": "integer"},
]


def _literal(values: list[str]) -> str:
    return "[" + ", ".join("'" + v.replace("'", "''") + "'" for v in values) + "]"


SQL = f"""
SELECT i::BIGINT AS _row,
  {_literal(WORDS)}[1 + (i % {len(WORDS)})::INT] || ' ' ||
    {_literal(WORDS)}[1 + ((i * 7) % {len(WORDS)})::INT] AS nom,
  CASE WHEN i % 9 = 0 THEN NULL ELSE {_literal(COMMUNES)}[1 + (i % {len(COMMUNES)})::INT] END
    AS commune,
  CASE WHEN i % 4 = 0 THEN '' WHEN i % 5 = 0 THEN NULL
       ELSE 'Ligne ' || i || ' ' || {_literal(WORDS)}[1 + ((i * 3) % {len(WORDS)})::INT] END
    AS note,
  ((i * 7919) % 1000) / 4.0 AS montant,
  CASE WHEN i % 17 = 0 THEN NULL ELSE (i * 31) % 23 END::BIGINT AS quantite
FROM range(1, 1501) t(i)
"""

SEARCHES = ["oeuvre", "ŒUV", "eleve", "etienne", "saint-etienne", "l'hay", "hay-les", "café",
            "cafe lyon", "aer", "aeth", "randonn", "«citation»", "citation", "12", "n°1",
            "a.b", "x;y", "100,5", "w1234", "ecole mediatheque", "noel creme", "brulee",
            "ligne 14", "ligne 1 oeuvre", "e", "introuvable", "oeuvre introuvable", "   "]


@pytest.fixture(scope="module")
def table(tmp_path_factory: pytest.TempPathFactory) -> VersionTable:
    return open_table(tmp_path_factory.mktemp("mots"), SQL, COLUMNS, positions=None)


@pytest.fixture(scope="module")
def scan(table: VersionTable) -> VersionTable:
    """The same version without its word index: search scans the folded text."""
    return replace(table, search_index=False)


def test_the_word_index_is_built_and_used(table: VersionTable) -> None:
    assert table.search_index
    assert table.term_ranges("oeuvre")  # words holding "oeuvre" have postings
    assert table.term_ranges("introuvable") == ()
    assert q.where_clause(table, q.Query(search="oeuvre")).postings is not None
    assert table.fetch("SELECT count(*) FROM search_tokens WHERE token = 'oeuvre'")[0][0] == 1


@pytest.mark.parametrize("search", SEARCHES)
def test_pages_and_counts_match_the_scan(table: VersionTable, scan: VersionTable,
                                         search: str) -> None:
    query = q.Query(search=search)
    for page in (q.Page(), q.Page(limit=7, offset=3), q.Page(limit=1000), q.Page(count=False),
                 q.Page(sort=q.parse_sort("-montant"), limit=20),
                 q.Page(sort=q.parse_sort("commune,nom"), limit=20, offset=5),
                 q.Page(columns=("commune",), limit=5)):
        assert q.records(table, query, page) == q.records(scan, query, page), page


@pytest.mark.parametrize("search", ["oeuvre", "cafe lyon", "e", "12", "introuvable"])
def test_combined_with_filters_facets_aggregates_and_exports(
    table: VersionTable, scan: VersionTable, search: str
) -> None:
    for where, any_of in ((["commune:eq:Lyon"], []), (["montant:gt:100"], ["quantite:lt:5",
                                                                             "commune:null"]),
                          (["note:contains:ligne"], [])):
        query = q.Query(filter=q.build_filter(where, any_of, None), search=search)
        for page in (q.Page(limit=10), q.Page(sort=q.parse_sort("-montant"), limit=10)):
            assert q.records(table, query, page) == q.records(scan, query, page)
        assert q.facets(table, query, ["commune"]) == q.facets(scan, query, ["commune"])
        groups, metrics = [q.GroupKey("commune")], [q.Metric("count"), q.Metric("sum", "montant")]
        assert q.aggregate(table, query, groups, metrics) == q.aggregate(scan, query, groups,
                                                                           metrics)
        request = ex.ExportRequest("csv", sort=q.parse_sort("nom"))
        assert _bytes(table, query, request) == _bytes(scan, query, request)
    query = q.Query(search=search)
    for fmt in ("csv", "ndjson"):
        request = ex.ExportRequest(fmt)
        assert _bytes(table, query, request) == _bytes(scan, query, request)


def test_cursor_pages_walk_the_same_rows(table: VersionTable, scan: VersionTable) -> None:
    for search in ("e", "oeuvre", "ligne 1"):
        walked = []
        for source in (table, scan):
            rows, cursor = [], None
            while True:
                page = q.records(source, q.Query(search=search), q.Page(limit=97, cursor=cursor))
                rows += [r["_row"] for r in page.rows]
                if not page.next_cursor:
                    break
                cursor = page.next_cursor
            walked.append(rows)
        assert walked[0] == walked[1] and walked[0] == sorted(walked[0]) and walked[0]


def test_restricted_views_search_only_their_columns(table: VersionTable,
                                                     scan: VersionTable) -> None:
    hidden = frozenset({"nom"})
    rows = (q.compile_filter(table, q.build_filter(["quantite:gt:3"], [], None)).text,
            tuple(q.compile_filter(table, q.build_filter(["quantite:gt:3"], [], None)).params))
    view = engine.restrict(table, hidden=hidden, rows=rows, scope_key="v")
    scanned = engine.restrict(scan, hidden=hidden, rows=rows, scope_key="v")
    for search in ("oeuvre", "ligne 1", "lyon", "etienne cafe"):
        query = q.Query(search=search)
        assert q.records(view, query, q.Page(limit=50)) == q.records(scanned, query,
                                                                     q.Page(limit=50))
    # "oeuvre" only in the hidden column of some rows: those rows are not found.
    found = {r["_row"] for r in q.records(view, q.Query(search="oeuvre"), q.Page(limit=1000)).rows}
    assert found == {r["_row"] for r in q.records(
        scanned, q.Query(search="oeuvre"), q.Page(limit=1000)).rows}


def test_common_terms_fall_back_to_the_scan(table: VersionTable,
                                            monkeypatch: pytest.MonkeyPatch) -> None:
    fresh = replace(table, _terms=type(table._terms)())
    monkeypatch.setattr(engine_tables, "SEARCH_INDEX_MIN_POSTINGS", 10)
    assert fresh.term_ranges("e") is None  # too many postings: scan
    where = q.where_clause(fresh, q.Query(search="e oeuvre"))
    assert where.postings is None and "contains(" in where.text


def _bytes(table: VersionTable, query: q.Query, request: ex.ExportRequest) -> bytes:
    return b"".join(ex.export(table, query, request, "mots").chunks)


@pytest.mark.parametrize("delimiter", [",", ";"])
def test_whole_version_csv_is_kept_and_sent_again_identically(
    tmp_path: Path, delimiter: str
) -> None:
    version = open_table(tmp_path, SQL, COLUMNS, positions=None)
    request = ex.ExportRequest("csv", delimiter=delimiter)
    first = ex.export(version, q.Query(), request, "mots")
    assert first.path is None
    streamed = b"".join(first.chunks)
    kept = ex.csv_cache_path(version, q.Query(), request)
    assert kept is not None and kept.read_bytes() == streamed
    # Found by the glob that retention uses to remove a destroyed version's cache files.
    assert kept in kept.parent.glob(f"{version.key}-v*.duckdb")
    again = ex.export(version, q.Query(), request, "mots")
    assert again.path == kept and b"".join(again.chunks) == streamed
    # The same bytes as a fresh stream (the kept file is not what the stream reads).
    fresh = replace(version, _layout=tmp_path / "absent" / "x.duckdb")  # cannot keep there
    assert b"".join(ex.export(fresh, q.Query(), request, "mots").chunks) == streamed
    assert streamed.count(b"\n'=") == 0 or delimiter  # neutralised cells start with '
    # Anything but the whole version is streamed, never kept.
    for other_query, other in ((q.Query(search="oeuvre"), request),
                               (q.Query(filter=q.build_filter(["commune:eq:Lyon"], [], None)),
                                request),
                               (q.Query(), replace(request, columns=("nom",))),
                               (q.Query(), replace(request, sort=q.parse_sort("nom")))):
        assert ex.csv_cache_path(version, other_query, other) is None
        assert ex.export(version, other_query, other, "mots").path is None
    view = engine.restrict(version, hidden=frozenset({"note"}), scope_key="v")
    assert ex.csv_cache_path(view, q.Query(), request) is None


def test_an_interrupted_export_keeps_nothing(tmp_path: Path) -> None:
    version = open_table(tmp_path, SQL, COLUMNS, positions=None)
    request = ex.ExportRequest("csv")
    chunks = ex.export(version, q.Query(), request, "mots").chunks
    next(chunks)
    chunks.close()  # the client went away
    kept = ex.csv_cache_path(version, q.Query(), request)
    assert kept is not None and not kept.exists()
    assert not list(kept.parent.glob(f".{kept.name}*"))
