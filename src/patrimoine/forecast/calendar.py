"""The known-ahead features of a service day, each a named effect the public page explains.

All of them are known weeks ahead (the calendar, school and public holidays, bridges, the
planned menu), except strikes: a strike notice is entered days ahead and updates the
forecasts of the days it names. Nothing here reads attendance.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, timedelta

from patrimoine.core.text import fold
from patrimoine.forecast.canteens import History

WEEKDAYS = ("lundi", "mardi", "mercredi", "jeudi", "vendredi")
MONTHS = ("janvier", "février", "mars", "avril", "mai", "juin", "juillet", "août",
          "septembre", "octobre", "novembre", "décembre")

# Dishes the menus name, by kind: a child's family may skip a meal it does not eat.
MENU_KINDS: tuple[tuple[str, str, re.Pattern[str]], ...] = tuple(
    (name, label, re.compile(pattern)) for name, label, pattern in (
        ("menu_poisson", "menu : poisson", r"poisson|\blieu\b|colin|cabillaud|saumon|merlu|"
                                           r"hoki|\bthon\b|sardine|maquereau|limande|truite|"
                                           r"dorade|\bcolin|calamar|crevette|moules|brandade"),
        ("menu_porc", "menu : porc", r"\bporc|jambon|saucisse|lardon|chipolata|saucisson|"
                                     r"knack|andouill|rillette|\bpate\b|choucroute"),
        ("menu_viande", "menu : viande", r"boeuf|\bveau\b|agneau|steak|bourguignon|hachis|"
                                         r"boulette|merguez|poulet|dinde|volaille|"
                                         r"cordon bleu|nugget|roti|bolognaise|canard|lapin"),
        ("menu_noel", "menu : repas de Noël", r"\bnoel\b|buche|reveillon"),
        ("menu_frites", "menu : frites", r"frite"),
        ("menu_pizza_burger", "menu : pizza ou hamburger", r"pizza|burger"),
    ))

# The names and French labels of every feature, in the model's column order.
FEATURES: tuple[tuple[str, str], ...] = (
    *((f"jour_{d}", f"jour : {d}") for d in WEEKDAYS),
    *((f"mois_{i + 1}", f"mois : {m}") for i, m in enumerate(MONTHS) if i != 7),
    ("veille_vacances", "veille de vacances"),
    ("retour_vacances", "jour de rentrée après des vacances"),
    ("fin_annee", "avant-derniers jours de l'année scolaire"),
    ("dernier_jour", "dernier jour de l'année scolaire"),
    ("rentree", "jour de la rentrée scolaire"),
    ("premiere_semaine", "première semaine de l'année scolaire"),
    ("pont", "jour de pont"),
    ("pres_ferie", "veille ou lendemain de jour férié"),
    ("semaine_courte", "semaine avec un jour férié"),
    *((name, label) for name, label, _ in MENU_KINDS),
    ("menu_vegetarien", "menu : sans viande ni poisson"),
    ("menu_inconnu", "menu non connu"),
)
FEATURE_NAMES = tuple(n for n, _ in FEATURES)
FEATURE_LABELS = dict(FEATURES)


@dataclass(frozen=True)
class Calendar:
    """School and public holidays of a history, asked day by day."""

    history: History

    def is_holiday(self, day: date) -> bool:
        return any(first <= day <= last for first, last, _ in self.history.holidays)

    def is_public_holiday(self, day: date) -> bool:
        return day in self.history.public_holidays

    def in_school_year(self, day: date) -> bool:
        return any(first <= day <= last for first, last in self.history.school_years.values())

    def is_school_day(self, day: date) -> bool:
        """A weekday of a school year that is neither a holiday nor a public holiday."""
        return (day.weekday() < 5 and self.in_school_year(day) and not self.is_holiday(day)
                and not self.is_public_holiday(day))

    def year_bounds(self, day: date) -> tuple[date, date] | None:
        for first, last in self.history.school_years.values():
            if first <= day <= last:
                return first, last
        return None


def _menu_flags(dishes: list[str] | None) -> dict[str, float]:
    if not dishes:
        return {"menu_inconnu": 1.0}
    text = " ; ".join(fold(d) for d in dishes)
    flags = {name: 1.0 for name, _, pattern in MENU_KINDS if pattern.search(text)}
    if not any(k in flags for k in ("menu_poisson", "menu_porc", "menu_viande")):
        flags["menu_vegetarien"] = 1.0
    return flags


def features(calendar: Calendar, day: date, service_days: list[date]) -> dict[str, float]:
    """The features of one service day; `service_days` are the year's service days in order
    (for the year's first week and its last four days)."""
    h = calendar.history
    out: dict[str, float] = {f"jour_{WEEKDAYS[day.weekday()]}": 1.0}
    if day.month != 8:
        out[f"mois_{day.month}"] = 1.0
    # The previous and next weekdays: a holiday (not a public holiday) right after or before.
    nxt, prev = _next_weekday(day, 1), _next_weekday(day, -1)
    if calendar.is_holiday(nxt) and not calendar.is_holiday(day):
        out["veille_vacances"] = 1.0
    if calendar.is_holiday(prev) and not calendar.is_holiday(day):
        out["retour_vacances"] = 1.0
    # A bridge: a service day between a public holiday and the weekend.
    if (day.weekday() == 4 and calendar.is_public_holiday(day - timedelta(days=1))) or \
            (day.weekday() == 0 and calendar.is_public_holiday(day + timedelta(days=1))):
        out["pont"] = 1.0
    elif calendar.is_public_holiday(nxt) or calendar.is_public_holiday(prev):
        out["pres_ferie"] = 1.0
    monday = day - timedelta(days=day.weekday())
    if any(calendar.is_public_holiday(monday + timedelta(days=i)) for i in range(5)):
        out["semaine_courte"] = 1.0
    if service_days:
        if day == service_days[-1]:
            out["dernier_jour"] = 1.0
        elif day in service_days[-4:]:
            out["fin_annee"] = 1.0
        if day == service_days[0]:
            out["rentree"] = 1.0
        elif (day - service_days[0]).days < 7:
            out["premiere_semaine"] = 1.0
    out.update(_menu_flags(h.menus.get(day)))
    return out


def _next_weekday(day: date, step: int) -> date:
    probe = day + timedelta(days=step)
    while probe.weekday() >= 5:
        probe += timedelta(days=step)
    return probe


def service_days(calendar: Calendar, first: date, last: date, weekdays: set[int]) -> list[date]:
    """The days canteens serve from `first` to `last`: school days on the service weekdays."""
    out, day = [], first
    while day <= last:
        if day.weekday() in weekdays and calendar.is_school_day(day):
            out.append(day)
        day += timedelta(days=1)
    return out
