"""The publication workflow in a real browser: a referent uploads a CSV (with the upload
progress script), previews and corrects a column type, loads the version and asks for
publication; the chief data officer publishes; the dataset is then public on the portal.
With --screenshots, each page of the workflow goes to docs/screenshots."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from patrimoine.access.models import Role
from patrimoine.core.db import Database
from patrimoine.core.settings import Settings
from patrimoine.publication import service as publication
from tests import factories as f
from tests.e2e.conftest import login, nav

pytestmark = pytest.mark.e2e

OUT = Path(__file__).resolve().parents[2] / "docs" / "screenshots"
REFERENT, CDO = "referent@ligerac.fr", "agd@ligerac.fr"
CSV = "compteur;date;passages;code_quartier;latitude;longitude\n" + "".join(
    f"Écluse {i % 4};2025-0{1 + i % 9}-{1 + i % 28:02d};{200 + i * 7 % 350};{37100 + i % 6};"
    f"47,4{i % 10}{i % 7};0,6{i % 9}{i % 5}\n" for i in range(400))


def test_publication_workflow_and_its_screenshots(
        request: pytest.FixtureRequest, db: Database, settings: Settings, serve: Any,
        page: Any, tmp_path: Path) -> None:
    shots = bool(request.config.getoption("--screenshots"))
    with db.unit_of_work() as s:
        ville = f.organisation(s, "Ville de Ligérac")
        mobility = f.department(s, ville, "Mobilités")
        dataset = f.dataset(
            s, ville, "Comptages vélo des écluses", department=mobility, theme="Mobilité",
            licence="Licence Ouverte 2.0", keywords=["vélo"],
            description="Passages de vélos comptés chaque jour aux écluses de la Loire.")
        slug = dataset.slug
        contacts = f.dataset(
            s, ville, "Contacts des associations", department=mobility, theme="Associations",
            licence="etalab-2.0",
            description="Adresses de contact des associations subventionnées par la ville.")
        f.account(s, REFERENT, roles=[(ville, Role.DATA_REFERENT, mobility)])
        f.account(s, CDO, roles=[(ville, Role.CHIEF_DATA_OFFICER, None)])
        emails = tmp_path / "contacts.csv"
        emails.write_text("association;contact\n" + "".join(
            f"Club {i};secretariat{i}@club{i}.fr\n" for i in range(30)), encoding="utf-8")
        publication.add_version(s, settings, f.SYSTEM, contacts, emails)
        contacts_slug = contacts.slug
    base = serve()
    csv = tmp_path / "comptages-ecluses.csv"
    csv.write_bytes(CSV.encode("cp1252"))

    def shot(name: str, full: bool = True) -> None:
        if shots:
            OUT.mkdir(parents=True, exist_ok=True)
            page.screenshot(path=str(OUT / f"{name}.png"), full_page=full)

    # The referent loads the file from the dataset's back-office page.
    login(page, base, REFERENT, f.PASSWORD)
    nav(page, "Inventaire").click()
    page.get_by_role("link", name="Comptages vélo des écluses").click()
    page.get_by_role("link", name="Charger des données").click()
    assert page.get_by_role("heading", level=1).inner_text().startswith("Charger des données")
    shot("30-publication-envoi", full=False)
    page.get_by_label("Fichier de données").set_input_files(str(csv))
    # A slow link, so that the upload progress (XMLHttpRequest) shows.
    cdp = page.context.new_cdp_session(page)
    cdp.send("Network.enable")
    cdp.send("Network.emulateNetworkConditions", {
        "offline": False, "latency": 0, "downloadThroughput": -1, "uploadThroughput": 8000})
    page.get_by_role("button", name="Envoyer et prévisualiser").click()
    progress = page.locator("[data-progress-text]")
    progress.filter(has_text="Envoi :").wait_for()
    assert page.locator("progress#progression").is_visible()
    shot("30-publication-envoi-progression", full=False)
    cdp.send("Network.emulateNetworkConditions", {
        "offline": False, "latency": 0, "downloadThroughput": -1, "uploadThroughput": -1})
    page.get_by_role("heading", name="Aperçu de « comptages-ecluses.csv »").wait_for()
    assert "Détecté : cp1252" in page.locator(".detected").inner_text()
    assert page.get_by_label("Type de la colonne code_quartier").input_value() == "string"
    assert page.get_by_label("Type de la colonne passages").input_value() == "integer"
    page.get_by_label("Type de la colonne passages").select_option("number")
    page.get_by_role("button", name="Actualiser l'aperçu").click()
    assert page.get_by_label("Type de la colonne passages").input_value() == "number"
    assert page.locator("tr", has_text="passages").get_by_text("corrigé").is_visible()
    shot("31-publication-apercu")
    page.get_by_role("button", name="Charger comme nouvelle version").click()
    assert "Version 1 chargée : 400 lignes, 6 colonnes." in page.get_by_role(
        "status").first.inner_text()
    page.get_by_label("Message pour l'administrateur général des données").fill(
        "Données vérifiées avec le service mobilité.")
    page.get_by_role("button", name="Demander la publication").click()
    assert "Demande de publication envoyée" in page.get_by_role("status").first.inner_text()
    assert page.get_by_role("button", name="Publier en données ouvertes").count() == 0
    shot("32-publication-demandee")

    # The chief data officer finds the request and publishes.
    page.context.clear_cookies()
    login(page, base, CDO, f.PASSWORD)
    nav(page, "Publications").click()
    shot("33-publication-demandes", full=False)
    page.get_by_role("link", name="Comptages vélo des écluses").click()
    assert page.get_by_text("Données vérifiées avec le service mobilité.").is_visible()
    page.get_by_role("button", name="Publier en données ouvertes").click()
    assert "est publié en données ouvertes" in page.get_by_role("status").first.inner_text()
    shot("34-publication-publiee")

    # A file with e-mail addresses waits for the DPO: publishing is blocked, reasons shown.
    page.goto(f"{base}/admin/inventaire/{contacts_slug}/publication")
    assert "Colonne « contact » : adresse électronique" in page.locator(".notice-error") \
        .inner_text()
    assert page.get_by_role("button", name="Publier en données ouvertes").is_disabled()
    shot("35-publication-bloquee")

    # Anyone now reads it on the portal.
    page.context.clear_cookies()
    page.goto(f"{base}/datasets/{slug}")
    assert page.get_by_role("heading", level=1).inner_text() == "Comptages vélo des écluses"
    shot("36-publication-portail", full=False)
