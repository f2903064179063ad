"""The canteen forecast on a small slice of Nantes' real files: the no-leak rule, the CLI's
predict and backtest, and the files loaded through the datastore then read back."""

from __future__ import annotations

import csv
import io
import json
import re
import shutil
from datetime import date
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from patrimoine.core.db import Database
from patrimoine.forecast.canteens import read_folder
from patrimoine.forecast.predict import predict
from tests.conftest import Cli
from tests.factories import CDO, ligerac, login

REPO_COPY = Path(__file__).resolve().parents[2] / "data" / "nantes-cantines"
# The real files, attendance cut to three canteens (made by nantes_slice, kept in the repo).
SLICE = REPO_COPY / "trois-cantines"
SITES = {("AGENETS", "M/E"), ("MUTUALITE", "E"), ("CONTRIE", "M/E")}


@pytest.fixture(scope="module")
def folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("cantines")
    for path in SLICE.iterdir():
        shutil.copyfile(path, out / path.name)
    return out


def nantes_slice(nantes: Path, out: Path) -> Path:
    """Nantes' published folder (`nantes`), attendance cut to three canteens from September
    2015: how `trois-cantines` was made."""
    for path in nantes.iterdir():
        if path.name == "frequentation.csv":
            with path.open(encoding="utf-8", newline="") as fh, \
                    (out / path.name).open("w", encoding="utf-8", newline="") as dst:
                reader = csv.reader(fh)
                writer = csv.writer(dst, lineterminator="\n")
                writer.writerow(next(reader))
                for row in reader:
                    if (row[4], row[0]) in SITES and row[1] >= "2015-09-01":
                        writer.writerow(row)
        elif path.suffix == ".csv":
            shutil.copyfile(path, out / path.name)
    return out


def test_nothing_after_the_first_day_is_used(folder: Path) -> None:
    history = read_folder(folder)
    start, end = date(2018, 3, 12), date(2018, 3, 23)
    before = predict(history, start, end)
    # Every count on or after --from changes: the forecast must not move.
    for k, (ordered, served) in list(history.attendance.items()):
        if k[1] >= start:
            history.attendance[k] = (ordered, served * 3 + 7)
    assert predict(history, start, end) == before
    # A count before --from does change it: the test can fail.
    k = max(k for k in history.attendance if k[1] < start)
    history.attendance[k] = (0, history.attendance[k][1] * 3)
    assert predict(history, start, end) != before
    days = [d["date"] for d in before["days"]]
    assert days[0] == "2018-03-12" and "2018-03-14" not in days  # no Wednesday service
    assert {(s["site_nom"], s["site_type"]) for s in before["sites"]} == SITES


def test_cli_predict_json(cli: Cli, folder: Path) -> None:
    done = cli("forecast", "canteens", "predict", "--from", "2018-05-14", "--to",
               "2018-05-25", "--service-level", "0.9", "--json", "--data", str(folder))
    assert done.returncode == 0, done.stderr
    out = json.loads(done.stdout)
    assert set(out) == {"days", "sites"}
    day = out["days"][0]
    assert set(day) == {"date", "forecast", "order", "low", "high"}
    assert day["low"] <= day["forecast"] <= day["high"]
    assert set(out["sites"][0]) == {"date", "site_nom", "site_type", "forecast", "order"}
    assert len(out["sites"]) == 3 * len(out["days"])
    assert sum(s["forecast"] for s in out["sites"] if s["date"] == day["date"]) == \
        pytest.approx(day["forecast"], abs=3)

    bad = cli("forecast", "canteens", "predict", "--from", "2018-05-14", "--to", "2018-12-25",
              "--data", str(folder))
    assert bad.returncode != 0 and "20 semaines" in bad.stderr


def test_cli_backtest(cli: Cli, folder: Path) -> None:
    done = cli("forecast", "canteens", "backtest", "--year", "2017-2018", "--json",
               "--data", str(folder))
    assert done.returncode == 0, done.stderr
    out = json.loads(done.stdout)
    with_strikes, without = out["with_strikes"], out["without_strikes"]
    assert with_strikes["jours"] > without["jours"] > 100
    for m in (with_strikes, without):
        assert 0 < m["wape_cantine_jour_modele"] < 0.3
        assert m["modele"]["days"] == m["jours"]
    text = cli("forecast", "canteens", "backtest", "--year", "2017-2018", "--data", str(folder))
    assert "surproduction" in text.stdout and "sans les jours de grève" in text.stdout


