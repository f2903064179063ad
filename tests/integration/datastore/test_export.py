"""Exports in every format, parsed back; formula neutralisation; streaming; validators."""

from __future__ import annotations

import csv
import io
import json
from datetime import date, datetime
from pathlib import Path

import openpyxl
import pyarrow.parquet as pq
import pytest

from patrimoine.core.errors import Invalid
from patrimoine.datastore import export as ex
from patrimoine.datastore import query as q
from patrimoine.datastore.engine import VersionTable
from tests.factories import generated_sql, open_table


@pytest.fixture(scope="module")
def table(tmp_path_factory: pytest.TempPathFactory) -> VersionTable:
    return open_table(tmp_path_factory.mktemp("equipements"))


def run(table: VersionTable, fmt: str, query: q.Query | None = None, **request: object) -> bytes:
    export_request = ex.ExportRequest(fmt, **request)  # type: ignore[arg-type]
    result = ex.export(table, query or q.Query(), export_request, "equipements")
    assert result.filename == f"equipements.{fmt}"
    assert result.media_type == ex.MEDIA_TYPES[fmt]
    return b"".join(result.chunks)


@pytest.mark.parametrize("delimiter", [",", ";"])
def test_csv_round_trip_with_either_delimiter(table: VersionTable, delimiter: str) -> None:
    data = run(table, "csv", delimiter=delimiter)
    rows = list(csv.reader(io.StringIO(data.decode("utf-8")), delimiter=delimiter))
    assert rows[0] == ["nom", "commune", "montant", "quantite", "actif", "signe", "maj",
                       "latitude", "longitude"]
    assert len(rows) == 10
    assert rows[1] == ["Piscine Jean-Bouin", "Saint-Étienne", "1200.5", "3", "true",
                       "2024-01-15", "2024-01-15T10:00:00", "45.4397", "4.3872"]
    assert rows[8][0] == 'Salle ; "guillemets", virgule\nligne'  # quoted, newline kept
    assert rows[3][2] == "" and rows[4][3] == ""  # nulls are empty cells


def test_csv_neutralises_formulas_but_not_numbers(table: VersionTable) -> None:
    rows = list(csv.reader(io.StringIO(run(table, "csv").decode())))
    names = [r[0] for r in rows[1:]]
    assert "'=HYPERLINK(\"http://x\")" in names
    assert "'+33 stade" in names and "'-tiret" in names and "'@arobase" in names
    assert "'\ttabulation" in names
    assert not any(n[:1] in "=+-@\t" for n in names)
    assert rows[4][2] == "-50"  # a negative number stays a number


def test_json_and_ndjson_round_trip(table: VersionTable) -> None:
    records = json.loads(run(table, "json"))
    assert len(records) == 9
    assert records[0] == {"nom": "Piscine Jean-Bouin", "commune": "Saint-Étienne",
                          "montant": 1200.5, "quantite": 3, "actif": True,
                          "signe": "2024-01-15", "maj": "2024-01-15T10:00:00",
                          "latitude": 45.4397, "longitude": 4.3872}
    assert records[2]["montant"] is None
    lines = run(table, "ndjson").decode().splitlines()
    assert [json.loads(line) for line in lines] == records


def test_geojson_from_positions(table: VersionTable) -> None:
    collection = json.loads(run(table, "geojson"))
    assert collection["type"] == "FeatureCollection"
    features = collection["features"]
    assert len(features) == 9
    assert features[0]["geometry"] == {"type": "Point", "coordinates": [4.3872, 45.4397]}
    assert features[0]["properties"]["commune"] == "Saint-Étienne"
    assert features[5]["geometry"] is None  # row 6 has no position


def test_geojson_from_a_geometry_column(tmp_path: Path) -> None:
    sql = """SELECT * FROM (VALUES
      (1::BIGINT, 'Parc', '{"type":"Polygon","coordinates":[[[0,0],[1,0],[1,1],[0,0]]]}'),
      (2::BIGINT, 'Rue', NULL)) t(_row, nom, geometrie)"""
    table = open_table(tmp_path, sql, [{"name": "nom", "type": "string"},
                                       {"name": "geometrie", "type": "geometry"}], None)
    features = json.loads(run(table, "geojson"))["features"]
    assert features[0]["geometry"]["type"] == "Polygon"
    assert features[0]["properties"] == {"nom": "Parc"}
    assert features[1]["geometry"] is None
    without = open_table(tmp_path, sql, [{"name": "nom", "type": "string"},
                                         {"name": "geometrie", "type": "string"}], None)
    with pytest.raises(Invalid, match="ni géométrie ni positions"):
        run(without, "geojson")


