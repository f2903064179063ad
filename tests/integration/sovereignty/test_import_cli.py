"""`patrimoine applications import` and `stats`: a 450-row map in Nantes' proportions, header
row below a title, synonyms, all or nothing, per-cell French errors, idempotent re-import."""

from __future__ import annotations

import json
from pathlib import Path

from openpyxl import Workbook

from patrimoine.bootstrap import Services
from patrimoine.sovereignty.models import Application
from tests import factories as f
from tests.conftest import Cli


def out(r: object) -> str:
    return str(getattr(r, "stdout", "")) + str(getattr(r, "stderr", ""))


HEADERS = ["Code", "Nom de l'application", "Collectivité", "Éditeur", "Direction",
           "Hébergement", "Hébergeur", "Pays", "Certifications", "Sensibilité", "Statut"]


def _row(i: int, mode: str, host: str, country: str, status: str = "En service",
         sensitivity: str = "interne") -> list[str]:
    return [f"APP-{i:04d}", f"Application {i}", "Ville de Nantes", "Éditeur", "DSI", mode,
            host, country, "", sensitivity, status]


def _map(path: Path, bad: bool = False) -> Path:
    rows = [_row(i, "Interne", "", "France") for i in range(1, 409)]
    rows += [_row(i, "Hébergeur privé", "Hébergeur FR", "France") for i in range(409, 439)]
    rows += [_row(i, "SaaS", "Éditeur UE", "Allemagne") for i in range(439, 442)]
    rows += [_row(442, "SaaS", "Éditeur CA", "Canada")]
    rows += [_row(i, "Interne", "", "France", status="Retirée") for i in range(443, 451)]
    if bad:
        rows[10][5] = "Sous le bureau"
        rows[20][9] = "secret"
    book = Workbook()
    sheet = book.active
    sheet.append(["Cartographie applicative 2026"])  # a title row above the headers
    sheet.append([])
    sheet.append(HEADERS)
    for row in rows:
        sheet.append(row)
    book.save(path)
    return path


def test_import_450_rows_prints_the_hosting_table(cli: Cli, services: Services,
                                                  tmp_path: Path) -> None:
    with services.db.unit_of_work() as s:
        f.organisation(s, "Ville de Nantes")
    bad = _map(tmp_path / "carto-fautive.xlsx", bad=True)
    r = cli("applications", "import", str(bad))
    assert r.returncode == 2
    assert "Ligne 14, colonne « Hébergement » : Mode d'hébergement « Sous le bureau » " \
           "inconnu(e)" in out(r)
    assert "Ligne 24, colonne « Sensibilité » : Niveau de sensibilité « secret » inconnu" \
           in out(r)
    with services.db.session() as s:
        assert s.query(Application).count() == 0  # all or nothing

    good = _map(tmp_path / "carto.xlsx")
    r = cli("applications", "import", str(good), "--dry-run", "--json")
    assert r.returncode == 0, out(r)
    assert json.loads(r.stdout)["counts"] == {"create": 450, "update": 0, "unchanged": 0}
    with services.db.session() as s:
        assert s.query(Application).count() == 0

    r = cli("applications", "import", str(good))
    assert r.returncode == 0, out(r)
    assert "450 créée(s), 0 modifiée(s), 0 inchangée(s)" in out(r)
    r = cli("applications", "import", str(good), "--json")
    assert json.loads(r.stdout)["counts"] == {"create": 0, "update": 0, "unchanged": 450}

    r = cli("applications", "stats", "--by", "hosting", "--json")
    body = json.loads(r.stdout)
    assert body["total"] == 442
    assert body["counts"] == [
        {"value": "Infrastructure de la collectivité", "count": 408},
        {"value": "Hébergeur privé", "count": 30},
        {"value": "SaaS", "count": 4}]
    r = cli("applications", "stats", "--by", "location", "--json")
    assert json.loads(r.stdout)["counts"] == [
        {"value": "France", "count": 438}, {"value": "Union européenne / EEE", "count": 3},
        {"value": "Pays adéquat", "count": 1}]
    r = cli("applications", "stats", "--by", "organisation")
    assert r.returncode == 0
    assert "Ville de Nantes" in out(r) and "442" in out(r)
    r = cli("applications", "stats", "--by", "hosting")
    assert "Infrastructure de la collectivité" in out(r) and "408" in out(r)
    assert "92,3 %" in out(r)
    r = cli("applications", "stats", "--by", "couleur")
    assert r.returncode == 2 and "Regroupement « couleur » inconnu" in out(r)


CSV = """Référence;Application;Editeur;Hébergement;Hébergeur;Pays;Outil de transfert;\
Certifications;Commentaire
APP-A;Billetterie;Éditeur;SaaS;Billets Inc.;Inde;CCT;ISO 27001, HDS;à revoir
APP-B;Intranet;;Interne;;;;;
"""


def test_csv_import_reads_synonyms_infers_locations_and_updates(
        cli: Cli, services: Services, tmp_path: Path) -> None:
    with services.db.unit_of_work() as s:
        f.organisation(s, "Ville de Nantes")
    path = tmp_path / "carto.csv"
    path.write_text(CSV, encoding="cp1252")
    r = cli("applications", "import", str(path), "--json")
    assert r.returncode == 2 and "Organisation" in out(r)  # no column, no --organisation
    r = cli("applications", "import", str(path), "--organisation", "Ville de Nantes", "--json")
    assert r.returncode == 0, out(r)
    assert json.loads(r.stdout)["counts"] == {"create": 2, "update": 0, "unchanged": 0}
    with services.db.session() as s:
        apps = {a.reference: a for a in s.query(Application)}
        assert apps["APP-A"].location.value == "third_country"
        assert apps["APP-A"].transfer_tool is not None
        assert apps["APP-A"].certifications == ["hds", "iso27001"]
        assert apps["APP-B"].location.value == "france"
    path.write_text(CSV.replace("Billets Inc.;Inde", "Billets SAS;France")
                    .replace(";CCT;", ";;"), encoding="cp1252")
    r = cli("applications", "import", str(path), "--organisation", "ville-de-nantes",
            "--json")
    assert r.returncode == 0, out(r)
    assert json.loads(r.stdout)["counts"] == {"create": 0, "update": 1, "unchanged": 1}
    with services.db.session() as s:
        app = s.query(Application).filter_by(reference="APP-A").one()
        assert (app.host, app.location.value, app.transfer_tool) == ("Billets SAS", "france",
                                                                    None)
