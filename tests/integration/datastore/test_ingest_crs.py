"""Positions in French projections (Lambert-93, CC zones…) are stored in WGS84 degrees."""

from __future__ import annotations

import json
import re
import struct
from pathlib import Path

import pytest
import xlsxwriter
from fastapi.testclient import TestClient
from sqlalchemy import select

from patrimoine.access import service as accounts
from patrimoine.access.models import Account
from patrimoine.bootstrap import Services
from patrimoine.core.db import Database
from patrimoine.core.errors import Invalid
from patrimoine.datastore.ingest import sniff
from patrimoine.inventory.models import Dataset
from tests import factories
from tests.conftest import Cli
from tests.factories import REFERENT, ligerac, load, login, new_dataset, rows, write

# Lambert-93 (EPSG:2154) metres of Orléans: town hall (47.9025 N, 1.9090 E), cathedral,
# railway station, the George-V bridge, as a GIS export without a `crs` member writes them.
ORLEANS_L93 = [(618486.6, 6756352.7), (618560.5, 6756296.2), (618158.1, 6756912.9),
               (618135.2, 6755802.0)]
ORLEANS_BOX = (47.86, 47.93, 1.87, 1.96)  # south, north, west, east
# CC48 (EPSG:3948) metres of Strasbourg: cathedral, place Kléber, railway station.
STRASBOURG_CC48 = [(2050299.87, 7275474.87), (2049906.0, 7275628.83), (2049069.65, 7275766.74)]
STRASBOURG_BOX = (48.50, 48.65, 7.68, 7.84)


@pytest.fixture
def dataset(services: Services) -> Dataset:
    return new_dataset(services)


def _inside(lat: float, lon: float, box: tuple[float, float, float, float]) -> bool:
    south, north, west, east = box
    return south <= lat <= north and west <= lon <= east


def _collection(points: list[tuple[float, float]], **extra: object) -> str:
    features = [{"type": "Feature", "properties": {"nom": f"Lieu {i}"},
                 "geometry": {"type": "Point", "coordinates": [x, y]}}
                for i, (x, y) in enumerate(points, 1)]
    return json.dumps({"type": "FeatureCollection", **extra, "features": features})


def test_lambert93_geojson_without_crs_member_is_reprojected(services: Services,
                                                             dataset: Dataset,
                                                             tmp_path: Path) -> None:
    version = load(services, dataset, write(tmp_path, "orleans.geojson",
                                            _collection(ORLEANS_L93)))
    assert version.positions == {"lat": "latitude", "lon": "longitude"}
    data = rows(services, version)
    assert len(data) == 4
    for row in data:
        assert _inside(row["latitude"], row["longitude"], ORLEANS_BOX), row
        lon, lat = json.loads(row["geometry"])["coordinates"]
        assert (lat, lon) == (pytest.approx(row["latitude"]), pytest.approx(row["longitude"]))
    town_hall = data[0]
    assert town_hall["latitude"] == pytest.approx(47.9025, abs=1e-4)
    assert town_hall["longitude"] == pytest.approx(1.9090, abs=1e-4)
    recorded = version.ingest_settings["crs"]
    assert recorded["epsg"] == "EPSG:2154" and recorded["how"] == "valeurs"
    assert "Lambert-93" in recorded["note"]


def test_every_coordinate_of_lines_and_polygons_is_reprojected(services: Services,
                                                               dataset: Dataset,
                                                               tmp_path: Path) -> None:
    ring = [list(p) for p in ORLEANS_L93] + [list(ORLEANS_L93[0])]
    collection = {"type": "FeatureCollection", "features": [
        {"type": "Feature", "properties": {"nom": "Quartier"},
         "geometry": {"type": "Polygon", "coordinates": [ring]}},
        {"type": "Feature", "properties": {"nom": "Rue"},
         "geometry": {"type": "MultiLineString", "coordinates": [ORLEANS_L93[:2],
                                                                  ORLEANS_L93[2:]]}},
    ]}
    version = load(services, dataset, write(tmp_path, "zones.geojson", json.dumps(collection)))
    assert version.ingest_settings["crs"]["epsg"] == "EPSG:2154"
    data = rows(services, version)
    polygon = json.loads(data[0]["geometry"])["coordinates"][0]
    lines = json.loads(data[1]["geometry"])["coordinates"]
    for lon, lat in polygon + lines[0] + lines[1]:
        assert _inside(lat, lon, ORLEANS_BOX)
    assert polygon[0] == polygon[-1]  # the ring stays closed


