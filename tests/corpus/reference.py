"""What each corpus file holds according to its format's reference reader, and what a correct
ingest must make of it: writes tests/corpus/manifest.json and tests/corpus/holdout/manifest.json.

The dialect of each file (encoding, delimiter, header line, sheet) was determined by hand, by
reading the file; this script only counts what Python's `csv` (or openpyxl, python-calamine
where openpyxl cannot open the workbook, odfpy, `json`) finds with that dialect, so that the
counts in the manifest are reproducible:

    python tests/corpus/reference.py
"""

from __future__ import annotations

import csv
import io
import json
import sys
from pathlib import Path
from typing import Any

HERE = Path(__file__).parent
csv.field_size_limit(sys.maxsize)

# Bounding boxes (west, south, east, north, in degrees) of the places the files describe.
FRANCE = [-5.5, 41.0, 10.0, 51.5]
BBOX = {
    "espes-undurein": [-0.95, 43.22, -0.80, 43.34],
    "rennes-metropole": [-1.95, 47.95, -1.45, 48.30],
    "ardeche": [3.85, 44.25, 4.90, 45.40],
    "val-d-oise": [1.60, 48.90, 2.60, 49.25],
    "paris": [2.20, 48.80, 2.50, 48.92],
    "ign-point": [2.20, 46.40, 2.50, 46.60],
    "montpellier": [3.78, 43.54, 3.96, 43.66],
    "france-and-neighbours": [-6.0, 41.0, 10.5, 52.0],
    # Metropolitan France and its neighbours, Antilles, Guyane, La Réunion, Mayotte.
    "france-and-overseas": [[-6.0, 41.0, 10.5, 52.0], [-63.5, 14.0, -60.5, 18.5],
                            [-57.0, 0.5, -51.0, 6.5], [55.0, -21.6, 56.0, -20.6],
                            [44.8, -13.2, 45.5, -12.4]],
}
NUMERIC = "numeric"  # integer or number


def csv_entry(name: str, encoding: str, delimiter: str, header: int = 1,
              header_records: int = 1, **expect: Any) -> dict[str, Any]:
    """`header`: the 1-based record (as Python's csv counts them) holding the column names;
    0 for a file without a header. `header_records`: 2 where a second header row (labels
    under codes) follows it: it is not data."""
    dialect = {"encoding": encoding, "delimiter": delimiter, "header_record": header}
    if header_records != 1:
        dialect["header_records"] = header_records
    return {"name": name, "format": "csv", "dialect": dialect, "expect": expect}


def sheet_entry(name: str, sheet: str, header: int = 1, reader: str = "openpyxl",
                **expect: Any) -> dict[str, Any]:
    fmt = "ods" if name.endswith(".ods") else "xlsx"
    return {"name": name, "format": fmt, "dialect": {"sheet": sheet, "header_row": header,
            "reader": reader}, "expect": expect}


def geojson_entry(name: str, **expect: Any) -> dict[str, Any]:
    return {"name": name, "format": "geojson", "dialect": {}, "expect": expect}


