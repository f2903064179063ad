"""Calendar features (holidays, bridges, Wednesdays, strikes, menus), the strike file's
`dd/mm/yy` dates, and the metrics against values computed by hand."""

from __future__ import annotations

from datetime import date

import pytest

from patrimoine.core.errors import Invalid
from patrimoine.forecast.backtest import order_metrics, wape
from patrimoine.forecast.calendar import Calendar, features, service_days
from patrimoine.forecast.canteens import ROLE_BY_NAME, History, parse_date, read_files
from patrimoine.forecast.model import service_weekdays

pytestmark = pytest.mark.database_free


def _history() -> History:
    h = History()
    h.school_years["2018-2019"] = (date(2018, 9, 3), date(2019, 7, 6))
    h.holidays = [(date(2018, 10, 20), date(2018, 11, 4), "Toussaint"),
                  (date(2019, 5, 29), date(2019, 6, 2), "Pont de l'Ascension")]
    h.public_holidays = {date(2018, 11, 1): "Toussaint", date(2019, 5, 30): "Ascension",
                         date(2019, 4, 22): "Lundi de Pâques", date(2018, 12, 25): "Noël",
                         date(2019, 5, 8): "Victoire 1945"}
    h.strikes = {date(2018, 12, 14)}
    h.menus = {date(2018, 10, 18): ["Salade", "Filet de colin", "Riz"],
               date(2018, 12, 20): ["Chapon", "Bûche de Noël"]}
    return h


def _on(day: date, h: History | None = None) -> set[str]:
    h = h or _history()
    cal = Calendar(h)
    return set(features(cal, day, service_days(cal, date(2018, 9, 3), date(2019, 7, 6),
                                               {0, 1, 3, 4})))


def test_school_holidays_and_their_edges() -> None:
    assert "veille_vacances" in _on(date(2018, 10, 19))  # Friday before Toussaint
    assert "retour_vacances" in _on(date(2018, 11, 5))  # Monday after
    assert not {"veille_vacances", "retour_vacances"} & _on(date(2018, 10, 11))
    cal = Calendar(_history())
    assert not cal.is_school_day(date(2018, 10, 25))
    assert date(2018, 10, 25) not in service_days(cal, date(2018, 10, 1), date(2018, 11, 30),
                                                  {0, 1, 3, 4})


def test_bridges_and_public_holidays() -> None:
    # Wednesday 8 May 2019 is a public holiday: Tuesday 7 and Thursday 9 sit beside it.
    assert "pres_ferie" in _on(date(2019, 5, 9))
    assert "semaine_courte" in _on(date(2019, 5, 9))
    # Easter Monday 22 April 2019: the Tuesday after is beside it, the Friday before is not.
    assert "pres_ferie" in _on(date(2019, 4, 23))
    h = _history()
    h.holidays = [x for x in h.holidays if x[2] != "Pont de l'Ascension"]
    # Without the Ascension bridge in the holidays, Friday 31 May is a bridge day.
    assert "pont" in _on(date(2019, 5, 31), h)
    assert date(2019, 5, 30) not in service_days(Calendar(h), date(2019, 5, 27),
                                                 date(2019, 5, 31), {0, 1, 3, 4})


def test_wednesdays_and_the_weekdays_served() -> None:
    assert "jour_mercredi" in _on(date(2018, 10, 17))
    h = History()
    for week in range(20):
        for weekday in (0, 1, 3, 4):
            d = date.fromordinal(date(2018, 1, 8).toordinal() + 7 * week + weekday)
            h.attendance[(("A", "M"), d)] = (10, 9)
    h.attendance[(("A", "M"), date(2018, 1, 10))] = (10, 9)  # one exceptional Wednesday
    assert service_weekdays(h) == {0, 1, 3, 4}


def test_menus_and_strikes() -> None:
    assert {"menu_poisson"} <= _on(date(2018, 10, 18))
    assert "menu_noel" in _on(date(2018, 12, 20))
    assert "menu_inconnu" in _on(date(2018, 10, 11))
    # A strike is not a feature of the forecast (its effect varies too much) but is known.
    assert date(2018, 12, 14) in _history().strikes


def test_strike_file_dates_as_published() -> None:
    data = b'"Jour","Evenement"\n15/12/11,"GREVE"\n03/09/18,"GREVE"\n'
    files = {"strikes": [("Journees_de_greve.csv", data)]}
    role = ROLE_BY_NAME["strikes"]
    assert role.name == "strikes"
    with pytest.raises(Invalid, match="Fichiers manquants"):
        read_files(files)
    assert parse_date("15/12/11", "x") == date(2011, 12, 15)
    assert parse_date("01/09/2016", "x") == date(2016, 9, 1)
    assert parse_date("2018-09-03", "x") == date(2018, 9, 3)
    with pytest.raises(Invalid, match="n'est pas une date"):
        parse_date("31/02/18", "« f.csv », ligne 3")


def test_order_metrics_by_hand() -> None:
    # orders 110, 100, 95 for 100, 104, 90 served: Σ orders 305, Σ served 294,
    # over-production 11/305; short on day 2 only, by 4 meals.
    m = order_metrics([110, 100, 95], [100, 104, 90])
    assert m.over_production == pytest.approx(11 / 305)
    assert (m.days_short, m.largest_shortage, m.days) == (1, 4, 3)
    # WAPE: |105-100| + |100-104| + |90-90| = 9 over 294 served.
    assert wape([105, 100, 90], [100, 104, 90]) == pytest.approx(9 / 294)