def test_crs_member_is_read(services: Services, dataset: Dataset, tmp_path: Path) -> None:
    named = {"crs": {"type": "name", "properties": {"name": "urn:ogc:def:crs:EPSG::3948"}}}
    version = load(services, dataset, write(tmp_path, "strasbourg.geojson",
                                            _collection(STRASBOURG_CC48, **named)))
    assert version.ingest_settings["crs"]["epsg"] == "EPSG:3948"
    assert version.ingest_settings["crs"]["how"] == "fichier"
    for row in rows(services, version):
        assert _inside(row["latitude"], row["longitude"], STRASBOURG_BOX)


def test_wgs84_geojson_is_untouched(services: Services, dataset: Dataset,
                                    tmp_path: Path) -> None:
    points = [(1.9090, 47.9025), (1.91, 47.902)]
    version = load(services, dataset, write(tmp_path, "wgs84.geojson", _collection(points)))
    data = rows(services, version)
    assert [(r["longitude"], r["latitude"]) for r in data] == points
    assert json.loads(data[0]["geometry"])["coordinates"] == [1.9090, 47.9025]
    assert version.ingest_settings["crs"]["epsg"] == "EPSG:4326"


def test_override_wins(services: Services, dataset: Dataset, tmp_path: Path) -> None:
    # The user's system is used as asked, even against what the values suggest.
    path = write(tmp_path, "orleans.geojson", _collection(ORLEANS_L93))
    plan = sniff(path, {"crs": "EPSG:27572"})
    assert plan.crs is not None and plan.crs["epsg"] == "EPSG:27572"
    assert plan.crs["how"] == "réglage"
    version = load(services, dataset, path, {"crs": "Lambert-93"})
    assert version.ingest_settings["crs"]["how"] == "réglage"
    assert _inside(rows(services, version)[0]["latitude"], rows(services, version)[0]["longitude"],
                   ORLEANS_BOX)


def test_unknown_crs_override_is_refused_in_french(tmp_path: Path) -> None:
    path = write(tmp_path, "orleans.geojson", _collection(ORLEANS_L93))
    with pytest.raises(Invalid) as caught:
        sniff(path, {"crs": "EPSG:99999999"})
    assert "système de coordonnées inconnu" in " ".join(caught.value.errors)


def test_values_of_no_known_projection_stay_plain_numbers(services: Services, dataset: Dataset,
                                                          tmp_path: Path) -> None:
    # UTM 20N metres (Martinique): no French metropolitan projection places them in France.
    points = [(708000.0, 1615000.0), (709000.0, 1616000.0)]
    path = write(tmp_path, "martinique.geojson", _collection(points))
    plan = sniff(path)
    assert any("ni des degrés ni dans une projection française reconnue" in p
               for p in plan.problems)
    version = load(services, dataset, path)
    assert version.positions is None
    assert version.ingest_settings["crs"]["epsg"] is None
    assert "latitude" not in rows(services, version)[0]
    # Told the system, the same file gets its positions.
    utm = load(services, dataset, path, {"crs": "EPSG:5490"})
    first = rows(services, utm)[0]
    assert 14.3 < first["latitude"] < 14.9 and -61.3 < first["longitude"] < -60.8


