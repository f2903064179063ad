"""The public portal in a real browser against a real server: search the catalog, filter a
table, draw a chart, show a map, download an export; axe-core finds no serious or critical
accessibility violation on the home, catalog, dataset and organisation pages."""

from __future__ import annotations

import json
import re
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from patrimoine.bootstrap import bootstrap
from patrimoine.core.settings import Settings
from tests.factories import PortalWorld, portal_world
from tests.support import server

pytestmark = pytest.mark.e2e

ROOT = Path(__file__).resolve().parents[2]
AXE = ROOT / "var" / "cache" / "npm" / "axe-core" / "axe.min.js"


@pytest.fixture(scope="module")
def site(_templates: Any, tmp_path_factory: pytest.TempPathFactory
         ) -> Iterator[tuple[PortalWorld, str]]:
    """One published territory and one server for the module's tests, which only read."""
    tmp = tmp_path_factory.mktemp("portal-site")
    url = _templates.new_url(tmp)
    services = bootstrap(Settings(data_dir=tmp / "data", database_url=url,
                                  secret_key="test-secret-key"))
    world = portal_world(services, tmp)
    running = server.start({"PATRIMOINE_DATA_DIR": str(services.settings.data_dir),
                            "PATRIMOINE_DATABASE_URL": url,
                            "PATRIMOINE_SECRET_KEY": "test-secret-key"}, tmp / "serve.log")
    yield world, running.url
    server.stop(running)
    services.db.dispose()


@pytest.fixture
def world(site: tuple[PortalWorld, str]) -> PortalWorld:
    return site[0]


@pytest.fixture
def base(site: tuple[PortalWorld, str]) -> str:
    return site[1]


@pytest.fixture(scope="session")
def axe_script() -> Path:
    if not AXE.exists():
        # Fetched once (make test does it beforehand through scripts/fetch-axe.sh).
        subprocess.run([str(ROOT / "scripts" / "fetch-axe.sh")], check=False, timeout=300)
    if not AXE.exists():
        pytest.skip("axe-core absent : lancez scripts/fetch-axe.sh (npm requis).")
    return AXE


def test_search_filter_chart_map_and_download(world: PortalWorld, base: str, page: Any,
                                              tmp_path: Path) -> None:
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.goto(base)
    page.get_by_label("Rechercher un jeu de données").fill("VELO")
    page.get_by_role("button", name="Rechercher").click()
    page.wait_for_url(f"{base}/datasets?q=VELO")
    assert page.locator(".dataset-card-title").all_inner_texts() == ["Comptages vélo"]
    page.get_by_role("link", name="Comptages vélo").click()
    assert page.get_by_role("heading", level=1).inner_text() == "Comptages vélo"

    # Filter the table (a plain form: works without script).
    page.get_by_label("Filtrer la colonne").select_option("compteur")
    page.get_by_label("Condition").select_option("contains")
    page.get_by_label("Valeur", exact=True).fill("chatelet")
    page.get_by_role("button", name="Filtrer").click()
    assert page.locator("#legende-donnees").inner_text().startswith(
        "2 lignes correspondant aux filtres")
    assert page.locator("table.records tbody tr").count() == 2

    # Draw a line chart of the sum of passages per month over the filtered rows.
    page.get_by_label("Type").select_option("line")
    page.get_by_label("Axe ou parts").select_option("date")
    page.get_by_label("Calcul", exact=True).select_option("sum")
    page.get_by_label("Valeur calculée").select_option("passages")
    page.get_by_role("button", name="Tracer").click()
    chart = page.locator("#chart")
    chart.and_(page.locator("[data-rendered=true]")).wait_for()
    assert chart.locator("svg").count() == 1
    assert chart.locator("svg path").count() > 0
    assert "Somme de passages" in page.locator(".chart-alt caption").inner_text()

    # The map shows every positioned row of the filter, without tiles.
    page.locator("#map[data-rendered]").wait_for()
    assert page.locator("#map").get_attribute("data-rendered") == "2"
    assert page.locator("#map.map-no-tiles").count() == 1
    assert page.locator("#map canvas, #map svg path").count() >= 1

    # Download the filtered rows as CSV.
    with page.expect_download() as info:
        page.locator("#telechargements").get_by_role(
            "link", name="CSV (lignes filtrées)").click()
    download = info.value
    saved = tmp_path / download.suggested_filename
    download.save_as(saved)
    text = saved.read_text(encoding="utf-8-sig")
    assert text.splitlines()[0].replace('"', "").startswith("compteur,date,passages")
    assert text.count("Quai Châtelet") == 2 and "Pont Royal" not in text
    assert errors == []


def test_embedded_map_and_chart_draw(world: PortalWorld, base: str, page: Any) -> None:
    page.goto(f"{base}/embed/datasets/{world.counters.slug}/chart?type=pie&x=compteur")
    page.locator(".vega-chart[data-rendered=true]").wait_for()
    page.goto(f"{base}/embed/datasets/{world.counters.slug}/map")
    page.locator(".map[data-rendered]").wait_for()
    assert page.locator(".map").get_attribute("data-rendered") == "6"


@pytest.mark.parametrize("width", [360, 640, 1000])
def test_the_embed_snippets_height_shows_the_source_line(world: PortalWorld, base: str,
                                                          page: Any, width: int) -> None:
    """The licence asks that the source be cited: the snippet's iframe height holds it."""
    html = page.goto(f"{base}/datasets/{world.counters.slug}?x=date&type=line").text()
    heights = {int(h) for h in re.findall(r"height=&quot;(\d+)&quot;|height=\"(\d+)\"",
                                           html) for h in h if h}
    assert heights, "no embed snippet on the page"
    page.set_viewport_size({"width": width, "height": max(heights)})
    for path, drawn in (("chart?type=line&x=date", ".vega-chart[data-rendered=true]"),
                        ("map", ".map[data-rendered]")):
        page.goto(f"{base}/embed/datasets/{world.counters.slug}/{path}")
        page.locator(drawn).wait_for()
        box = page.locator(".embed-source").bounding_box()
        assert box is not None and box["y"] + box["height"] <= max(heights), (path, box)