def test_parquet_round_trip_keeps_types(table: VersionTable) -> None:
    parsed = pq.read_table(io.BytesIO(run(table, "parquet")))
    assert parsed.num_rows == 9
    assert str(parsed.schema.field("quantite").type) == "int64"
    assert str(parsed.schema.field("signe").type) == "date32[day]"
    first = parsed.slice(0, 1).to_pylist()[0]
    assert first["signe"] == date(2024, 1, 15) and first["maj"] == datetime(2024, 1, 15, 10)
    assert first["actif"] is True and first["montant"] == 1200.5


def test_xlsx_round_trip_with_formulas_as_text(table: VersionTable) -> None:
    book = openpyxl.load_workbook(io.BytesIO(run(table, "xlsx")))
    sheet = book.active
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[0][:3] == ("nom", "commune", "montant")
    assert len(rows) == 10
    assert rows[1][2] == 1200.5 and rows[1][3] == 3 and rows[1][4] is True
    assert rows[1][5] == datetime(2024, 1, 15)
    assert rows[3][0] == "'=HYPERLINK(\"http://x\")"
    assert all(cell.data_type != "f" for row in sheet.iter_rows() for cell in row)


def test_filtered_sorted_selected_export(table: VersionTable) -> None:
    query = q.Query(filter=q.build_filter(["commune:eq:Lyon"], [], None))
    data = run(table, "csv", query, columns=("nom", "montant"), sort=q.parse_sort("-montant"))
    assert data.decode().splitlines() == ['"nom","montant"', '"Médiathèque Élise",300',
                                          '"\'\ttabulation",20',
                                          '"\'=HYPERLINK(""http://x"")",']


@pytest.mark.parametrize("fmt", ex.FORMATS)
def test_empty_result_is_a_valid_file(table: VersionTable, fmt: str) -> None:
    empty = q.Query(filter=q.build_filter(["commune:eq:Nulle-part"], [], None))
    data = run(table, fmt, empty)
    if fmt == "csv":
        assert data.decode().strip().startswith('"nom"')
    elif fmt in ("json",):
        assert json.loads(data) == []
    elif fmt == "geojson":
        assert json.loads(data)["features"] == []
    elif fmt == "ndjson":
        assert data == b""
    elif fmt == "parquet":
        assert pq.read_table(io.BytesIO(data)).num_rows == 0
    else:
        assert openpyxl.load_workbook(io.BytesIO(data)).active.max_row == 1


def test_large_exports_stream_in_many_chunks_and_stay_valid(tmp_path: Path) -> None:
    big = open_table(tmp_path, generated_sql(100_000))
    result = ex.export(big, q.Query(), ex.ExportRequest("json"), "big")
    chunks = list(result.chunks)
    assert len(chunks) > 3
    assert len(json.loads(b"".join(chunks))) == 100_000
    csv_chunks = list(ex.export(big, q.Query(), ex.ExportRequest("csv", delimiter=";"),
                                "big").chunks)
    assert len(csv_chunks) >= 3
    assert sum(c.count(b"\n") for c in csv_chunks) >= 100_001
    parquet = b"".join(ex.export(big, q.Query(), ex.ExportRequest("parquet"), "big").chunks)
    assert pq.read_table(io.BytesIO(parquet)).num_rows == 100_000


def test_bad_export_requests(table: VersionTable) -> None:
    with pytest.raises(Invalid, match="Format d'export « pdf » inconnu"):
        run(table, "pdf")
    with pytest.raises(Invalid, match="séparateur"):
        run(table, "csv", delimiter="|")
    with pytest.raises(Invalid, match="n'existe pas"):
        run(table, "csv", columns=('nom" FROM records --',))


def test_etag_depends_on_version_query_and_format(table: VersionTable, tmp_path: Path) -> None:
    base = ex.etag(table, q.Query(), ex.ExportRequest("csv"))
    assert base == ex.etag(table, q.Query(), ex.ExportRequest("csv"))
    assert base.startswith('"') and base.endswith('"')
    others = {
        ex.etag(table, q.Query(), ex.ExportRequest("json")),
        ex.etag(table, q.Query(), ex.ExportRequest("csv", delimiter=";")),
        ex.etag(table, q.Query(search="lyon"), ex.ExportRequest("csv")),
        ex.etag(open_table(tmp_path), q.Query(), ex.ExportRequest("csv")),
    }
    assert base not in others and len(others) == 4