def test_cc48_csv_with_x_y_columns(services: Services, dataset: Dataset, tmp_path: Path) -> None:
    lines = ["Nom;X;Y"] + [f"Lieu {i};{x:.2f};{y:.2f}".replace(".", ",")
                           for i, (x, y) in enumerate(STRASBOURG_CC48, 1)]
    path = write(tmp_path, "strasbourg.csv", "\n".join(lines) + "\n")
    plan = sniff(path)
    assert plan.crs is not None and plan.crs["epsg"] == "EPSG:3948"
    assert any("CC48 (EPSG:3948)" in p for p in plan.problems)
    lat, lon = plan.first_rows[0][-2:]
    assert _inside(lat, lon, STRASBOURG_BOX)
    version = load(services, dataset, path)
    assert version.positions == {"lat": "latitude", "lon": "longitude"}
    assert version.ingest_settings["crs"]["epsg"] == "EPSG:3948"
    data = rows(services, version)
    assert [r["x"] for r in data] == [x for x, _ in STRASBOURG_CC48]  # the source kept
    for row in data:
        assert _inside(row["latitude"], row["longitude"], STRASBOURG_BOX), row


def test_lambert93_coord_x_coord_y_with_a_missing_position(services: Services,
                                                           dataset: Dataset,
                                                           tmp_path: Path) -> None:
    lines = ["nom,Coord_X,Coord_Y"] + [f"Lieu {i},{x},{y}"
                                       for i, (x, y) in enumerate(ORLEANS_L93, 1)]
    path = write(tmp_path, "orleans.csv", "\n".join([*lines, "Sans lieu,,"]) + "\n")
    version = load(services, dataset, path)
    data = rows(services, version)
    assert version.ingest_settings["crs"]["epsg"] == "EPSG:2154"
    assert data[0]["latitude"] == pytest.approx(47.9025, abs=1e-4)
    assert all(_inside(r["latitude"], r["longitude"], ORLEANS_BOX) for r in data[:4])
    assert data[4]["latitude"] is None and data[4]["longitude"] is None


def test_x_y_in_degrees_are_the_positions(services: Services, dataset: Dataset,
                                          tmp_path: Path) -> None:
    path = write(tmp_path, "points.csv", "nom;x;y\nMairie;1,909;47,9025\nGare;1,9045;47,9075\n")
    version = load(services, dataset, path)
    assert version.positions == {"lat": "y", "lon": "x"}
    assert version.ingest_settings["crs"]["epsg"] == "EPSG:4326"
    assert rows(services, version)[0]["y"] == 47.9025


def test_wkt_and_geo_shape_points_in_lambert93(services: Services, dataset: Dataset,
                                                tmp_path: Path) -> None:
    wkt = "nom;wkt\n" + "".join(f"Lieu {i};POINT ({x} {y})\n"
                                for i, (x, y) in enumerate(ORLEANS_L93, 1))
    version = load(services, dataset, write(tmp_path, "wkt.csv", wkt))
    assert version.ingest_settings["crs"]["epsg"] == "EPSG:2154"
    assert all(_inside(r["latitude"], r["longitude"], ORLEANS_BOX)
               for r in rows(services, version))
    shapes = "nom,geo_shape\n" + "".join(
        f'Lieu {i},"{{""type"": ""Point"", ""coordinates"": [{x}, {y}]}}"\n'
        for i, (x, y) in enumerate(ORLEANS_L93, 1))
    other = new_dataset(services, "Lieux")
    version = load(services, other, write(tmp_path, "shapes.csv", shapes))
    assert version.positions == {"lat": "latitude", "lon": "longitude"}
    assert all(_inside(r["latitude"], r["longitude"], ORLEANS_BOX)
               for r in rows(services, version))


def _ewkb_polygon(srid: int, ring: list[tuple[float, float]]) -> str:
    """A PostGIS export of a polygon: little-endian EWKB with its SRID, in hexadecimal."""
    body = struct.pack("<BIII", 1, 3 | 0x20000000, srid, 1) + struct.pack("<I", len(ring))
    return (body + b"".join(struct.pack("<dd", x, y) for x, y in ring)).hex().upper()


