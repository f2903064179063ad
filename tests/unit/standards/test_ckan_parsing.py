"""The CKAN dialect's parsing: Solr-like q/fq clauses, sorts, datastore filters and sorts."""

from __future__ import annotations

import pytest

from patrimoine.datastore import query as queries
from patrimoine.interop import ckan


def test_fq_clauses_quotes_groups_and_exclusions() -> None:
    clauses, free = ckan.parse_query(
        'organization:ville-x tags:"espaces verts" -license_id:odc-odbl '
        "res_format:(CSV OR XLSX) arbres", "fq")
    assert [(c.field, c.values, c.negated) for c in clauses] == [
        ("organization", ["ville-x"], False),
        ("tags", ["espaces verts"], False),
        ("license_id", ["odc-odbl"], True),
        ("res_format", ["CSV", "XLSX"], False),
    ]
    assert free == "arbres"


def test_q_accepts_udatas_filters_and_the_match_all_query() -> None:
    clauses, free = ckan.parse_query("organization:ville-x AND tags:eau", "q")
    assert [c.field for c in clauses] == ["organization", "tags"] and free == ""
    assert ckan.parse_query("*:*", "q") == ([], "")


def test_unknown_search_field_is_a_search_query_error() -> None:
    with pytest.raises(ckan.CkanError) as error:
        ckan.parse_query("couleur:bleu", "fq")
    assert error.value.kind == "Search Query Error" and error.value.status == 409


def test_sorts() -> None:
    assert ckan._sort_keys("score desc, metadata_modified desc") == [
        ("score", True), ("metadata_modified", True)]
    assert ckan._sort_keys("name") == [("name", False)]
    for bad in ("name sideways", "couleur asc", "name asc extra"):
        with pytest.raises(ckan.CkanError):
            ckan._sort_keys(bad)


def test_datastore_filters_and_text() -> None:
    query, filters, q = ckan._datastore_query({
        "filters": '{"essence": ["Platane", "Chêne"], "commune": "Ligérac", "note": null}',
        "q": {"commune": "saint florent"}})
    assert filters == {"essence": ["Platane", "Chêne"], "commune": "Ligérac", "note": None}
    assert q == {"commune": "saint florent"}
    assert query.filter.items == (
        queries.Condition("essence", "in", ["Platane", "Chêne"]),
        queries.Condition("commune", "eq", "Ligérac"),
        queries.Condition("note", "null"),
        queries.Condition("commune", "contains", "saint"),
        queries.Condition("commune", "contains", "florent"),
    )
    text, _, _ = ckan._datastore_query({"q": "platane ligerac"})
    assert text.search == "platane ligerac" and text.filter.items == ()
    for bad in ({"filters": "[1, 2]"}, {"filters": "{pas du json"}, {"q": [1]}):
        with pytest.raises(ckan.CkanError) as error:
            ckan._datastore_query(bad)
        assert error.value.kind == "Validation Error"


def test_datastore_sort() -> None:
    assert ckan._datastore_sort("essence, hauteur desc") == (
        queries.SortKey("essence"), queries.SortKey("hauteur", True))
    assert ckan._datastore_sort("_id") == ()
    assert ckan._datastore_sort('"hauteur" desc nulls last') == (queries.SortKey("hauteur", True),)
    for bad in ("_id desc", "hauteur sideways", 12):
        with pytest.raises(ckan.CkanError):
            ckan._datastore_sort(bad)


def test_licences_in_ckan_and_datagouv_ids() -> None:
    assert ckan.ckan_licence("Licence Ouverte 2.0")[0] == "lov2"
    assert ckan.ckan_licence("etalab-2.0")[0] == "lov2"
    assert ckan.ckan_licence("ODbL")[0] == "odc-odbl"
    assert ckan.ckan_licence(None) == ("notspecified", "Licence non spécifiée", "")
    assert ckan.ckan_licence("CC BY 4.0")[:2] == ("cc-by-4-0", "CC BY 4.0")


