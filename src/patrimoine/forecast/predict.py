"""Forecasts of the service days between two dates, with orders, intervals and reasons.

`predict` is what `patrimoine forecast canteens predict` prints: per day the total forecast,
the proposed order (the service level's quantile of past ratios) and the 10 %-90 % interval;
per canteen and day its forecast and its share of the day's order. Only attendance before
the first day asked is read (`History.before`).
"""

from __future__ import annotations

import math
from datetime import date, timedelta
from typing import Any

from patrimoine.core.errors import Invalid
from patrimoine.forecast import model
from patrimoine.forecast.calendar import FEATURE_LABELS, FEATURE_NAMES, service_days
from patrimoine.forecast.canteens import History, school_year_of

MAX_WEEKS = 20


def check_request(start: date, end: date, service_level: float) -> None:
    if end < start:
        raise Invalid("La date de fin précède la date de début.")
    if end - start > timedelta(weeks=MAX_WEEKS):
        raise Invalid(f"La prévision porte sur {MAX_WEEKS} semaines au plus.")
    check_service_level(service_level)


def check_service_level(service_level: float) -> None:
    if not 0.5 <= service_level < 1:
        raise Invalid("Le niveau de service est une proportion entre 0,5 et 0,99 "
                      "(par exemple 0,97 : court au plus un jour sur trente-trois).")


def predict(history: History, start: date, end: date, service_level: float = 0.97,
            *, explain: bool = False) -> dict[str, Any]:
    """The forecast of the service days from `start` to `end`, from attendance before `start`."""
    check_request(start, end, service_level)
    past = history.before(start)
    if not past.attendance:
        raise Invalid(f"Aucune fréquentation connue avant le {start:%d/%m/%Y}.")
    p = model.prepare(past)
    days = service_days(p.calendar, start, end, p.weekdays)
    fitted = model.fit(p, start)
    calibration = model.calibrate(p, start)
    forecasts = model.forecast(p, fitted, days)
    totals = model.totals(forecasts)
    out_days = []
    factor = {d: calibration.factor(p, d, service_level) for d in days}
    for d in days:
        total = totals.get(d, 0.0)
        low_q, high_q = (calibration.factor(p, d, x) for x in model.INTERVAL)
        row: dict[str, Any] = {"date": d.isoformat(), "forecast": round(total),
                               "order": math.ceil(total * factor[d]), "low": round(total * low_q),
                               "high": round(total * high_q)}
        if explain:
            row["reasons"] = reasons(p, fitted, d)
            row["strike"] = d in history.strikes
        out_days.append(row)
    sites = [{"date": f.day.isoformat(), "site_nom": f.site[0], "site_type": f.site[1],
              "forecast": round(f.forecast), "order": math.ceil(f.forecast * factor[f.day])}
             for f in forecasts]
    result: dict[str, Any] = {"days": out_days, "sites": sites}
    if explain:
        result["model"] = {
            "origin": start.isoformat(), "service_level": service_level,
            "order_factor": calibration.quantile(service_level, False),
            "order_factor_rare_days": calibration.quantile(service_level, True),
            "calibration_days": len(calibration.ratios),
            "headcount_effect": fitted.headcount_effect, "yearly_trend": fitted.yearly_trend,
            "effects": {FEATURE_LABELS[k]: v for k, v in fitted.effects().items()},
            "canteens": len(fitted.levels),
        }
    return result


def reasons(p: model.Prepared, fitted: model.Fitted, day: date) -> list[dict[str, Any]]:
    """The day's effects, largest first: each a label and the change it makes (a fraction);
    the headcount of a new school year is one of them."""
    x = p.features_of(day)
    out = [{"reason": FEATURE_LABELS[name], "effect": math.exp(b) - 1}
           for name, b, on in zip(FEATURE_NAMES, fitted.beta.tolist(), x.tolist(), strict=True)
           if on]
    target = school_year_of(day)
    moved = [(math.exp(level), model.level_shift(p, s, year, target, fitted.headcount_effect, 0.0))
             for s, (level, year) in fitted.levels.items() if year != target]
    if moved:
        base = sum(v for v, _ in moved)
        change = sum(v * math.exp(shift) for v, shift in moved) / base - 1
        out.append({"reason": f"effectifs de l'année scolaire {target}", "effect": change})
    return sorted(out, key=lambda r: -abs(r["effect"]))
