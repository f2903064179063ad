"""Quality score per dataset with its reasons, bands for the facet, the catalog average."""

from __future__ import annotations

import json
from datetime import date, timedelta
from pathlib import Path

from fastapi.testclient import TestClient

from patrimoine.access.principal import Principal
from patrimoine.bootstrap import Services
from patrimoine.charter import quality
from patrimoine.core.clock import now
from patrimoine.datastore.versions import get_version, version_path
from patrimoine.inventory.models import Dataset, UpdateFrequency
from patrimoine.standards import validation
from tests import factories
from tests.conftest import Cli
from tests.factories import SYSTEM, load, write

DESCRIBED_SCHEMA = {
    "name": "equipements",
    "title": "Équipements",
    "fields": [
        {"name": "Code", "type": "string", "description": "Code INSEE de la commune."},
        {"name": "Nom", "type": "string", "description": "Nom de l'équipement."},
        {"name": "Places", "type": "integer", "description": "Nombre de places."},
    ],
}
DATA = "Code;Nom;Places\n01000;Piscine;120\n10000;Gymnase;40\n"
LONG = ("Liste des équipements sportifs municipaux : gymnases, piscines et stades, avec leur "
        "capacité d'accueil et leur commune, mise à jour chaque année.")


def _criteria(score: quality.Score) -> dict[str, bool | None]:
    return {c.id: c.met for c in score.criteria}


def test_a_bare_inventory_entry(services: Services) -> None:
    with services.db.unit_of_work() as session:
        org = factories.organisation(session)
        dataset = factories.dataset(session, org, "Fichier des agents", description="Court.")
        score = quality.quality_score(session, dataset)
    assert [c.id for c in score.criteria] == list(quality.CRITERIA_TITLES)
    assert len(quality.UDATA_CRITERIA) == 9
    met = _criteria(score)
    assert met == {
        "licence": False, "temporal_coverage": False, "spatial_coverage": False,
        "update_frequency": False, "updated_on_time": False, "description": False,
        "open_format": False, "resources_available": False, "documentation": False,
        "columns_documented": False, "schema_conformity": False,
        "no_personal_data_findings": None,
    }
    assert score.value == 0 and score.band == "faible" and score.judged == 11
    reasons = {c.id: c.reason for c in score.criteria}
    assert reasons["description"] == ("Description trop courte : 6 caractères (plus de 100 "
                                      "attendus).")
    assert reasons["no_personal_data_findings"] == "Aucune version publiée à analyser."
    assert reasons["schema_conformity"] == "Aucun schéma de données n'est déclaré."


def test_a_well_kept_dataset_and_what_lowers_it(services: Services, tmp_path: Path) -> None:
    with services.db.unit_of_work() as session:
        org = factories.organisation(session)
        dataset = factories.dataset(
            session, org, "Équipements sportifs", description=LONG, licence="Licence Ouverte",
            spatial_coverage="Troyes", temporal_start=date(2020, 1, 1),
            update_frequency=UpdateFrequency.ANNUAL, **factories.PUBLIC)
        validation.declare_schema(session, SYSTEM, dataset, descriptor=DESCRIBED_SCHEMA)
    load(services, dataset, write(tmp_path, "equipements.csv", DATA))
    with services.db.unit_of_work() as session:
        entry = session.get(Dataset, dataset.id)
        version = get_version(session, entry, 1)
        validation.validate_version(session, services.settings, version)
        score = quality.quality_score(session, entry, services.settings)
        met = _criteria(score)
        assert all(met[c] for c in met if c != "no_personal_data_findings"), score.criteria
        # Never scanned for personal data: unknown, said so, left out of the score.
        assert met["no_personal_data_findings"] is None
        assert "pas encore été analysée" in score.criteria[-1].reason
        assert (score.value, score.band, score.judged) == (100, "bonne", 11)
        reasons = {c.id: c.reason for c in score.criteria}
        assert reasons["licence"] == "Licence indiquée : Licence Ouverte 2.0."
        assert reasons["columns_documented"] == "Les 3 colonnes sont décrites."
        assert reasons["open_format"].startswith("La version 1 se télécharge en CSV")

        from patrimoine.protection.findings import service as findings
        findings.ensure_scanned(session, services.settings, version)
        scanned = quality.quality_score(session, entry, services.settings)
        assert _criteria(scanned)["no_personal_data_findings"] is True
        assert scanned.judged == 12

        # A year and a half without a new version, for an annual dataset: late.
        version.created_at = now() - timedelta(days=550)
        late = quality.quality_score(session, entry, services.settings)
        on_time = next(c for c in late.criteria if c.id == "updated_on_time")
        assert on_time.met is False and on_time.reason.startswith("En retard de 184 jour(s)")
        assert late.value == round(100 * 11 / 12)

        # The file gone from the store: not available.
        version_path(services.settings, version).rename(tmp_path / "moved.parquet")
        gone = quality.quality_score(session, entry, services.settings)
        assert _criteria(gone)["resources_available"] is False


def test_personal_data_findings_lower_the_score(services: Services, tmp_path: Path) -> None:
    with services.db.unit_of_work() as session:
        org = factories.organisation(session)
        dataset = factories.dataset(session, org, "Inscriptions", description=LONG)
    text = "nom;courriel\n" + "".join(f"Agent {i};agent{i}@example.fr\n" for i in range(40))
    load(services, dataset, write(tmp_path, "inscriptions.csv", text))
    with services.db.unit_of_work() as session:
        entry = session.get(Dataset, dataset.id)
        from patrimoine.protection.findings import service as findings
        findings.ensure_scanned(session, services.settings, get_version(session, entry, 1))
        criterion = quality.quality_score(session, entry).criteria[-1]
        assert criterion.met is False
        assert "bloquent la publication de la version 1" in criterion.reason
        assert "courriel" in criterion.reason