# expect keys: types {source column: type}; positions {bbox, source_crs}; columns_named
# (False where the reference header is not what a correct ingest names: title rows...);
# named (source names a correct ingest gives: group titles joined to their labels);
# outcome "load" (default), "refuse" (a clear message naming a line) or "rejects" (refused
# by default with the list of rejected cells, each naming its line; loaded once accepted).
FILES = [
    csv_entry("subventions-castelmaurou.csv", "utf-8", ",",
              types={"montant": NUMERIC, "dateConvention": "date", "idAttribuant": "string",
                     "idBeneficiaire": "string", "pourcentageSubvention": NUMERIC}),
    csv_entry("subventions-etalab-exemple.csv", "utf-8", ",",
              types={"montant": NUMERIC, "dateConvention": "date", "idAttribuant": "string",
                     "idBeneficiaire": "string", "pourcentageSubvention": NUMERIC}),
    csv_entry("subventions-etalab-entete-seule.csv", "utf-8", ","),
    csv_entry("irve-statique.csv", "utf-8", ",",
              types={"puissance_nominale": NUMERIC, "siren_amenageur": "string",
                     "date_mise_en_service": "date", "code_insee_commune": "string"},
              positions={"bbox": FRANCE}),
    csv_entry("irve-dynamique.csv", "utf-8", ","),
    csv_entry("stationnement.csv", "utf-8", ",", positions={"bbox": FRANCE}),
    csv_entry("lieux-covoiturage.csv", "utf-8", ",", positions={"bbox": FRANCE}),
    csv_entry("hautes-remunerations.csv", "utf-8", ";"),
    csv_entry("stationnement-cyclable.csv", "utf-8", ",", positions={"bbox": FRANCE}),
    geojson_entry("zfe-zone.geojson"),
    csv_entry("dispositif-aide.csv", "utf-8", ","),
    csv_entry("fontaine-eau.csv", "utf-8", ",", positions={"bbox": FRANCE}),
    csv_entry("acceslibre-base.csv", "utf-8", ",",
              types={"code_insee": "string", "siret": "string"},
              positions={"bbox": FRANCE}),
    sheet_entry("acceslibre-schema-base.xls", "Schéma de données", reader="calamine"),
    csv_entry("arretes-circulation.csv", "utf-8", ",",
              types={"COLL_INSEE": "string", "ARR_DATE": "date"}),
    csv_entry("arretes-carros.csv", "utf-8", ",", types={"COLL_INSEE": "string"}),
    csv_entry("arretes-vence.csv", "utf-8", ",", types={"COLL_INSEE": "string"}),
    csv_entry("arretes-fuveau.csv", "utf-8", ",", types={"COLL_INSEE": "string"}),
    csv_entry("arretes-gignac.csv", "utf-8", ","),
    csv_entry("arretes-septemes-les-vallons.csv", "utf-8", ","),
    csv_entry("arretes-st-victoret.csv", "utf-8", ","),
    csv_entry("insee-arrondissements.csv", "utf-8", ",",
              types={"ARR": "string", "DEP": "string", "CHEFLIEU": "string"}),
    csv_entry("insee-communes.csv", "utf-8", ",",
              types={"COM": "string", "DEP": "string", "REG": "string"}),
    csv_entry("insee-populations.csv", "utf-8", ";",
              types={"COM": "string", "PMUN": NUMERIC, "PTOT": NUMERIC, "DEP": "string"}),
    csv_entry("insee-mouvements-communes.csv", "utf-8", ",",
              types={"DATE_EFF": "date", "COM_AV": "string"}),
    csv_entry("collectivites-outremer.csv", "utf-8", ",",
              types={"code_commune": "string", "code_postal": "string",
                     "population": NUMERIC}),
    csv_entry("populations-mayotte.csv", "utf-8", ";",
              types={"PMUN": NUMERIC, "PTOT": NUMERIC}),
    sheet_entry("dgcl-ept.xlsx", "EPT", header=6, reader="calamine",
                types={"NB_COM": NUMERIC, "EPT": "string"}),
    csv_entry("dgfip-valeurs-foncieres-2024.txt", "utf-8", "|",
              types={"Valeur fonciere": NUMERIC, "Date mutation": "date",
                     "Code departement": "string"}),
    csv_entry("meteofrance-mn07.csv", "utf-8", ";",
              types={"NUM_POSTE": "string", "RR": NUMERIC, "ALTI": NUMERIC},
              positions={"bbox": BBOX["ardeche"]}),
    sheet_entry("dgfip-rei.xlsx", "Notice"),
    sheet_entry("csv-detective-file.ods", "Laureats du concours Dataconnexions_anonyme"),
    csv_entry("annuaire-diagnostiqueurs.csv", "utf-8", ";",
              types={"CP": "string", "Date début validité": "date",
                     "Date fin validité": "date"}),
    csv_entry("datagouv-catalogue.csv", "utf-8", ";"),
    csv_entry("cnig-ac2-assiette-calvados-latin1.csv", "cp1252", ",",
              types={"IdAss": NUMERIC}),
    csv_entry("cnig-ac2-generateur-calvados.csv", "utf-8", ",", types={"IdGen": NUMERIC}),
    csv_entry("cnig-doc-urba-manche.csv", "utf-8", ",", types={"IDURBA": "string"}),
    # One point a row, in CRS:84 (first column) and again in the projection of its place:
    # Lambert-93, UTM 20N (Antilles), UTM 22N (Guyane), UTM 40S (Réunion), UTM 38S (Mayotte).
    csv_entry("ign-reference-projections.csv", "utf-8", ",",
              positions={"bbox": BBOX["france-and-overseas"], "located": 100,
                         "source_crs": "EPSG:4326"}),
    sheet_entry("cnig-keywords.ods", "Feuille1"),
    csv_entry("bal-strasbourg.csv", "utf-8-sig", ";",
              types={"numero": NUMERIC, "x": NUMERIC, "y": NUMERIC},
              positions={"bbox": FRANCE}),
    csv_entry("bal-1.4.csv", "utf-8", ";"),
    csv_entry("bal-espes-undurein.csv", "utf-8-sig", ";",
              types={"numero": NUMERIC, "x": NUMERIC, "y": NUMERIC},
              positions={"bbox": BBOX["espes-undurein"]}),
    csv_entry("datagouv-jeux-de-donnees-2020.csv", "utf-8", ";",
              types={"metric.reuses": NUMERIC}),
    csv_entry("datagouv-mots-cles-2021.csv", "utf-8", ";",
              types={"datasets": NUMERIC, "total": NUMERIC}),
    sheet_entry("montpellier-monuments-historiques.ods", "Feuille1",
                dbase_header=True, types={"OBJECTID": NUMERIC, "SHAPE_AREA": NUMERIC}),
    csv_entry("insee-sirene-dessin-unites-legales.csv", "utf-8", ",",
              types={"Longueur": NUMERIC, "Ordre": NUMERIC}),
    csv_entry("nantes-cantines.csv", "utf-8", ","),
    csv_entry("nantes-menus.csv", "utf-8", ",", types={"date": "date", "rang": NUMERIC}),
    csv_entry("nantes-frequentation.csv", "utf-8", ",",
              types={"date": "date", "prevision": NUMERIC, "reel": NUMERIC}),
    csv_entry("nantes-effectifs.csv", "utf-8", ",", types={"effectif": NUMERIC}),
    csv_entry("rennes-quartiers-ewkb3948.csv", "utf-8", ";",
              types={"aire_geo": NUMERIC, "code_insee": "string"},
              positions={"bbox": BBOX["rennes-metropole"], "source_crs": "EPSG:3948",
                         "located": 12}),
    csv_entry("rennes-producteurs.csv", "utf-8", ";",
              types={"code_insee": "string"}, positions={"bbox": BBOX["rennes-metropole"]}),
    csv_entry("rennes-bacs-export.csv", "utf-8", ";",
              types={"Fréquence CS": NUMERIC, "Litrage récipient": NUMERIC}),
    csv_entry("rennes-pesees.csv", "utf-8", ";", types={"poids": NUMERIC},
              positions={"bbox": BBOX["rennes-metropole"]}),
    sheet_entry("rennes-exutoires.xlsx", "Données brutes Clear"),
    csv_entry("occitanie-qpv.csv", "utf-8-sig", ",",
              types={"pop_mun": NUMERIC, "tx_f": NUMERIC}),
    geojson_entry("occitanie-qpv.geojson", types={"code_commune": "string"}),
    sheet_entry("occitanie-qpv.xlsx", "Quartiers prioritaires", reader="calamine",
                types={"pop_mun": NUMERIC}),
    geojson_entry("valdoise-communes.geojson", types={"code": "string", "population": NUMERIC}),
    csv_entry("scdl-budget-morbihan-ca-2021.csv", "utf-8", ",",
              types={"BGT_SIRET": "string", "BGT_NATURE": "string", "BGT_CONTNAT": "string",
                     "BGT_FONCTION": "string", "BGT_MTREAL": NUMERIC, "BGT_CREDOUV": NUMERIC}),
    # Written without its header line by a custom XSLT of yatotem2scdl: colonne_1…
    csv_entry("scdl-budget-crach-bp-2022-sans-entete.csv", "utf-8", ",", header=0,
              types={"colonne_3": "string", "colonne_7": "string", "colonne_16": NUMERIC,
                     "colonne_19": NUMERIC}),
    # CRLF and LF line ends, addresses over several lines, a SIRET Excel wrote 2,10104E+13.
    csv_entry("decp-profils-acheteurs.csv", "utf-8", ";", types={"siretAcheteur": "string"}),
    csv_entry("decp-marches-exemple.csv", "utf-8", ",",
              types={"acheteur.id": "string", "titulaire.id": "string", "codeCPV": "string",
                     "lieuExecution.code": "string", "montant": NUMERIC,
                     "dateNotification": "date"}),
    csv_entry("plf-2017-comptes-speciaux.csv", "utf-8", ";",
              types={"AELF": NUMERIC, "CPPLF": NUMERIC, "Catégorie_code": "string"}),
    # Lambert-93 coordinates and no `crs` member; WGS84 again, as text with decimal commas,
    # in the Coord_X/Coord_Y properties.
    geojson_entry("montpellier-defibrillateurs-lambert93.geojson",
                  positions={"bbox": BBOX["montpellier"], "source_crs": "EPSG:2154",
                             "located": 167}),
    # A legacy `crs` member naming Web Mercator (urn:ogc:def:crs:EPSG::3857), as QGIS wrote it.
    geojson_entry("rennes-vergers-crs3857.geojson", types={"surface": NUMERIC},
                  positions={"bbox": BBOX["rennes-metropole"], "source_crs": "EPSG:3857",
                             "located": 35}),
    # Accounting amounts: cp1252, no-break-space thousands, padded with spaces, ` -  ` for
    # nothing; the header cell of the amounts is " BP ".
    csv_entry("montpellier-budget-primitif-2014.csv", "cp1252", ";",
              types={"BP": NUMERIC}),
    # Six title rows (the last one empty) above a row of variable codes, then a row of labels.
    csv_entry("insee-montpellier-revenus-fiscaux-2008.csv", "cp1252", ",", header=7,
              header_records=2, types={"NbMen": NUMERIC, "NbPers": NUMERIC, "RFMQ2": NUMERIC,
                                       "nom": "string"}),
    # UTF-16 (Excel « Texte Unicode »), no header line, records ended by CRLF whose titles
    # hold bare LF line breaks, unquoted: Python's csv reads each physical line as a record.
    # Titles merged over several cells (« Accueil téléphonique » over B1:F1) above the row
    # of labels; eleven sheets.
    sheet_entry("montpellier-qualiville-2012.xlsx", "Total", header=2, columns_named=False,
                named=["Accueil téléphonique Orientation", "Accueil physique Orientation",
                       "Prestation Amabilité"],
                types={"Accueil téléphonique Amabilité": NUMERIC, "Locaux Signalétique": NUMERIC}),
    # Header cells holding quoted line breaks ("Montant\nde la subvention de fonctionnement
    # (1)"), cp1252, CRLF and LF; amounts with space thousands; one corrupted cell
    # (`N                 82 584,28`) among 1,625.
    csv_entry("sarthe-subventions-associations-2018.csv", "cp1252", ";",
              outcome="rejects",
              types={"Montant\nde la subvention de fonctionnement (1)": NUMERIC,
                     "CP": "string"}),
    csv_entry("montpellier-deliberations-utf16.txt", "utf-16", ";", header=0,
              outcome="refuse"),
]

