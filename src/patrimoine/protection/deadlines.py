"""Legal clocks of the GDPR, as pure functions.

- Requests (Art. 12(3)): an answer within one month of receipt, extendable by two further
  months. A period of months ends on the same day of the month as it began or, when that
  month has no such day, on its last day (Regulation 1182/71, Art. 3(2)(c)): a request
  received on 31 January is due on 28 February (29 in a leap year). The extended period is
  three months counted from receipt by the same rule (31 January → 30 April), not two
  months added to the first deadline (which would give 28 April).
- Then (Regulation 1182/71, Art. 3(4)) a period whose last day is a public holiday, a
  Saturday or a Sunday ends at the end of the following working day: a request received
  on 31 January 2026 is due on Monday 2 March 2026, not on Saturday 28 February. The
  public holidays are the eleven French national ones (`french_public_holidays`); the two
  more of Alsace-Moselle (Good Friday, 26 December) are available with
  `alsace_moselle=True` but not wired to a setting (the deadline is also checked when a
  request is validated, where no settings are at hand): the national calendar applies.
- Breaches (Art. 33(1)): the CNIL is notified within 72 hours of becoming aware (hours,
  not days: Art. 3(4) does not apply to them, the clock never rolls over).
"""

from __future__ import annotations

import calendar
from datetime import date, datetime, timedelta
from functools import lru_cache

from patrimoine.core.clock import PARIS, now

# Requests are received and answered on French calendar days, not UTC ones.
LEGAL_TIMEZONE = PARIS
REQUEST_MONTHS = 1
EXTENSION_MONTHS = 2
BREACH_NOTIFICATION_DELAY = timedelta(hours=72)


def legal_today(at: datetime | None = None) -> date:
    """Today's date in France (a request received at 00:30 in Paris is of that day)."""
    return (at or now()).astimezone(LEGAL_TIMEZONE).date()


def add_months(start: date, months: int) -> date:
    """The same day `months` later, or the last day of that month when it has no such day."""
    index = start.year * 12 + (start.month - 1) + months
    year, month = divmod(index, 12)
    month += 1
    last = calendar.monthrange(year, month)[1]
    return date(year, month, min(start.day, last))


def easter_sunday(year: int) -> date:
    """Easter Sunday of the Gregorian calendar (the anonymous Gregorian computus, also known
    as Meeus/Jones/Butcher)."""
    golden = year % 19
    century, year_of_century = divmod(year, 100)
    leap_centuries, century_rest = divmod(century, 4)
    moon_correction = (century + 8) // 25
    sun_correction = (century - moon_correction + 1) // 3
    epact = (19 * golden + century - leap_centuries - sun_correction + 15) % 30
    leap_years, year_rest = divmod(year_of_century, 4)
    weekday = (32 + 2 * century_rest + 2 * leap_years - epact - year_rest) % 7
    shift = (golden + 11 * epact + 22 * weekday) // 451
    month, day = divmod(epact + weekday - 7 * shift + 114, 31)
    return date(year, month, day + 1)


@lru_cache(maxsize=256)
def french_public_holidays(year: int, *, alsace_moselle: bool = False) -> frozenset[date]:
    """The French national public holidays of `year` (Code du travail, art. L3133-1), plus
    Good Friday and 26 December in Alsace-Moselle (art. L3134-13)."""
    easter = easter_sunday(year)
    days = {
        date(year, 1, 1),  # Jour de l'an
        easter + timedelta(days=1),  # Lundi de Pâques
        date(year, 5, 1),  # Fête du travail
        date(year, 5, 8),  # Victoire 1945
        easter + timedelta(days=39),  # Ascension
        easter + timedelta(days=50),  # Lundi de Pentecôte
        date(year, 7, 14),  # Fête nationale
        date(year, 8, 15),  # Assomption
        date(year, 11, 1),  # Toussaint
        date(year, 11, 11),  # Armistice 1918
        date(year, 12, 25),  # Noël
    }
    if alsace_moselle:
        days |= {easter - timedelta(days=2), date(year, 12, 26)}  # Vendredi saint, St Étienne
    return frozenset(days)


def is_working_day(day: date, *, alsace_moselle: bool = False) -> bool:
    """Neither a Saturday, a Sunday nor a public holiday."""
    return day.weekday() < 5 and day not in french_public_holidays(
        day.year, alsace_moselle=alsace_moselle)


def next_working_day_if_closed(day: date, *, alsace_moselle: bool = False) -> date:
    """Regulation 1182/71 Art. 3(4): a period ending on a public holiday, a Saturday or a
    Sunday ends at the end of the following working day; otherwise `day` itself."""
    while not is_working_day(day, alsace_moselle=alsace_moselle):
        day += timedelta(days=1)
    return day


def request_deadline(received_on: date, *, alsace_moselle: bool = False) -> date:
    """The last day to answer a request received on `received_on`, without extension."""
    return next_working_day_if_closed(add_months(received_on, REQUEST_MONTHS),
                                      alsace_moselle=alsace_moselle)


def extended_request_deadline(received_on: date, *, alsace_moselle: bool = False) -> date:
    """The last day to answer once the period is extended by two further months."""
    return next_working_day_if_closed(
        add_months(received_on, REQUEST_MONTHS + EXTENSION_MONTHS),
        alsace_moselle=alsace_moselle)


def extension_allowed(received_on: date, informed_on: date) -> bool:
    """Art. 12(3): the person must be told of the extension, with reasons, within the first
    month (its last day, after any roll-over, included) and not before the request arrived."""
    return received_on <= informed_on <= request_deadline(received_on)


def breach_deadline(aware_at: datetime) -> datetime:
    """When the 72 hours to notify the CNIL run out."""
    return aware_at + BREACH_NOTIFICATION_DELAY