def test_description_threshold_is_more_than_100_characters(services: Services) -> None:
    with services.db.unit_of_work() as session:
        org = factories.organisation(session)
        exactly = factories.dataset(session, org, "A", description="x" * 100)
        longer = factories.dataset(session, org, "B", description="x" * 101)
        scores = quality.quality_scores(session, [exactly, longer])
    assert _criteria(scores[exactly.id])["description"] is False
    assert _criteria(scores[longer.id])["description"] is True


def test_bands_and_catalog_average(services: Services) -> None:
    with services.db.unit_of_work() as session:
        org = factories.organisation(session)
        rich = factories.dataset(
            session, org, "Riche", description=LONG, licence="ODbL", spatial_coverage="Troyes",
            temporal_start=date(2024, 1, 1), update_frequency=UpdateFrequency.IRREGULAR,
            **factories.PUBLIC)
        rich.extra = {"documentation": "https://doc.example.fr"}
        bare = factories.dataset(session, org, "Pauvre")
        scores = quality.quality_scores(session, [rich, bare])
        assert scores[rich.id].value == round(100 * 7 / 11)  # no data: four criteria unmet
        assert quality.quality_bands(session, [rich, bare]) == {rich.id: "moyenne",
                                                              bare.id: "faible"}
        assert quality.band_counts(session, [rich, bare]) == {"bonne": 0, "moyenne": 1,
                                                            "faible": 1}
        everything = quality.catalog_quality(session, SYSTEM)
        assert everything.datasets == 2
        assert everything.average == round((scores[rich.id].value + 0) / 2, 1)
        assert everything.criteria_met["licence"] == 1
        assert quality.catalog_average(session, Principal.anonymous()) == scores[rich.id].value
        assert quality.catalog_quality(session, datasets=[]).average is None


def test_api_quality(services: Services, client: TestClient) -> None:
    with services.db.unit_of_work() as session:
        org = factories.organisation(session)
        open_ = factories.dataset(session, org, "Ouvert", description=LONG,
                                  **factories.PUBLIC)
        closed = factories.dataset(session, org, "Interne")
    body = client.get(f"/api/v1/datasets/{open_.slug}/quality").json()
    assert body["dataset"] == open_.slug and body["value"] == round(100 / 11)
    assert body["band"] == "faible" and len(body["criteria"]) == 12
    description = next(c for c in body["criteria"] if c["id"] == "description")
    assert description == {"id": "description", "title": "Description détaillée", "met": True,
                           "reason": f"Description de {len(LONG)} caractères.", "udata": True}
    assert client.get(f"/api/v1/datasets/{closed.slug}/quality").status_code == 404
    catalog = client.get("/api/v1/inventory/quality").json()
    assert catalog["datasets"] == 1 and catalog["average"] == round(100 / 11)


def test_cli_quality(services: Services, cli: Cli) -> None:
    empty = cli("inventory", "quality")
    assert empty.returncode == 0 and "L'inventaire est vide" in empty.stdout
    with services.db.unit_of_work() as session:
        org = factories.organisation(session)
        factories.dataset(session, org, "Riche", description=LONG, licence="ODbL")
    figures = json.loads(cli("inventory", "quality", "--json").stdout)
    assert figures["average"] == 18.0 and figures["criteria_met"]["licence"] == 1
    shown = cli("inventory", "quality")
    assert shown.returncode == 0, shown.stderr
    assert "Score de qualité moyen : 18,0/100 sur 1 jeu(x)" in shown.stdout


def test_columns_whose_meaning_is_recognised_count_as_documented(services: Services,
                                                                 tmp_path: Path) -> None:
    """A SIRET with valid keys, a code commune INSEE and a date say what their column holds:
    they count in the score as described columns; a column of free text does not."""
    rows = [("siret", "code_insee", "date_convention", "objet")] + [
        (s, c, f"{d:02d}/03/2024", f"Objet {i}") for i, (s, c, d) in enumerate([
            ("21310117300010", "31117", 1), ("78012958100010", "31555", 2),
            ("41395842200045", "75056", 3), ("35600000000048", "69123", 4),
            ("21310117300010", "13055", 5), ("78012958100010", "33063", 6)])]
    data = "\n".join(";".join(r) for r in rows) + "\n"
    with services.db.unit_of_work() as session:
        org = factories.organisation(session)
        dataset = factories.dataset(session, org, "Conventions")
    version = load(services, dataset, write(tmp_path, "conventions.csv", data))
    assert set((version.ingest_settings or {})["meanings"]) == {
        "siret", "code_insee", "date_convention"}
    with services.db.unit_of_work() as session:
        score = quality.quality_score(session, session.get_one(Dataset, dataset.id))
    criterion = next(c for c in score.criteria if c.id == "columns_documented")
    assert criterion.met is False
    assert criterion.reason == (
        "1 colonne(s) sur 4 sans description ni sens reconnu : «\u00a0objet\u00a0».")
    with services.db.unit_of_work() as session:
        entry = session.get_one(Dataset, dataset.id)
        entry.extra = {"columns": {"objet": "Objet de la convention."}}
    with services.db.unit_of_work() as session:
        score = quality.quality_score(session, session.get_one(Dataset, dataset.id))
    criterion = next(c for c in score.criteria if c.id == "columns_documented")
    assert criterion.met is True
    assert criterion.reason == (
        "Les 4 colonnes sont décrites (3 par le sens reconnu à leur chargement : "
        "SIRET, code commune INSEE, date).")