def test_pages_fit_a_phone_screen(world: PortalWorld, base: str, page: Any) -> None:
    """390 px wide (a common phone): no page scrolls sideways; wide tables scroll in their
    own box."""
    page.set_viewport_size({"width": 390, "height": 844})
    wide = {}
    for path in ("/", "/datasets", f"/datasets/{world.counters.slug}",
                 f"/datasets/{world.subsidies.slug}", "/organisations", "/algorithmes"):
        page.goto(f"{base}{path}")
        width = page.evaluate("document.documentElement.scrollWidth")
        if width > 390:
            wide[path] = width
    assert wide == {}


COMPILE_ALL = """async (urls) => {
  const out = {};
  for (const url of urls) {
    const spec = await (await fetch(url)).json();
    const warnings = [];
    const keep = (...args) => { warnings.push(args.join(' ')); return logger; };
    const logger = {level: () => logger, warn: keep, error: keep, info: () => logger,
                    debug: () => logger};
    const compiled = vegaLite.compile(spec, {logger});
    out[url] = {warnings, marks: compiled.spec.marks.length};
  }
  return out;
}"""


def test_chart_specs_compile_without_warnings(world: PortalWorld, base: str, page: Any) -> None:
    """Every kind of chart the page builds is a valid Vega-Lite spec for the vendored
    compiler: no warning, at least one mark."""
    page.goto(f"{base}/datasets/{world.counters.slug}")
    page.locator("#chart[data-rendered=true]").wait_for()
    spec = f"/datasets/{world.counters.slug}/chart.vl.json?"
    urls = [spec + q for q in (
        "type=bar&x=compteur&agg=count", "type=bar&x=date&y=passages&agg=avg&pas=year",
        "type=line&x=date&y=passages&agg=sum&pas=month", "type=line&x=compteur&agg=count",
        "type=line&x=passages&agg=count", "type=pie&x=compteur&y=passages&agg=max",
        "type=pie&x=compteur&agg=count&filtre=compteur:contains:pont")]
    result = page.evaluate(COMPILE_ALL, urls)
    warned = {u: r["warnings"] for u, r in result.items() if r["warnings"]}
    assert not warned, json.dumps(warned, ensure_ascii=False)
    assert all(r["marks"] >= 1 for r in result.values())


def _serious(page: Any) -> list[dict[str, Any]]:
    """Serious and critical axe-core violations of the page (axe injected by the test)."""
    result = page.evaluate(
        "async () => { const r = await axe.run(document, {resultTypes: ['violations']});"
        " return r.violations.map(v => ({id: v.id, impact: v.impact, help: v.help,"
        " nodes: v.nodes.slice(0, 3).map(n => n.target.join(' '))})); }")
    return [v for v in result if v["impact"] in ("serious", "critical")]


def test_no_serious_accessibility_violation(world: PortalWorld, base: str, page: Any,
                                            axe_script: Path) -> None:
    pages = {
        "accueil": "/",
        "catalogue": "/datasets?q=velo",
        "catalogue filtré": "/datasets?theme=Mobilit%C3%A9&tri=nom",
        "jeu de données": f"/datasets/{world.counters.slug}?filtre=compteur:contains:pont",
        "jeu sans carte": f"/datasets/{world.subsidies.slug}?type=pie&x=secteur",
        "organisations": "/organisations",
        "organisation": f"/organisations/{world.org_slug}",
        "empreintes du journal": "/journal/empreintes",
        "graphique intégré": f"/embed/datasets/{world.counters.slug}/chart?type=line&x=date",
        "carte intégrée": f"/embed/datasets/{world.counters.slug}/map",
    }
    found = {}
    # axe-core goes in as an init script (the browser's, outside the page's Content-Security-
    # Policy, which refuses inline script tags as it should).
    page.add_init_script(path=str(axe_script))
    for name, path in pages.items():
        page.goto(base + path)
        if path.startswith("/datasets/") or "/chart" in path:
            page.locator("[data-vega-spec][data-rendered=true]").wait_for()
        if "/map" in path:
            page.locator("[data-geojson][data-rendered]").wait_for()
        violations = _serious(page)
        if violations:
            found[name] = violations
    assert found == {}, json.dumps(found, ensure_ascii=False, indent=1)


def test_dataset_page_reads_without_javascript(world: PortalWorld, base: str,
                                               browser: Any) -> None:
    context = browser.new_context(java_script_enabled=False, locale="fr-FR")
    try:
        page = context.new_page()
        page.goto(f"{base}/datasets/{world.counters.slug}")
        # Forms work as plain GET forms: filter, then draw (as a table of values).
        page.get_by_label("Rechercher dans les lignes").fill("pont")
        page.get_by_role("button", name="Filtrer").click()
        assert page.locator("table.records tbody tr").count() == 2
        page.get_by_label("Type").select_option("pie")
        page.get_by_role("button", name="Tracer").click()
        assert "recherche=pont" in page.url and "type=pie" in page.url
        alt = page.locator(".chart-alt table")
        assert alt.is_visible()
        assert alt.locator("tbody tr").count() == 1
        page.locator(".map-alt summary").click()
        assert page.locator(".map-alt tbody tr").count() == 2
        assert page.locator("#chart svg").count() == 0  # nothing drawn, nothing missing
    finally:
        context.close()