HOLDOUT = [
    geojson_entry("zfe-voie-speciale.geojson"),
    csv_entry("acceslibre-sante.csv", "utf-8", ",", positions={"bbox": FRANCE}),
    csv_entry("arretes-le-rove.csv", "utf-8", ",", types={"COLL_INSEE": "string"}),
    csv_entry("insee-departements.csv", "utf-8", ",",
              types={"DEP": "string", "CHEFLIEU": "string"}),
    sheet_entry("datagouv-catalogue.xlsx", "catalog"),
    csv_entry("ign-points-lambert93.csv", "utf-8", ",",
              positions={"bbox": BBOX["ign-point"], "source_crs": "EPSG:2154"}),
    csv_entry("nantes-vacances.csv", "utf-8", ",",
              types={"date_debut": "date", "date_fin": "date"}),
    csv_entry("rennes-bacs.csv", "utf-8", ";",
              types={"litrage_recipient": NUMERIC, "code_puce": "string"}),
    sheet_entry("rennes-exutoires-simple.xlsx", "Feuil1",
                types={"date_Service_Vehic": "date", "km_Realisé": NUMERIC}),
    sheet_entry("montpellier-monuments-historiques.xls", "Feuille1", reader="calamine",
                dbase_header=True, types={"OBJECTID": NUMERIC}),
    csv_entry("scdl-budget-saint-malo-agglo-transport-bp-2022.csv", "utf-8", ",",
              types={"BGT_SIRET": "string", "BGT_NATURE": "string", "BGT_MTPREV": NUMERIC}),
    # État du trafic of Rennes Métropole as its collector stores it: no header line.
    csv_entry("rennes-trafic-sans-entete.csv", "utf-8", ";", header=0,
              types={"colonne_1": "datetime", "colonne_2": "string", "colonne_3": NUMERIC}),
    # Lambert Conformal Conic zone 43 (EPSG:3943) coordinates and no `crs` member.
    geojson_entry("montpellier-aires-de-jeux-cc43.geojson",
                  positions={"bbox": BBOX["montpellier"], "source_crs": "EPSG:3943",
                             "located": 97}),
    csv_entry("montpellier-deliberations-2013.csv", "utf-8", ";",
              types={"Numéro Poseidon": "string", "Date CM": "date"}),
    # A PDF table converted to XLSX: a title row (« Année : 2017 »), header cells merged over
    # two columns and holding line breaks, every row's first two cells merged, footnotes.
    sheet_entry("sarthe-subventions-associations-2017.xlsx", "Table 1", header=2,
                types={"Montant\nde la subvention de fonctionnement (1)": NUMERIC}),
    # Comma-separated records with a `;;` tail, amounts with no-break-space thousands and a
    # decimal comma, unquoted: most records have more fields than the header.
    csv_entry("vendee-subventions-conventions-2018.csv", "cp1252", ",", outcome="refuse"),
    csv_entry("ssmsi-delinquance-departements.csv", "utf-8-sig", ";",
              types={"Code.département": "string", "Code.région": "string", "faits": NUMERIC,
                     "tauxpourmille": NUMERIC}),
]


