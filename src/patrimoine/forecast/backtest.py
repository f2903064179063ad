"""School years replayed with rolling origins, and the metrics the canteen service reads.

A backtest of year Y forecasts each of its service days from the Monday `weeks` (≥ 10) weeks
before that day's week, with attendance before that Monday only; the proposed orders use the
calibration made at the year's first origin (the two years before it). Metrics, on daily totals
unless said otherwise, each beside the staff's own orders on the same days:

- over-production Σ(order − served) ÷ Σ order;
- days short (order < served) and the largest shortage (meals);
- WAPE Σ|forecast − served| ÷ Σ served, per canteen and day and per day.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

from patrimoine.core.errors import Invalid
from patrimoine.forecast import model
from patrimoine.forecast.canteens import Site, school_year_of

TRADEOFF_LEVELS = (0.8, 0.85, 0.9, 0.93, 0.95, 0.97, 0.98, 0.99)


@dataclass(frozen=True)
class Metrics:
    over_production: float  # a fraction
    days_short: int
    largest_shortage: float
    days: int


def order_metrics(orders: Sequence[float], served: Sequence[float]) -> Metrics:
    """Over-production, days short and largest shortage of orders against meals served."""
    total = sum(orders)
    shortages = [s - o for o, s in zip(orders, served, strict=True) if o < s]
    return Metrics((total - sum(served)) / total if total else math.nan, len(shortages),
                   max(shortages, default=0.0), len(orders))


def wape(forecasts: Sequence[float], served: Sequence[float]) -> float:
    """Weighted absolute percentage error Σ|forecast − served| ÷ Σ served."""
    total = sum(served)
    return sum(abs(f - s) for f, s in zip(forecasts, served, strict=True)) / total \
        if total else math.nan


@dataclass
class DayResult:
    day: date
    strike: bool
    served: float
    staff: float | None  # the staff's order, when known for every canteen that day
    forecast: float
    order: float
    low: float
    high: float


@dataclass
class YearBacktest:
    year: str
    weeks: int
    service_level: float
    days: list[DayResult]
    sites: list[tuple[Site, date, float, float, float | None]]  # forecast, served, staff
    calibration: model.Calibration
    factors: dict[float, dict[date, float]]  # service level -> day -> order ÷ forecast

    def metrics(self, *, strikes: bool = True) -> dict[str, object]:
        days = [d for d in self.days if strikes or not d.strike]
        strike_days = {d.day for d in self.days if d.strike}
        sites = [s for s in self.sites if strikes or s[1] not in strike_days]
        served = [d.served for d in days]
        staff_days = [d for d in days if d.staff is not None]
        staff_sites = [s for s in sites if s[4] is not None]
        return {
            "jours": len(days),
            "modele": order_metrics([d.order for d in days], served).__dict__,
            "personnel": order_metrics([d.staff or 0.0 for d in staff_days],
                                       [d.served for d in staff_days]).__dict__,
            "wape_jour_modele": wape([d.forecast for d in days], served),
            "wape_jour_personnel": wape([d.staff or 0.0 for d in staff_days],
                                        [d.served for d in staff_days]),
            "wape_cantine_jour_modele": wape([s[2] for s in sites], [s[3] for s in sites]),
            "wape_cantine_jour_personnel": wape([s[4] or 0.0 for s in staff_sites],
                                                [s[3] for s in staff_sites]),
        }

    def tradeoff(self) -> list[tuple[float, float, int]]:
        """(service level, over-production, days short) as the service level moves."""
        served = [d.served for d in self.days]
        out = []
        for level in TRADEOFF_LEVELS:
            m = order_metrics([d.forecast * self.factors[level][d.day] for d in self.days],
                              served)
            out.append((level, m.over_production, m.days_short))
        return out


def backtest_year(p: model.Prepared, year: str, *, weeks: int = 10,
                  service_level: float = 0.97) -> YearBacktest:
    """Replay a school year of the history (its days with attendance)."""
    if weeks < 1:
        raise Invalid("Au moins une semaine d'avance.")
    days = sorted({date.fromordinal(o) for o in set(p.day.tolist())
                   if school_year_of(date.fromordinal(o)) == year})
    if not days:
        raise Invalid(f"Aucun jour de service dans l'historique pour l'année scolaire {year}.")
    first_origin = model.week_origin(days[0], weeks)
    calibration = model.calibrate(p, first_origin)
    forecasts = model.rolling(p, days, weeks)
    return assemble(p, year, weeks, service_level, forecasts, calibration)


def assemble(p: model.Prepared, year: str, weeks: int, service_level: float,
             forecasts: Sequence[model.SiteForecast], calibration: model.Calibration,
             served_rows: dict[tuple[Site, date], tuple[float | None, float]] | None = None
             ) -> YearBacktest:
    """Join forecasts with what was served (from the history, or `served_rows` kept aside)."""
    rows = served_rows if served_rows is not None else {
        k: (None if v[0] is None else float(v[0]), float(v[1]))
        for k, v in p.history.attendance.items() if school_year_of(k[1]) == year}
    by_day = model.totals(forecasts)
    sites = []
    for f in forecasts:
        got = rows.get((f.site, f.day))
        if got is not None:
            sites.append((f.site, f.day, f.forecast, got[1], got[0]))
    served: dict[date, float] = {}
    staff: dict[date, float | None] = {}
    for (_, d), (ordered, real) in rows.items():
        served[d] = served.get(d, 0.0) + real
        previous = staff.get(d, 0.0)
        staff[d] = None if ordered is None or previous is None else previous + ordered
    days = [DayResult(d, d in p.history.strikes, served[d], staff.get(d), total,
                      total * calibration.factor(p, d, service_level),
                      total * calibration.factor(p, d, model.INTERVAL[0]),
                      total * calibration.factor(p, d, model.INTERVAL[1]))
            for d, total in sorted(by_day.items()) if d in served]
    factors = {level: {d.day: calibration.factor(p, d.day, level) for d in days}
               for level in TRADEOFF_LEVELS}
    return YearBacktest(year, weeks, service_level, days, sites, calibration, factors)


def describe(metrics: dict[str, object], title: str) -> str:
    """The metrics as French text, the model beside the staff."""
    m, s = metrics["modele"], metrics["personnel"]
    assert isinstance(m, dict) and isinstance(s, dict)

    def pct(x: object) -> str:
        return f"{float(x) * 100:.2f} %".replace(".", ",")  # type: ignore[arg-type]

    rows = [("surproduction", pct(m["over_production"]), pct(s["over_production"])),
            ("jours en manque", str(m["days_short"]), str(s["days_short"])),
            ("plus grand manque", f"{m['largest_shortage']:.0f}", f"{s['largest_shortage']:.0f}"),
            ("WAPE par jour", pct(metrics["wape_jour_modele"]),
             pct(metrics["wape_jour_personnel"])),
            ("WAPE par cantine et jour", pct(metrics["wape_cantine_jour_modele"]),
             pct(metrics["wape_cantine_jour_personnel"]))]
    return "\n".join([f"{title} ({metrics['jours']} jours)",
                      f"  {'':26}{'modèle':>10}  {'personnel':>12}",
                      *(f"  {name:26}{a:>10}  {b:>12}" for name, a, b in rows)])
