"""The canteen forecast: a log-linear regression with named effects, readable by a person.

For a canteen (site) s and a service day d, forecast from an origin O (nothing served on or
after O is read):

    meals(s, d) = level(s) × Π exp(β_k · x_k(d))

- `x_k(d)` are the day's known-ahead features (calendar.FEATURES: day of week, month, holidays
  nearby, bridges, strike notice, menu); the β_k are one set for all canteens, fitted by ridge
  least squares on log(meals served) within each canteen and school year (so they say how a
  day differs from the canteen's ordinary day that year);
- `level(s)` is the canteen's recent ordinary day: the mean of its last `LEVEL_DAYS` days
  served before O with the day's effects removed; when the forecast day falls in a later
  school year, the level moves by the effect of the change in the canteen's headcount (pupils
  of its schools, known before the year starts) and the yearly trend, both fitted on the
  history of year-to-year changes (`headcount_effect`, `yearly_trend`).

The proposed order for a day is the forecast times a quantile of past ratios served ÷
forecast (the calibration: forecasts the model made `CALIBRATION_WEEKS` weeks ahead over the
two years before O, all compared with meals already served), of ordinary days or of days of
rare calendar events (first and last days of the school year, bridges: wider errors); the
service level is how often the authority accepts to be short. The interval is the 10 %-90 %
quantiles.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta

import numpy as np

from patrimoine.forecast.calendar import FEATURE_NAMES, Calendar, features, service_days
from patrimoine.forecast.canteens import History, Site, school_year_of

LEVEL_DAYS = 30  # ordinary days a canteen's level is measured on
ACTIVE_DAYS = 120  # a canteen not served for this long before the origin is closed
CALIBRATION_WEEKS = 10  # the horizon the calibration forecasts are made at
# Two school years of ratios: one (130 days) leaves the 97 % quantile to 4 days.
CALIBRATION_DAYS = 730
RIDGE = 1.0
HALF_LIFE_YEARS = 2.0  # a school year this much older weighs half in the fit
INTERVAL = (0.10, 0.90)


@dataclass
class Prepared:
    """A history as arrays, built once: a fit at any origin only masks rows."""

    history: History
    calendar: Calendar
    sites: list[Site]
    weekdays: set[int]
    site_idx: np.ndarray
    day: np.ndarray  # ordinal of the day
    served: np.ndarray
    ordered: np.ndarray  # the staff's order, NaN when unknown
    X: np.ndarray  # features of each row
    strike: np.ndarray  # whether the row's day was a strike day
    _day_features: dict[date, np.ndarray] = field(default_factory=dict)
    _year_days: dict[tuple[date, date], list[date]] = field(default_factory=dict)

    def features_of(self, day: date) -> np.ndarray:
        found = self._day_features.get(day)
        if found is None:
            year = self.calendar.year_bounds(day)
            days: list[date] = []
            if year:
                if year not in self._year_days:
                    self._year_days[year] = service_days(self.calendar, *year, self.weekdays)
                days = self._year_days[year]
            values = features(self.calendar, day, days)
            found = np.array([values.get(n, 0.0) for n in FEATURE_NAMES])
            self._day_features[day] = found
        return found


def service_weekdays(history: History) -> set[int]:
    """The weekdays canteens serve: those served in at least a fifth of the weeks of the last
    year of history (Nantes: not on Wednesdays, but for a few exceptional ones)."""
    last = history.last_day
    if last is None:
        return {0, 1, 3, 4}
    days = {d for _, d in history.attendance if (last - d).days < 365}
    weeks = {d.isocalendar()[:2] for d in days} or {(0, 0)}
    return {w for w in range(5)
            if sum(1 for d in days if d.weekday() == w) >= len(weeks) / 5} or {0, 1, 3, 4}


def prepare(history: History) -> Prepared:
    calendar = Calendar(history)
    sites = history.sites
    index = {s: i for i, s in enumerate(sites)}
    keys = sorted(history.attendance, key=lambda k: (k[1], k[0]))
    p = Prepared(history, calendar, sites, service_weekdays(history),
                 np.array([index[s] for s, _ in keys], dtype=np.int32),
                 np.array([d.toordinal() for _, d in keys], dtype=np.int64),
                 np.array([history.attendance[k][1] for k in keys], dtype=float),
                 np.array([math.nan if history.attendance[k][0] is None
                           else history.attendance[k][0] for k in keys], dtype=float),
                 np.zeros((0, len(FEATURE_NAMES))),
                 np.array([d in history.strikes for _, d in keys], dtype=bool))
    p.X = np.array([p.features_of(d) for _, d in keys]).reshape(len(keys), len(FEATURE_NAMES))
    return p


@dataclass
class Fitted:
    """The model as fitted at one origin: what a forecast from it needs, and what the public
    page shows (the named effects)."""

    origin: date
    beta: np.ndarray
    headcount_effect: float
    yearly_trend: float
    levels: dict[int, tuple[float, str]]  # site index -> (log level, its school year)

    def effects(self) -> dict[str, float]:
        return dict(zip(FEATURE_NAMES, self.beta.tolist(), strict=True))


def _year_index(p: Prepared, mask: np.ndarray) -> tuple[np.ndarray, list[str]]:
    years = sorted({school_year_of(date.fromordinal(int(o))) for o in np.unique(p.day[mask])})
    starts = np.array([date(int(y[:4]), 8, 1).toordinal() for y in years])
    return np.searchsorted(starts, p.day[mask], side="right") - 1, years


def fit(p: Prepared, origin: date) -> Fitted:
    """Fit on the rows served before `origin` only."""
    mask = (p.day < origin.toordinal()) & (p.served > 0) & ~p.strike
    if not mask.any():
        raise ValueError("no attendance before the origin")
    y = np.log(p.served[mask])
    X = p.X[mask]
    sites = p.site_idx[mask]
    year_of_row, years = _year_index(p, mask)
    group = sites * len(years) + year_of_row
    n_groups = len(p.sites) * len(years)
    counts = np.bincount(group, minlength=n_groups).astype(float)
    safe = np.maximum(counts, 1)
    y_mean = np.bincount(group, weights=y, minlength=n_groups) / safe
    X_mean = np.stack([np.bincount(group, weights=X[:, k], minlength=n_groups) / safe
                       for k in range(X.shape[1])], axis=1)
    # Recent school years weigh more: how a day differs from the ordinary drifts.
    age = (len(years) - 1 - year_of_row).astype(float)
    # Larger canteens weigh more (as they do in the day's total): the fitted effects are
    # those of the meals, not of the average canteen.
    w = np.sqrt(0.5 ** (age / HALF_LIFE_YEARS) * np.exp(y_mean[group]))[:, None]
    Xw, yw = (X - X_mean[group]) * w, (y - y_mean[group]) * w[:, 0]
    beta = np.linalg.solve(Xw.T @ Xw + RIDGE * np.eye(X.shape[1]), Xw.T @ yw)
    resid = y - X @ beta
    alpha = np.bincount(group, weights=resid, minlength=n_groups) / safe
    gamma, tau = _year_changes(p, alpha, counts, years)
    # The level: the last LEVEL_DAYS ordinary days of each canteen still open (served in
    # the last ACTIVE_DAYS before the origin), strike days left out.
    ordinary = np.ones(len(y), dtype=bool)
    days = p.day[mask]
    recent = int(days.max()) - ACTIVE_DAYS
    levels: dict[int, tuple[float, str]] = {}
    for s in np.unique(sites[(days > recent)]).tolist():
        rows = np.flatnonzero((sites == s) & ordinary)[-LEVEL_DAYS:]
        if len(rows) == 0:
            continue
        year = years[int(year_of_row[rows[-1]])]
        shifts = {y: level_shift(p, s, years[y], year, gamma, tau)
                  for y in set(year_of_row[rows].tolist())}
        levels[s] = (float(np.mean([resid[i] + shifts[int(year_of_row[i])] for i in rows])),
                     year)
    return Fitted(origin, beta, gamma, tau, levels)


def _year_changes(p: Prepared, alpha: np.ndarray, counts: np.ndarray, years: list[str]
                  ) -> tuple[float, float]:
    """The effect of log headcount and the yearly trend on a canteen's level, fitted on the
    changes between consecutive school years (canteens with 40 days or more in both)."""
    rows, target = [], []
    n = len(years)
    for s, site in enumerate(p.sites):
        heads = p.history.headcounts.get(site, {})
        for j in range(1, n):
            a, b = s * n + j - 1, s * n + j
            if counts[a] >= 40 and counts[b] >= 40 and heads.get(years[j - 1]) and \
                    heads.get(years[j]):
                rows.append(math.log(heads[years[j]] / heads[years[j - 1]]))
                target.append(alpha[b] - alpha[a])
    if len(rows) < 10:
        return 1.0, 0.0
    A = np.column_stack([np.array(rows), np.ones(len(rows))])
    gamma, tau = np.linalg.lstsq(A, np.array(target), rcond=None)[0]
    return float(gamma), float(tau)


def _next_year(year: str) -> str:
    start = int(year[:4]) + 1
    return f"{start}-{start + 1}"


def level_shift(p: Prepared, s: int, from_year: str, to_year: str, gamma: float, tau: float
           ) -> float:
    """How a canteen's log level moves from one school year to a later one."""
    shift, year = 0.0, from_year
    heads = p.history.headcounts.get(p.sites[s], {})
    while year < to_year:
        nxt = _next_year(year)
        shift += tau
        if heads.get(year) and heads.get(nxt):
            shift += gamma * math.log(heads[nxt] / heads[year])
        year = nxt
    return shift


