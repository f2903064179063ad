"""Legal clocks of the GDPR, as pure functions.

- Requests (Art. 12(3)): an answer within one month of receipt, extendable by two further
  months. A period of months ends on the same day of the month as it began or, when that
  month has no such day, on its last day (Regulation 1182/71, Art. 3(2)(c)): a request
  received on 31 January is due on 28 February (29 in a leap year). The extended period is
  three months counted from receipt by the same rule (31 January → 30 April), not two
  months added to the first deadline (which would give 28 April).
- Breaches (Art. 33(1)): the CNIL is notified within 72 hours of becoming aware.
"""

from __future__ import annotations

import calendar
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from patrimoine.core.clock import now

# Requests are received and answered on French calendar days, not UTC ones.
LEGAL_TIMEZONE = ZoneInfo("Europe/Paris")
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


def request_deadline(received_on: date) -> date:
    """The last day to answer a request received on `received_on`, without extension."""
    return add_months(received_on, REQUEST_MONTHS)


def extended_request_deadline(received_on: date) -> date:
    """The last day to answer once the period is extended by two further months."""
    return add_months(received_on, REQUEST_MONTHS + EXTENSION_MONTHS)


def extension_allowed(received_on: date, informed_on: date) -> bool:
    """Art. 12(3): the person must be told of the extension, with reasons, within the first
    month (the day of the deadline included) and not before the request arrived."""
    return received_on <= informed_on <= request_deadline(received_on)


def breach_deadline(aware_at: datetime) -> datetime:
    """When the 72 hours to notify the CNIL run out."""
    return aware_at + BREACH_NOTIFICATION_DELAY
