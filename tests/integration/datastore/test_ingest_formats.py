"""Every file kind besides CSV: XLSX, ODS, JSON, NDJSON, GeoJSON, Parquet."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
import xlsxwriter

from patrimoine.bootstrap import Services
from patrimoine.core.errors import Invalid
from patrimoine.datastore.ingest import sniff
from patrimoine.inventory.models import Dataset
from tests.factories import (
    columns,
    load,
    new_dataset,
    parquet_types,
    rows,
    write,
)


@pytest.fixture
def dataset(services: Services) -> Dataset:
    return new_dataset(services)


def _xlsx(path: Path) -> Path:
    book = xlsxwriter.Workbook(str(path))
    sheet = book.add_worksheet("Équipements")
    day = book.add_format({"num_format": "dd/mm/yyyy"})
    sheet.write(0, 0, "Inventaire des équipements sportifs")  # a title row
    for col, header in enumerate(["Nom", "Capacité", "Surface (m²)", "Ouvert", "Inauguré le",
                                  "Budget"]):
        sheet.write(2, col, header)
    data = [
        ["Piscine Jean-Bouin", 350, 1250.5, True, datetime(1998, 6, 1), "1 200,50"],
        ["Gymnase des Chartreux", 120, 800, False, datetime(2005, 9, 15), "980"],
        ["Stade municipal", None, 12000.25, True, None, ""],
    ]
    for r, row in enumerate(data, start=3):
        for c, value in enumerate(row):
            if isinstance(value, datetime):
                sheet.write_datetime(r, c, value, day)
            elif value is not None:
                sheet.write(r, c, value)
    book.add_worksheet("Notes").write(0, 0, "autre feuille")
    book.close()
    return path


def test_xlsx(services: Services, dataset: Dataset, tmp_path: Path) -> None:
    path = _xlsx(tmp_path / "equipements.xlsx")
    plan = sniff(path)
    assert plan.format == "xlsx" and plan.sheet == "Équipements" and plan.header_row == 3
    assert plan.title_rows == ["Inventaire des équipements sportifs"]
    assert any("2 feuilles" in p for p in plan.problems)
    version = load(services, dataset, path)
    assert columns(version) == {"nom": "string", "capacite": "integer", "surface_m2": "number",
                                "ouvert": "boolean", "inaugure_le": "date", "budget": "number"}
    data = rows(services, version)
    assert data[0] == {"_row": 1, "nom": "Piscine Jean-Bouin", "capacite": 350,
                       "surface_m2": 1250.5, "ouvert": True, "inaugure_le": date(1998, 6, 1),
                       "budget": 1200.5}
    assert data[2]["capacite"] is None and data[2]["budget"] is None
    assert version.source_format == "xlsx"


def test_xlsx_two_header_rows_labels_then_codes(services: Services, dataset: Dataset,
                                                tmp_path: Path) -> None:
    # INSEE's layout (the DGCL's EPT workbook of the corpus): titles, a row of labels, a row
    # of variable codes, then the data. The codes name the columns; the labels are reported.
    path = tmp_path / "ept.xlsx"
    book = xlsxwriter.Workbook(str(path))
    sheet = book.add_worksheet("EPT")
    sheet.write(0, 0, "France - Liste des établissements publics territoriaux")
    for r, row in enumerate([["EPT", "Libellé de l'EPT", "Nombre de communes"],
                             ["EPT", "LIBEPT", "NB_COM"],
                             ["200057867", "Plaine Commune", 8],
                             ["200057875", "Est Ensemble", 9],
                             ["ZZZZZZZZZ", "Sans objet", 34746]], start=2):
        sheet.write_row(r, 0, row)
    book.close()
    plan = sniff(path)
    assert plan.header_row == 4 and any("Deux lignes d'en-tête (lignes 3 et 4)" in p and
                                        "NB_COM = « Nombre de communes »" in p
                                        for p in plan.problems)
    version = load(services, dataset, path)
    assert columns(version) == {"ept": "string", "libept": "string", "nb_com": "integer"}
    assert [r["nb_com"] for r in rows(services, version)] == [8, 9, 34746]


def test_xlsx_first_data_row_of_words_stays_data(services: Services, dataset: Dataset,
                                                 tmp_path: Path) -> None:
    path = tmp_path / "totaux.xlsx"
    book = xlsxwriter.Workbook(str(path))
    sheet = book.add_worksheet("Totaux")
    for r, row in enumerate([["Commune", "Population"], ["Total général", "n.c."],
                             ["Orléans", 116617], ["Olivet", 22568]]):
        sheet.write_row(r, 0, row)
    book.close()
    version = load(services, dataset, path)
    assert columns(version) == {"commune": "string", "population": "string"}
    assert [r["commune"] for r in rows(services, version)] == ["Total général", "Orléans",
                                                              "Olivet"]


def test_xlsx_merged_title_over_years(services: Services, dataset: Dataset,
                                      tmp_path: Path) -> None:
    path = tmp_path / "budget.xlsx"
    book = xlsxwriter.Workbook(str(path))
    sheet = book.add_worksheet("Budget")
    sheet.merge_range(0, 1, 0, 2, "Montant (€)")
    sheet.write(0, 0, "Chapitre")
    sheet.write_row(1, 1, [2023, 2024])
    sheet.write_row(2, 0, ["011 Charges générales", 1250.5, 1300])
    sheet.write_row(3, 0, ["012 Personnel", 4000, 4100.25])
    book.close()
    plan = sniff(path)
    assert any("Deux lignes d'en-tête (lignes 1 et 2)" in p for p in plan.problems)
    version = load(services, dataset, path)
    assert columns(version) == {"chapitre": "string", "montant_2023": "number",
                                "montant_2024": "number"}
    assert [c["source_name"] for c in version.columns] == [
        "Chapitre", "Montant (€) 2023", "Montant (€) 2024"]
    assert len(rows(services, version)) == 2


def test_xlsx_group_titles_merged_above_a_header_whose_names_repeat(
        services: Services, dataset: Dataset, tmp_path: Path) -> None:
    # Ville de Montpellier's QualiVille survey: « Accueil téléphonique » merged over some
    # columns, « Locaux » over others, and « Orientation » under both.
    path = tmp_path / "qualiville.xlsx"
    book = xlsxwriter.Workbook(str(path))
    sheet = book.add_worksheet("Total")
    sheet.merge_range(0, 1, 0, 2, "Accueil téléphonique")
    sheet.merge_range(0, 3, 0, 4, "Locaux")
    label = "(Insatisfaits + Très insatisfaits) / Total ayant donné un avis, par service"
    sheet.write_row(1, 0, [label, "Rapidité", "Orientation", "Propreté", "Orientation"])
    sheet.write_row(2, 0, ["DUOP", 0.125, 0.18, 0, 0.5])
    sheet.write_row(3, 0, ["Total ayant donné un avis", 16, 11, 2, 2])
    book.close()
    plan = sniff(path)
    assert plan.title_rows == []
    assert any("Deux lignes d'en-tête (lignes 1 et 2)" in p for p in plan.problems)
    version = load(services, dataset, path)
    assert [c["source_name"] for c in version.columns][1:] == [
        "Accueil téléphonique Rapidité", "Accueil téléphonique Orientation",
        "Locaux Propreté", "Locaux Orientation"]
    assert version.row_count == 2


def test_xlsx_sheet_override(services: Services, dataset: Dataset, tmp_path: Path) -> None:
    path = _xlsx(tmp_path / "equipements.xlsx")
    version = load(services, dataset, path, {"sheet": "Notes", "header_row": 0})
    assert rows(services, version) == [{"_row": 1, "colonne_1": "autre feuille"}]
    with pytest.raises(Invalid, match="pas de feuille « Absente »"):
        load(services, dataset, path, {"sheet": "Absente"})


def _ods(path: Path) -> Path:
    from odf.opendocument import OpenDocumentSpreadsheet
    from odf.table import Table, TableCell, TableRow
    from odf.text import P

    doc = OpenDocumentSpreadsheet()
    table = Table(name="Feuille1")
    cells = [
        [("string", "Commune"), ("string", "Habitants"), ("string", "Date")],
        [("string", "Troyes"), ("float", 61000), ("date", "2021-01-01")],
        [("string", "Sainte-Savine"), ("float", 10500), ("date", "2021-06-30")],
    ]
    for row in cells:
        tr = TableRow()
        for kind, value in row:
            if kind == "string":
                cell = TableCell(valuetype="string")
                cell.addElement(P(text=str(value)))
            elif kind == "float":
                cell = TableCell(valuetype="float", value=value)
            else:
                cell = TableCell(valuetype="date", datevalue=value)
            tr.addElement(cell)
        table.addElement(tr)
    doc.spreadsheet.addElement(table)
    doc.save(str(path))
    return path


def test_ods(services: Services, dataset: Dataset, tmp_path: Path) -> None:
    version = load(services, dataset, _ods(tmp_path / "communes.ods"))
    assert version.source_format == "ods"
    assert columns(version) == {"commune": "string", "habitants": "integer", "date": "date"}
    assert rows(services, version)[1] == {"_row": 2, "commune": "Sainte-Savine",
                                          "habitants": 10500, "date": date(2021, 6, 30)}


def test_json_array_of_objects(services: Services, dataset: Dataset, tmp_path: Path) -> None:
    records = [
        {"nom": "Médiathèque", "visites": 1200, "taux": 0.5, "ouvert": True,
         "horaires": {"lundi": "fermé"}, "montant": "1 234,5", "maj": "2024-03-01"},
        {"nom": "Musée", "visites": None, "taux": 1.25, "ouvert": False, "horaires": None,
         "montant": "10", "maj": "2024-03-02"},
    ]
    path = write(tmp_path, "lieux.json", json.dumps(records, ensure_ascii=False))
    version = load(services, dataset, path)
    assert version.source_format == "json"
    assert columns(version) == {"nom": "string", "visites": "integer", "taux": "number",
                                "ouvert": "boolean", "horaires": "string",
                                "montant": "number", "maj": "date"}
    data = rows(services, version)
    assert json.loads(data[0]["horaires"]) == {"lundi": "fermé"}
    assert data[0]["montant"] == 1234.5 and data[1]["visites"] is None


def test_ndjson(services: Services, dataset: Dataset, tmp_path: Path) -> None:
    lines = [{"id": 1, "texte": "a"}, {"id": 2, "texte": ""}, {"id": 3, "texte": None}]
    path = write(tmp_path, "flux.ndjson", "\n".join(json.dumps(x) for x in lines) + "\n")
    version = load(services, dataset, path)
    assert version.source_format == "ndjson"
    assert [(r["id"], r["texte"]) for r in rows(services, version)] == [
        (1, "a"), (2, ""), (3, None)]


def test_bad_value_in_a_typed_format_names_the_record(services: Services, dataset: Dataset,
                                                       tmp_path: Path) -> None:
    records = [{"n": "1"}, {"n": "2"}, {"n": "trois"}]
    path = write(tmp_path, "n.json", json.dumps(records))
    with pytest.raises(Invalid) as caught:
        load(services, dataset, path, {"types": {"n": "integer"}})
    assert caught.value.message.startswith(
        "n.json, enregistrement 3, colonne « n » : la valeur « trois » n'est pas du type attendu "
        "(entier).")


def test_broken_json(services: Services, dataset: Dataset, tmp_path: Path) -> None:
    with pytest.raises(Invalid, match="fichier JSON invalide à l'octet"):
        load(services, dataset, write(tmp_path, "casse.json", '[{"a": 1}, {"a": '))


def test_geojson_points_and_other_geometries(services: Services, dataset: Dataset,
                                             tmp_path: Path) -> None:
    polygon = {"type": "Polygon", "coordinates": [[[4, 48], [4.1, 48], [4.1, 48.1], [4, 48]]]}
    collection = {"type": "FeatureCollection", "features": [
        {"type": "Feature", "properties": {"nom": "Borne A", "puissance": 22},
         "geometry": {"type": "Point", "coordinates": [4.0741, 48.2973]}},
        {"type": "Feature", "properties": {"nom": "Parc", "puissance": None},
         "geometry": polygon},
        {"type": "Feature", "properties": {"nom": "Sans lieu"}, "geometry": None},
    ]}
    path = write(tmp_path, "bornes.geojson", json.dumps(collection))
    version = load(services, dataset, path)
    assert version.source_format == "geojson"
    assert columns(version) == {"nom": "string", "puissance": "integer", "geometry": "geometry",
                                "latitude": "number", "longitude": "number"}
    assert version.positions == {"lat": "latitude", "lon": "longitude"}
    assert parquet_types(services, version)["geometry"] == "VARCHAR"
    data = rows(services, version)
    assert (data[0]["latitude"], data[0]["longitude"]) == (48.2973, 4.0741)
    assert json.loads(data[1]["geometry"]) == polygon
    assert data[1]["latitude"] is None and data[2]["geometry"] is None


def test_geojson_without_points_has_no_positions(services: Services, dataset: Dataset,
                                                 tmp_path: Path) -> None:
    collection = {"type": "FeatureCollection", "features": [
        {"type": "Feature", "properties": {"nom": "Ligne"},
         "geometry": {"type": "LineString", "coordinates": [[4, 48], [4.1, 48.1]]}}]}
    version = load(services, dataset, write(tmp_path, "l.json", json.dumps(collection)))
    assert version.source_format == "geojson" and version.positions is None
    assert columns(version) == {"nom": "string", "geometry": "geometry"}


def test_parquet(services: Services, dataset: Dataset, tmp_path: Path) -> None:
    table = pa.table({
        "Nom": ["a", "b"],
        "n": pa.array([1, None], pa.int32()),
        "prix": pa.array([Decimal("1.50"), Decimal("2.25")], pa.decimal128(10, 2)),
        "quand": pa.array([datetime(2024, 1, 1, 12, tzinfo=UTC), None],
                          pa.timestamp("us", tz="UTC")),
        "jour": pa.array([date(2024, 1, 1), date(2024, 1, 2)]),
        "tags": [["x", "y"], []],
        "_row": [10, 20],
    })
    path = tmp_path / "source.parquet"
    pq.write_table(table, path)
    version = load(services, dataset, path)
    assert version.source_format == "parquet"
    assert columns(version) == {"nom": "string", "n": "integer", "prix": "number",
                                "quand": "datetime", "jour": "date", "tags": "string",
                                "row": "integer"}
    data = rows(services, version)
    assert data[0] == {"_row": 1, "nom": "a", "n": 1, "prix": 1.5,
                       "quand": datetime(2024, 1, 1, 12), "jour": date(2024, 1, 1),
                       "tags": '["x","y"]', "row": 10}


def test_format_override(services: Services, dataset: Dataset, tmp_path: Path) -> None:
    path = write(tmp_path, "export.dat", "a;b\n1;2\n")
    assert sniff(path).format == "csv"
    with pytest.raises(Invalid) as caught:
        load(services, dataset, path, {"format": "excel"})
    assert "format inconnu « excel »" in caught.value.errors[0]