def _csv_reference(path: Path, dialect: dict[str, Any]) -> tuple[list[str], int]:
    text = path.read_bytes().decode(dialect["encoding"])
    records = [r for r in csv.reader(io.StringIO(text, newline=""),
                                     delimiter=dialect["delimiter"]) if r]
    header = dialect["header_record"]
    if header == 0:
        return [], len(records)
    return records[header - 1], len(records) - header - dialect.get("header_records", 1) + 1


def _sheet_rows(path: Path, dialect: dict[str, Any]) -> list[list[Any]]:
    if dialect["reader"] == "calamine":
        from python_calamine import CalamineWorkbook
        return list(CalamineWorkbook.from_path(str(path))
                    .get_sheet_by_name(dialect["sheet"]).to_python())
    if path.suffix == ".ods":
        from odf import teletype
        from odf.opendocument import load
        from odf.table import Table, TableCell, TableRow
        table = next(t for t in load(str(path)).spreadsheet.getElementsByType(Table)
                     if t.getAttribute("name") == dialect["sheet"])
        return [[teletype.extractText(c) for c in row.getElementsByType(TableCell)]
                for row in table.getElementsByType(TableRow)]
    import openpyxl
    sheet = openpyxl.load_workbook(path, data_only=True)[dialect["sheet"]]
    return [list(row) for row in sheet.iter_rows(values_only=True)]