def test_ewkb_polygons_in_cc48_are_placed_at_their_centroid(services: Services,
                                                             dataset: Dataset,
                                                             tmp_path: Path) -> None:
    # Rennes Métropole's quartiers export (corpus): EWKB hex carrying SRID 3948, one polygon
    # a row. Here squares of 200 m around points of Strasbourg, in CC48.
    lines = ["id;nom;shape"] + [
        f"{i};Quartier {i};" + _ewkb_polygon(3948, [(x - 100, y - 100), (x + 100, y - 100),
                                                   (x + 100, y + 100), (x - 100, y + 100),
                                                   (x - 100, y - 100)])
        for i, (x, y) in enumerate(STRASBOURG_CC48, 1)]
    version = load(services, dataset, write(tmp_path, "quartiers.csv", "\n".join(lines)))
    assert version.ingest_settings["crs"]["epsg"] == "EPSG:3948"
    assert version.positions == {"lat": "latitude", "lon": "longitude"}
    data = rows(services, version)
    assert all(_inside(r["latitude"], r["longitude"], STRASBOURG_BOX) for r in data)
    assert abs(data[0]["latitude"] - 48.5817) < 0.002  # the cathedral, the square's centre
    assert data[0]["shape"].startswith("01030000206C0F0000")  # the geometry kept as it was


def test_wkt_polygons_and_a_column_named_after_its_crs(services: Services, dataset: Dataset,
                                                       tmp_path: Path) -> None:
    # IGN's reference points name each WKT column after its CRS (`CRS:84`, `EPSG:2154`);
    # polygons in Lambert-93 are placed at their centroid.
    lines = ['"CRS:84","EPSG:2154"'] + [
        f'"POINT({lon} {lat})","POLYGON(({x - 50} {y - 50}, {x + 50} {y - 50}, {x + 50} {y + 50}, '
        f'{x - 50} {y + 50}, {x - 50} {y - 50}))"'
        for (x, y), (lat, lon) in zip(ORLEANS_L93, [(47.9025, 1.9090)] * 4, strict=True)]
    version = load(services, dataset, write(tmp_path, "ign.csv", "\n".join(lines)))
    assert version.ingest_settings["crs"]["epsg"] == "EPSG:4326"
    assert [(r["latitude"], r["longitude"]) for r in rows(services, version)] == \
        [(47.9025, 1.909)] * 4
    other = new_dataset(services, "Polygones")
    only_l93 = "\n".join(line.split(",", 1)[1] for line in lines)
    version = load(services, other, write(tmp_path, "l93.csv", only_l93))
    assert version.ingest_settings["crs"]["epsg"] == "EPSG:2154"
    assert all(_inside(r["latitude"], r["longitude"], ORLEANS_BOX)
               for r in rows(services, version))


def test_csv_override_wins(services: Services, dataset: Dataset, tmp_path: Path) -> None:
    lines = ["nom;x;y"] + [f"Lieu {i};{x};{y}" for i, (x, y) in enumerate(ORLEANS_L93, 1)]
    path = write(tmp_path, "orleans.csv", "\n".join(lines) + "\n")
    version = load(services, dataset, path, {"crs": "EPSG:27572"})
    assert version.ingest_settings["crs"] == {
        "epsg": "EPSG:27572", "how": "réglage",
        "note": "Les coordonnées « x / y » sont lues en Lambert II étendu (EPSG:27572), comme "
                "demandé, et converties en WGS84."}
    # Lambert II étendu is not Lambert-93: the points land elsewhere than Orléans.
    assert not _inside(rows(services, version)[0]["latitude"],
                       rows(services, version)[0]["longitude"], ORLEANS_BOX)