def test_import_then_a_new_week_uploaded_on_the_web(cli: Cli, folder: Path, tmp_path: Path,
                                                    db: Database, client: TestClient) -> None:
    ligerac(db)  # a town and its chief data officer
    # The history up to 2018-06-22, then the next week uploaded through the web pages as a
    # new version of the attendance dataset.
    rows = list(csv.reader(io.StringIO((folder / "frequentation.csv").read_text())))
    first = tmp_path / "first"
    shutil.copytree(folder, first)
    with (first / "frequentation.csv").open("w", newline="") as fh:
        csv.writer(fh, lineterminator="\n").writerows(
            [rows[0], *(r for r in rows[1:] if r[1] < "2018-06-25")])
    done = cli("forecast", "canteens", "import", str(first))
    assert done.returncode == 0, done.stderr
    assert "frequentation.csv : version 1" in done.stdout
    lone = tmp_path / "lone"
    lone.mkdir()
    (lone / "frequentation.csv").write_text("site_type,date,prevision,reel,site_nom\n")
    refused = cli("forecast", "canteens", "import", str(lone))
    assert refused.returncode != 0 and "manquants" in refused.stderr
    week = io.StringIO()
    csv.writer(week, lineterminator="\n").writerows(
        [rows[0], *(r for r in rows[1:] if "2018-06-25" <= r[1] < "2018-07-02")])
    token = login(client, CDO)
    base = "/admin/inventaire/cantines-attendance"
    r = client.post(f"{base}/donnees", data={"csrf_token": token},
                    files={"fichier": ("frequentation-semaine-26.csv", week.getvalue().encode(),
                                       "text/csv")})
    assert r.status_code == 200, r.text
    jeton = re.search(r'name="jeton" value="([^"]+)"', r.text)
    assert jeton is not None
    r = client.post(f"{base}/donnees/charger",
                    data={"csrf_token": token, "jeton": jeton.group(1)}, follow_redirects=False)
    assert r.status_code == 303, r.text
    stored = cli("forecast", "canteens", "predict", "--from", "2018-07-02", "--to",
                 "2018-07-06", "--json")
    direct = cli("forecast", "canteens", "predict", "--from", "2018-07-02", "--to",
                 "2018-07-06", "--json", "--data", str(folder))
    assert stored.returncode == 0, stored.stderr
    assert json.loads(stored.stdout) == json.loads(direct.stdout)
    # Without the uploaded week the forecast differs: the upload is what made them equal.
    before = cli("forecast", "canteens", "predict", "--from", "2018-07-02", "--to",
                 "2018-07-06", "--json", "--data", str(first))
    assert json.loads(before.stdout) != json.loads(direct.stdout)


def test_publish_then_the_public_pages(cli: Cli, folder: Path, db: object, client: object
                                       ) -> None:
    from tests import factories

    with db.unit_of_work() as s:  # type: ignore[attr-defined]
        factories.organisation(s)
    empty = client.get("/prevision-cantines")  # type: ignore[attr-defined]
    assert empty.status_code == 200 and "Aucune prévision n'est encore publiée" in empty.text
    done = cli("forecast", "canteens", "publish", "--from", "2018-05-14", "--to", "2018-05-25",
               "--years", "2017-2018", "--data", str(folder))
    assert done.returncode == 0, done.stderr
    page = client.get("/prevision-cantines", params={"jour": "2018-05-17"})  # type: ignore[attr-defined]
    assert page.status_code == 200
    assert "aucune donnée personnelle" in page.text and "2017-2018" in page.text
    assert "Le 2018-05-17 :" in page.text and "jour : jeudi" in page.text
    backtests = client.get("/prevision-cantines/backtests")  # type: ignore[attr-defined]
    assert backtests.status_code == 200
    assert "<svg" in backtests.text and "Les points de la courbe" in backtests.text
    opened = client.get("/datasets/cantines-previsions")  # type: ignore[attr-defined]
    assert opened.status_code == 200
    registered = cli("forecast", "canteens", "register")
    assert registered.returncode == 0, registered.stderr
    listed = cli("algorithms", "list", "--json")
    entry = json.loads(listed.stdout)[0]
    assert entry["name"].startswith("Prévision de la fréquentation")


def test_an_order_adjusted_by_hand_keeps_its_reason(cli: Cli, folder: Path, db: object
                                                    ) -> None:
    from tests import factories

    with db.unit_of_work() as s:  # type: ignore[attr-defined]
        factories.organisation(s)
    done = cli("forecast", "canteens", "adjust", "--date", "2018-06-14", "--order", "900",
               "--proposed", "870", "--reason", "Sortie scolaire annulée")
    assert done.returncode == 0, done.stderr
    refused = cli("forecast", "canteens", "adjust", "--date", "2018-06-15", "--order", "900",
                  "--reason", " ")
    assert refused.returncode != 0 and "motif" in refused.stderr
    listed = json.loads(cli("forecast", "canteens", "adjustments", "--data",
                            str(folder)).stdout)
    assert len(listed) == 1
    row = listed[0]
    assert (row["proposed"], row["adjusted"], row["reason"]) == (870, 900,
                                                                 "Sortie scolaire annulée")
    text = (folder / "frequentation.csv").read_text(encoding="utf-8")
    served = sum(int(r[3]) for r in csv.reader(io.StringIO(text)) if r[1] == "2018-06-14")
    assert row["served"] == served