def _sheet_reference(path: Path, dialect: dict[str, Any]) -> tuple[list[str], int]:
    rows = [r for r in _sheet_rows(path, dialect)
            if any(v not in (None, "") for v in r)]
    header = dialect["header_row"]
    # header_row counts non-empty rows: a blank first row does not count.
    names = [str(v).strip() if v is not None else "" for v in rows[header - 1]]
    while names and not names[-1]:
        names.pop()
    return names, len(rows) - header


def _geojson_reference(path: Path) -> tuple[list[str], int]:
    features = json.loads(path.read_bytes())["features"]
    names: list[str] = []
    for feature in features:
        for key in feature.get("properties") or {}:
            if key not in names:
                names.append(key)
    return names, len(features)


def reference(folder: Path, entry: dict[str, Any]) -> dict[str, Any]:
    path = folder / entry["name"]
    if entry["format"] == "csv":
        names, count = _csv_reference(path, entry["dialect"])
        reader = "python csv"
    elif entry["format"] == "geojson":
        names, count = _geojson_reference(path)
        reader = "json"
    else:
        names, count = _sheet_reference(path, entry["dialect"])
        reader = entry["dialect"]["reader"] if path.suffix != ".ods" else "odfpy"
    return {**entry, "reader": reader, "records": count, "columns": names}


def build(folder: Path, entries: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [reference(folder, e) for e in entries]


if __name__ == "__main__":
    for folder, entries in ((HERE / "files", FILES), (HERE / "holdout", HOLDOUT)):
        manifest = build(folder, entries)
        target = HERE / ("manifest.json" if folder.name == "files" else "holdout/manifest.json")
        target.write_text(json.dumps(manifest, ensure_ascii=False, indent=1) + "\n")
        listed = {e["name"] for e in entries}
        missing = {p.name for p in folder.iterdir() if p.name != "manifest.json"} - listed
        print(f"{target.relative_to(HERE)}: {len(manifest)} files"
              + (f"; not in the manifest: {sorted(missing)}" if missing else ""))