@dataclass(frozen=True)
class SiteForecast:
    site: Site
    day: date
    forecast: float


def forecast(p: Prepared, model: Fitted, days: Sequence[date]) -> list[SiteForecast]:
    """The forecast of every canteen with a level for each day."""
    out = []
    for d in days:
        effect = float(p.features_of(d) @ model.beta)
        target_year = school_year_of(d)
        for s, (level, year) in sorted(model.levels.items()):
            shift = level_shift(p, s, year, target_year, model.headcount_effect, model.yearly_trend)
            out.append(SiteForecast(p.sites[s], d, math.exp(level + shift + effect)))
    return out


def week_origin(day: date, weeks: int = CALIBRATION_WEEKS) -> date:
    """The Monday `weeks` weeks before the day's week: the origin of a rolling forecast."""
    return day - timedelta(days=day.weekday()) - timedelta(weeks=weeks)


def rolling(p: Prepared, days: Sequence[date], weeks: int = CALIBRATION_WEEKS
            ) -> list[SiteForecast]:
    """Each day forecast from the Monday `weeks` weeks before its week (one fit per week)."""
    by_origin: dict[date, list[date]] = defaultdict(list)
    for d in sorted(days):
        by_origin[week_origin(d, weeks)].append(d)
    out: list[SiteForecast] = []
    for origin, group in by_origin.items():
        out.extend(forecast(p, fit(p, origin), group))
    return out