def test_cli_crs_option_and_report(services: Services, cli: Cli, tmp_path: Path) -> None:
    with services.db.unit_of_work() as session:
        factories.organisation(session, "Ville d'Orléans")
    path = write(tmp_path, "orleans.geojson", _collection(ORLEANS_L93))
    done = cli("datastore", "load", str(path), "--dataset", "lieux", "--json")
    assert json.loads(done.stdout)["crs"]["epsg"] == "EPSG:2154"
    forced = cli("datastore", "load", str(path), "--dataset", "lieux", "--crs", "EPSG:27572")
    assert "Lambert II étendu (EPSG:27572), comme demandé" in forced.stdout
    sniffed = cli("datastore", "sniff", str(path))
    assert "système des coordonnées : EPSG:2154 (valeurs)" in sniffed.stdout


def test_web_preview_shows_the_crs_and_takes_a_correction(client: TestClient,
                                                          db: Database) -> None:
    world = ligerac(db)
    token = login(client, REFERENT)
    r = client.post(f"/admin/inventaire/{world.slug}/donnees", data={"csrf_token": token},
                    files={"fichier": ("orleans.geojson", _collection(ORLEANS_L93).encode(),
                                       "application/geo+json")})
    assert r.status_code == 200, r.text
    assert "Détecté : EPSG:2154" in r.text
    assert "sont en Lambert-93 (EPSG:2154), reconnu d&#39;après leurs valeurs" in r.text
    jeton = re.search(r'name="jeton" value="([^"]+)"', r.text)
    assert jeton
    form = {"csrf_token": token, "jeton": jeton.group(1), "encodage": "", "separateur": "",
            "ligne_entete": "", "systeme_coordonnees": "EPSG:27572"}
    again = client.post(f"/admin/inventaire/{world.slug}/donnees/apercu", data=form)
    assert "Détecté : EPSG:27572 (choisi)" in again.text
    assert 'value="EPSG:27572"' in again.text
    bad = client.post(f"/admin/inventaire/{world.slug}/donnees/apercu",
                      data={**form, "systeme_coordonnees": "EPSG:99999999"})
    assert bad.status_code == 422 and "système de coordonnées inconnu" in bad.text
    loaded = client.post(f"/admin/inventaire/{world.slug}/donnees/charger",
                         data={**form, "systeme_coordonnees": ""}, follow_redirects=False)
    assert loaded.status_code == 303, loaded.text
    status = client.get(loaded.headers["location"])
    assert "(converties depuis EPSG:2154)" in status.text


def test_an_ambiguous_reading_is_reported(tmp_path: Path) -> None:
    # Bayonne's town hall in Lambert-93: read as Web Mercator the point also lands in France
    # (near Oléron); the choice is said, with how to change it.
    path = write(tmp_path, "bayonne.geojson", _collection([(338463.0, 6275893.0)]))
    plan = sniff(path)
    assert plan.crs is not None and plan.crs["epsg"] == "EPSG:2154"
    assert any("projection ambiguë : Lambert-93 (EPSG:2154) retenu, mais Web Mercator "
               "(EPSG:3857) les placerait aussi en France" in p and "--crs EPSG:3857" in p
               for p in plan.problems)


def test_projected_values_in_latitude_longitude_columns(services: Services, dataset: Dataset,
                                                        tmp_path: Path) -> None:
    lines = ["nom;latitude;longitude"] + [f"Lieu {i};{y};{x}"
                                          for i, (x, y) in enumerate(ORLEANS_L93, 1)]
    version = load(services, dataset, write(tmp_path, "ll.csv", "\n".join(lines) + "\n"))
    assert version.positions == {"lat": "latitude_2", "lon": "longitude_2"}
    for row in rows(services, version):
        assert _inside(row["latitude_2"], row["longitude_2"], ORLEANS_BOX)