def test_date_ranges_as_ckan_harvesters_send_them() -> None:
    clauses, free = ckan.parse_query(
        "+dataset_type:dataset capacity:public metadata_modified:[2025-01-31T00:00:00Z TO *]",
        "fq")
    assert [c.field for c in clauses] == ["dataset_type", "capacity", "metadata_modified"]
    assert free == ""
    low, high = ckan._date_range(clauses[2].values[0])
    assert low is not None and low.isoformat() == "2025-01-31T00:00:00+00:00" and high is None
    assert ckan._date_range("[* TO 2024-12-31]")[0] is None
    with pytest.raises(ckan.CkanError):
        ckan.parse_query("metadata_modified:[hier TO *]", "fq")


# Inputs that make a backtracking matcher go back over the text once per character: long
# words, fields without values, quotes, groups and ranges that never close, escapes.
HOSTILE = ("a", "a:", 'a:"', "a:(", "a:[", 'a:"\\', '-tags:"x\\" b:(c ', "tags:x" + "y" * 50)


@pytest.mark.parametrize("unit", HOSTILE)
def test_the_scanner_reads_each_character_a_bounded_number_of_times(unit: str) -> None:
    for size in (1_000, 16_000, 120_000):
        text = (unit * (size // len(unit) + 1))[:size]
        scanner = ckan._Scanner(text)
        list(scanner.clauses())
        assert scanner.steps <= 3 * size, (unit, size, scanner.steps)


def test_the_scanner_reads_the_grammar_as_solr_clients_write_it() -> None:
    # A field starts at a letter; a group or a range that never closes is no value; a
    # quote that never closes is read as a bare word.
    text = '1tags:a "b" -name:"c \\" d" +.id:(e OR f) 9q:[1 TO 2] g:(h :i z:"open'
    found = [(sign, name, raw) for _s, _e, sign, name, raw in ckan._Scanner(text).clauses()]
    assert found == [("", "tags", "a"), ("-", "name", '"c \\" d"'), ("", "id", "(e OR f)"),
                     ("", "q", "[1 TO 2]"), ("", "z", '"open')]


def test_a_parameter_longer_than_the_bound_is_refused_before_any_parsing() -> None:
    for name, value in (("q", "a" * 16_384), ("fq", "tags:" + "x" * 120_000),
                        ("fq_list", ["tags:x"] * 2_000)):
        with pytest.raises(ckan.CkanError) as error:
            ckan.call(None, "package_search", {name: value})  # type: ignore[arg-type]
        assert error.value.status == 409 and error.value.kind == "Validation Error"
        assert f"« {name} »" in error.value.message and "trop long" in error.value.message


@pytest.mark.parametrize("fq", ["tags:(arbres", 'tags:"arbres', "name:", "(name: )",
                                "tags:arbres)", "metadata_modified:[* TO", "a:(b]", 'x:"a\\"'])
def test_a_filter_query_solr_cannot_read_is_a_search_query_error(fq: str) -> None:
    with pytest.raises(ckan.CkanError) as error:
        ckan.parse_query(fq, "fq")
    assert error.value.status == 409 and error.value.kind == "Search Query Error"
    assert "illisible" in error.value.message


@pytest.mark.parametrize("fq", ['tags:"a (b"', "res_format:(CSV OR XLSX)", 'name:a\\:b',
                                "metadata_modified:[2025-01-01T00:00:00Z TO *]", "", "arbres",
                                'tags:"x\\" y"', "name: x"])
def test_filter_queries_solr_reads_are_accepted(fq: str) -> None:
    ckan.parse_query(fq, "fq")


def test_sql_result_types_as_the_datastore_names_them() -> None:
    assert [ckan._sql_type(t) for t in (
        "BIGINT", "INTEGER", "DOUBLE", "DECIMAL(38,1)", "BOOLEAN", "DATE",
        "TIMESTAMP WITH TIME ZONE", "VARCHAR", "VARCHAR[]")] == [
        "int8", "int4", "float8", "numeric", "bool", "date", "timestamp", "text", "text"]


def test_themes_are_groups_named_by_their_slug() -> None:
    assert ckan.group_name("Environnement & Énergie") == "environnement-energie"
    assert ckan.group_name("Cadre de vie") == ckan.group_name(" cadre de VIE ")
