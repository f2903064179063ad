"""The upload preview in a real browser, with files as cities publish them (issue 13): a
header whose cells hold line breaks, amounts with a corrupted cell (rejected, then accepted
in the preview), and Lambert-93 points without a `crs` member, drawn on the dataset's map
inside Rennes. Screenshots go to the test's temporary folder (printed with -s)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from patrimoine.core.db import Database
from tests import factories as f
from tests.e2e.conftest import login

pytestmark = pytest.mark.e2e

DERIVED = Path(__file__).resolve().parents[1] / "data" / "derived"
# The commune of Rennes (INSEE 35238): longitude, latitude bounds.
RENNES = (-1.7526, 48.0769, -1.6244, 48.1549)

# Keeps every Leaflet map the page creates, so that the test reads the drawn markers from
# the map library itself (the page's script holds its maps in a closure).
KEEP_MAPS = """
(() => {
  let leaflet;
  window.__maps = [];
  Object.defineProperty(window, "L", {
    configurable: true,
    get() { return leaflet; },
    set(value) {
      const make = value.map;
      value.map = function (...args) {
        const map = make.apply(this, args);
        window.__maps.push(map);
        return map;
      };
      leaflet = value;
    },
  });
})();
"""
MARKERS = """() => {
  const points = [];
  for (const map of window.__maps) {
    map.eachLayer(layer => {
      if (layer.getLatLng) { const p = layer.getLatLng(); points.push([p.lng, p.lat]); }
    });
  }
  return points;
}"""


def _columns(page: Any) -> dict[str, tuple[str, str]]:
    """{column: (type chosen, meaning shown)} from the preview's table of columns."""
    found = {}
    for row in page.locator("table.columns-plan tbody tr").all():
        name = row.locator("th code").inner_text()
        cell = row.locator("td").nth(1)
        meaning = cell.locator(".tag")
        found[name] = (cell.locator("select option:checked").inner_text(),
                       meaning.inner_text() if meaning.count() else "")
    return found


def _upload(page: Any, base: str, slug: str, path: Path) -> None:
    page.goto(f"{base}/admin/inventaire/{slug}/donnees")
    page.get_by_label("Fichier de données").set_input_files(str(path))
    page.get_by_role("button", name="Envoyer et prévisualiser").click()
    # The form is sent by a script showing progress: the preview replaces the page.
    page.get_by_role("heading", level=1, name=f"Aperçu de « {path.name} »").wait_for()


def test_preview_of_real_files_then_the_map_of_lambert93_points(
        db: Database, serve: Any, page: Any, tmp_path: Path) -> None:
    with db.unit_of_work() as s:
        rennes = f.organisation(s, "Ville de Rennes")
        grants = f.dataset(s, rennes, "Subventions aux associations", **f.PUBLIC).slug
        people = f.dataset(s, rennes, "Populations légales", **f.PUBLIC).slug
        waste = f.dataset(s, rennes, "Producteurs de déchets", licence="Licence Ouverte 2.0",
                          **f.PUBLIC).slug
        f.account(s, "admin@rennes.fr", superadmin=True)
    base = serve()
    page.add_init_script(KEEP_MAPS)
    login(page, base, "admin@rennes.fr", f.PASSWORD)

    def shot(name: str) -> None:
        page.screenshot(path=str(tmp_path / f"{name}.png"), full_page=True)
        print(tmp_path / f"{name}.png")

    # A header whose cells hold quoted line breaks: one column each, named from both lines.
    _upload(page, base, grants, DERIVED / "subventions-castelmaurou-entete-multiligne.csv")
    shot("apercu-entete-multiligne")
    columns = _columns(page)
    assert len(columns) == 14
    assert columns["montant_de_la_subvention_1"] == ("nombre décimal", "montant")
    assert columns["objet_de_la_subvention"] == ("texte", "")
    assert columns["idbeneficiaire"] == ("texte", "SIRET")
    assert columns["dateconvention"] == ("date", "date")
    page.get_by_role("button", name="Charger comme nouvelle version").click()
    page.wait_for_url(f"{base}/admin/inventaire/{grants}/publication")
    report = page.locator("ul.load-report").inner_text()
    assert "Enregistrements : 95 lu(s), 95 chargé(s), 0 rejeté(s)." in report

    # Amounts with one corrupted cell: refused with its line, loaded once accepted.
    _upload(page, base, people, DERIVED / "insee-populations-valeur-abimee.csv")
    columns = _columns(page)
    assert columns["pmun"] == ("entier", "")
    assert columns["com"] == ("texte", "code commune INSEE")
    page.get_by_role("button", name="Charger comme nouvelle version").click()
    alert = " ".join(page.get_by_role("alert").inner_text().split())  # as HTML shows spaces
    assert "ligne 151, colonne « PMUN » : « N 1 234 »" in alert
    shot("apercu-valeur-rejetee")
    page.get_by_label("Charger quand même").check()
    page.get_by_role("button", name="Charger comme nouvelle version").click()
    page.wait_for_url(f"{base}/admin/inventaire/{people}/publication")
    report = page.locator("ul.load-report").inner_text()
    assert "Enregistrements : 400 lu(s), 400 chargé(s), 0 rejeté(s)." in report
    assert "Valeurs rejetées (laissées vides) : 1 — ligne 151, colonne « PMUN »" in report
    shot("version-avec-rejet")

    # Lambert-93 points without a `crs` member: recognised, converted, drawn in Rennes.
    _upload(page, base, waste, DERIVED / "rennes-producteurs-lambert93.geojson")
    assert page.locator("#crs-found").inner_text() == "Détecté : EPSG:2154"
    columns = _columns(page)
    assert columns["latitude"] == ("nombre décimal", "latitude")
    assert columns["code_insee"] == ("texte", "code commune INSEE")
    assert "Lambert-93 (EPSG:2154), reconnu d'après leurs valeurs" in page.locator(
        ".notice-warning").inner_text()
    shot("apercu-lambert93")
    page.get_by_role("button", name="Charger comme nouvelle version").click()
    page.wait_for_url(f"{base}/admin/inventaire/{waste}/publication")
    assert "Système des coordonnées du fichier : EPSG:2154 (converties en WGS84)." in (
        page.locator("ul.load-report").inner_text())
    page.goto(f"{base}/datasets/{waste}")
    page.locator("#map[data-rendered]").wait_for()
    assert page.locator("#map").get_attribute("data-rendered") == "9"
    points = page.evaluate(MARKERS)
    shot("carte-lambert93")
    assert len(points) == 9
    west, south, east, north = RENNES
    assert all(west <= lon <= east and south <= lat <= north for lon, lat in points), points