def test_xlsx_with_x_y_in_cc48(services: Services, dataset: Dataset, tmp_path: Path) -> None:
    path = tmp_path / "strasbourg.xlsx"
    with xlsxwriter.Workbook(str(path)) as workbook:
        sheet = workbook.add_worksheet("Lieux")
        sheet.write_row(0, 0, ["Nom", "X_CC48", "Y_CC48"])
        for i, (x, y) in enumerate(STRASBOURG_CC48, 1):
            sheet.write_row(i, 0, [f"Lieu {i}", x, y])
    version = load(services, dataset, path)
    assert version.ingest_settings["crs"]["epsg"] == "EPSG:3948"
    assert version.ingest_settings["crs"]["how"] == "fichier"  # the column names say CC48
    for row in rows(services, version):
        assert _inside(row["latitude"], row["longitude"], STRASBOURG_BOX)


def test_the_portal_map_draws_lambert93_points_in_orleans(client: TestClient, services: Services,
                                                         tmp_path: Path) -> None:
    world = factories.portal_world(services, tmp_path)
    load(services, world.counters, write(tmp_path, "orleans.geojson", _collection(ORLEANS_L93)))
    html = client.get(f"/datasets/{world.counters.slug}").text
    found = re.search(r'data-geojson="([^"]+)"', html)
    assert found is not None
    features = client.get(found.group(1).replace("&amp;", "&")).json()["features"]
    assert len(features) == 4
    for feature in features:
        lon, lat = feature["geometry"]["coordinates"]
        assert _inside(lat, lon, ORLEANS_BOX)


def test_a_position_outside_the_projection_domain_gets_none(services: Services,
                                                            dataset: Dataset,
                                                            tmp_path: Path) -> None:
    points = [(708000.0, 1615000.0), (1e12, 1e12)]  # UTM 20N; the second has no image
    path = write(tmp_path, "martinique.geojson", _collection(points))
    plan = sniff(path, {"crs": "EPSG:5490"})
    assert any("1 géométrie(s) hors du domaine" in p and "entités 2" in p for p in plan.problems)
    data = rows(services, load(services, dataset, path, {"crs": "EPSG:5490"}))
    assert 14.3 < data[0]["latitude"] < 14.9
    assert data[1]["geometry"] is None and data[1]["latitude"] is None
    assert data[1]["nom"] == "Lieu 2"  # the record itself is kept


def test_api_takes_the_crs_and_reports_it(client: TestClient, db: Database) -> None:
    world = ligerac(db)
    with db.unit_of_work() as s:
        account = s.scalars(select(Account).where(Account.email == REFERENT)).one()
        _row, secret = accounts.create_api_token(s, account, "tests")
    auth = {"Authorization": f"Bearer {secret}"}
    lines = ["nom;X;Y"] + [f"Lieu {i};{x};{y}" for i, (x, y) in enumerate(ORLEANS_L93, 1)]
    upload = {"file": ("orleans.csv", ("\n".join(lines) + "\n").encode(), "text/csv")}
    base = f"/api/v1/datasets/{world.slug}/versions"
    dry = client.post(base, headers=auth, files=upload, data={"dry_run": "true"})
    assert dry.status_code == 200, dry.text
    assert dry.json()["plan"]["crs"]["epsg"] == "EPSG:2154"
    done = client.post(base, headers=auth, files=upload,
                       data={"overrides": json.dumps({"crs": "EPSG:2154"})})
    assert done.status_code == 201, done.text
    assert done.json()["version"]["crs"]["how"] == "réglage"
    refused = client.post(base, headers=auth, files=upload,
                          data={"overrides": json.dumps({"crs": "n'importe quoi"})})
    assert refused.status_code == 422
    assert "système de coordonnées inconnu" in refused.text


def test_small_whole_numbers_in_x_y_are_not_positions(tmp_path: Path) -> None:
    plan = sniff(write(tmp_path, "grille.csv", "case;x;y\nA1;1;1\nB2;2;2\nC3;3;7\n"))
    assert plan.positions is None and plan.crs is None
