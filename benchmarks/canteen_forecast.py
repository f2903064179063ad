"""The canteen forecast against the staff's orders and Nantes' own model (issue 18).

    PYTHONPATH=src python benchmarks/canteen_forecast.py [DATA_DIR] [--holdout DIR]
        [--years 2015-2016,2016-2017,2017-2018] [--service-level 0.97]

- Backtests by school year of the history (rolling origins, 10 weeks ahead, each trained only
  on attendance before its origin), with and without strike days, the staff beside.
- School year 2018-19, forecast from the history that stops in July 2018 (so 10 to 52 weeks
  ahead), judged against the real figures kept aside (tests/data/nantes-cantines/
  holdout-2018-2019): daily totals beside the staff and Nantes' regression (6.79 %, 4 days
  short), per canteen and day on the 52 days of Sept.-Dec. 2018 whose detail is public.
- The trade-off curve (over-production against days short) as the service level moves.
- The time to fit the model on the whole history.
Not a test: it prints figures, docs/forecast.md records them.
"""

from __future__ import annotations

import argparse
import csv
import time
from datetime import date
from pathlib import Path

from patrimoine.forecast import backtest, model
from patrimoine.forecast.canteens import read_folder

ROOT = Path(__file__).resolve().parents[1]
LEVELS = backtest.TRADEOFF_LEVELS


def pct(x: float) -> str:
    return f"{x * 100:6.2f} %"


def main() -> None:
    parser = argparse.ArgumentParser()
    # Nantes' published folder, beside the repository as the project's shared data is.
    parser.add_argument("data", nargs="?",
                        default=str(ROOT.parent / "shared" / "data" / "nantes-cantines"))
    parser.add_argument("--holdout", default=str(ROOT / "tests/data/nantes-cantines/"
                                                       "holdout-2018-2019"))
    parser.add_argument("--years", default="2015-2016,2016-2017,2017-2018")
    parser.add_argument("--service-level", type=float, default=0.97)
    args = parser.parse_args()

    started = time.process_time()
    history = read_folder(Path(args.data))
    p = model.prepare(history)
    prepared = time.process_time() - started
    started = time.process_time()
    fitted = model.fit(p, date(2018, 8, 1))
    print(f"Lecture et préparation : {prepared:.1f} s CPU ; ajustement sur tout l'historique "
          f"({int((p.day < date(2018, 8, 1).toordinal()).sum())} lignes) : "
          f"{time.process_time() - started:.2f} s CPU")
    print(f"Effet des effectifs : {fitted.headcount_effect:.2f} ; tendance annuelle : "
          f"{fitted.yearly_trend * 100:+.1f} %")

    for year in args.years.split(","):
        started = time.process_time()
        result = backtest.backtest_year(p, year, service_level=args.service_level)
        print(f"\n== Backtest {year} (10 semaines d'avance, niveau {args.service_level:.0%}, "
              f"{time.process_time() - started:.0f} s CPU)")
        print(backtest.describe(result.metrics(), "avec les jours de grève"))
        print(backtest.describe(result.metrics(strikes=False), "sans les jours de grève"))
        print("  courbe : " + " ; ".join(f"{lvl:.0%} → {pct(o).strip()}, {s} j"
                                         for lvl, o, s in result.tradeoff()))

    holdout(p, Path(args.holdout), args.service_level)


def holdout(p: model.Prepared, folder: Path, level: float) -> None:
    totals_file = folder / "totaux_journaliers.csv"
    if not totals_file.is_file():
        print(f"\n(pas de chiffres 2018-2019 mis de côté dans {folder})")
        return
    rows = {date.fromisoformat(r["date"]): r for r in csv.DictReader(totals_file.open())}
    days = sorted(rows)
    calibration = model.calibrate(p, model.week_origin(days[0]))
    forecasts = model.rolling(p, days)
    detail: dict[tuple[tuple[str, str], date], tuple[float | None, float]] = {}
    for r in csv.DictReader((folder / "frequentation_2018-09_2018-12.csv").open()):
        if r["reel"] not in ("", "NA"):
            detail[((r["site_nom"], r["site_type"]), date.fromisoformat(r["date"]))] = (
                None if r["prevision"] in ("", "NA") else float(r["prevision"]),
                float(r["reel"]))
    result = backtest.assemble(p, "2018-2019", 10, level, forecasts, calibration, detail)
    served = {d: float(rows[d]["reel"]) for d in days}
    totals = model.totals(forecasts)
    strikes = {d for d in days if d in p.history.strikes}
    print(f"\n== 2018-2019 mis de côté ({len(days)} jours, dont {len(strikes)} de grève ; "
          f"prévisions faites avant août 2018)")
    for title, chosen in (("avec les jours de grève", days),
                          ("sans les jours de grève", [d for d in days if d not in strikes])):
        s = [served[d] for d in chosen]
        print(f"{title} ({len(chosen)} jours)      surproduction  jours en manque  plus "
              "grand manque  WAPE par jour")
        for name, orders, point in (
                ("personnel", [float(rows[d]["prevision"]) for d in chosen],
                 [float(rows[d]["prevision"]) for d in chosen]),
                ("Nantes, borne 80 %", [float(rows[d]["nantes_pred_upper_80"]) for d in chosen],
                 [float(rows[d]["nantes_pred"]) for d in chosen]),
                (f"modèle, niveau {level:.0%}",
                 [totals[d] * calibration.factor(p, d, level) for d in chosen],
                 [totals[d] for d in chosen])):
            m = backtest.order_metrics(orders, s)
            print(f"  {name:28} {pct(m.over_production)}  {m.days_short:15}  "
                  f"{m.largest_shortage:17.0f}  {pct(backtest.wape(point, s))}")
    print("  courbe du modèle : " + " ; ".join(
        f"{lvl:.0%} → {pct(o).strip()}, {n} j" for lvl, o, n in
        ((lvl, *_curve(p, calibration, lvl, days, totals, served)) for lvl in LEVELS)))
    per_site = result.metrics()
    print(f"Par cantine et jour (sept.-déc. 2018, {len(result.sites)} lignes) : WAPE modèle "
          f"{pct(float(per_site['wape_cantine_jour_modele']))} ; personnel "  # type: ignore[arg-type]
          f"{pct(float(per_site['wape_cantine_jour_personnel']))}")  # type: ignore[arg-type]


def _curve(p: model.Prepared, calibration: model.Calibration, level: float, days: list[date],
           totals: dict[date, float], served: dict[date, float]) -> tuple[float, int]:
    m = backtest.order_metrics([totals[d] * calibration.factor(p, d, level) for d in days],
                               [served[d] for d in days])
    return m.over_production, m.days_short


if __name__ == "__main__":
    main()
