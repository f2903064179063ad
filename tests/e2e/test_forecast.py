"""The canteen forecast's public pages in a real browser, after a publication on a slice of
Nantes' real files: the explanation page (a day chosen in the list shows its reasons) and the
backtest page (the trade-off curve and its table); axe-core finds no serious or critical
violation on either."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from patrimoine.core.db import Database
from tests import factories as f
from tests.conftest import Cli
from tests.e2e.test_portal import _serious, axe_script  # noqa: F401 (a fixture)
from tests.integration.forecast.test_canteen_forecast import SLICE

pytestmark = [pytest.mark.e2e]


def test_the_forecast_pages_read_in_a_browser(db: Database, cli: Cli, serve: Any, page: Any,
                                              axe_script: Path, tmp_path: Path  # noqa: F811
                                              ) -> None:
    with db.unit_of_work() as s:
        f.organisation(s, "Ville de Nantes-sur-Test")
    folder = SLICE
    done = cli("forecast", "canteens", "publish", "--from", "2018-05-14", "--to", "2018-05-25",
               "--years", "2017-2018", "--data", str(folder))
    assert done.returncode == 0, done.stderr
    base = serve()
    page.add_init_script(path=str(axe_script))
    page.goto(f"{base}/prevision-cantines")
    page.get_by_role("heading", level=1,
                     name="Prévision de la fréquentation des cantines scolaires").wait_for()
    assert _serious(page) == []
    page.get_by_label("Jour", exact=True).select_option("2018-05-17")
    page.get_by_role("button", name="Voir").click()
    page.get_by_role("heading", name="Le 2018-05-17 :").wait_for()
    reasons = page.get_by_role("table", name="Les principales raisons de ce nombre")
    assert reasons.get_by_role("cell", name="jour : jeudi").count() == 1
    page.get_by_role("link", name="Le détail des backtests").click()
    page.get_by_role("heading", level=1, name="Backtests de la prévision des cantines").wait_for()
    assert page.get_by_role("img", name="Surproduction et jours en manque").count() == 1
    assert page.get_by_role("table", name="Les points de la courbe").count() == 1
    assert _serious(page) == []