def totals(forecasts: Sequence[SiteForecast]) -> dict[date, float]:
    out: dict[date, float] = defaultdict(float)
    for f in forecasts:
        out[f.day] += f.forecast
    return dict(out)


def served_totals(p: Prepared, days: Sequence[date] | None = None) -> dict[date, float]:
    wanted = None if days is None else {d.toordinal() for d in days}
    out: dict[date, float] = defaultdict(float)
    for o, v in zip(p.day.tolist(), p.served.tolist(), strict=True):
        if wanted is None or o in wanted:
            out[date.fromordinal(o)] += v
    return dict(out)


# Days of rare calendar events (a few a year): their errors are wider than an ordinary day's,
# so their margin is calibrated apart (on their own past ratios).
RARE_FEATURES = ("rentree", "premiere_semaine", "fin_annee", "dernier_jour", "pont")
_RARE = [FEATURE_NAMES.index(n) for n in RARE_FEATURES]
MIN_RARE_RATIOS = 8


def is_rare(p: Prepared, day: date) -> bool:
    return bool(p.features_of(day)[_RARE].any())


@dataclass(frozen=True)
class Calibration:
    """Ratios served ÷ forecast of past daily totals, forecast `CALIBRATION_WEEKS` ahead,
    with whether each day was one of rare calendar events."""

    ratios: tuple[float, ...]
    rare: tuple[bool, ...]
    first: date | None
    last: date | None

    def quantile(self, level: float, rare: bool | None = None) -> float:
        """The quantile of the ratios of ordinary days (rare=False), of rare days (True, or
        of all days when fewer than MIN_RARE_RATIOS), or of all days (None)."""
        chosen = [r for r, k in zip(self.ratios, self.rare, strict=True)
                  if rare is None or k == rare]
        if rare and len(chosen) < MIN_RARE_RATIOS:
            chosen = list(self.ratios)
        if not chosen:
            return 1.0
        return float(np.quantile(np.array(chosen), level, method="higher"))

    def factor(self, p: Prepared, day: date, level: float) -> float:
        """The factor from a day's forecast to its order (or interval bound)."""
        return self.quantile(level, is_rare(p, day))


def calibrate(p: Prepared, origin: date, days_back: int = CALIBRATION_DAYS) -> Calibration:
    """The ratios of the service days of the two years before `origin` (each forecast from
    its own earlier origin, hence with attendance before `origin` only)."""
    served = served_totals(p)
    first_known = date.fromordinal(int(p.day.min())) + timedelta(weeks=CALIBRATION_WEEKS + 30)
    days = [d for d in served if origin - timedelta(days=days_back) <= d < origin
            and week_origin(d) >= first_known]
    if not days:
        return Calibration((), (), None, None)
    predicted = totals(rolling(p, days))
    kept = [d for d in sorted(predicted) if predicted[d] > 0]
    return Calibration(tuple(served[d] / predicted[d] for d in kept),
                       tuple(is_rare(p, d) for d in kept), min(days), max(days))
