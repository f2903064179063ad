"""The legal clocks: one month (month ends, leap years), the two-month extension, the
roll-over of a last day falling on a weekend or a public holiday (Easter computus, French
holidays), 72 hours, and the DPIA rule."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from pydantic import ValidationError

from patrimoine.protection.deadlines import (
    add_months,
    breach_deadline,
    easter_sunday,
    extended_request_deadline,
    extension_allowed,
    french_public_holidays,
    is_working_day,
    next_working_day_if_closed,
    request_deadline,
)
from patrimoine.protection.dpia import dpia_required, risk_level
from patrimoine.protection.rights_requests import (
    COMPLAINT_MENTION,
    RequestInput,
    mentions_complaint_right,
)


@pytest.mark.parametrize(("received", "due"), [
    (date(2026, 3, 15), date(2026, 4, 15)),
    (date(2026, 1, 31), date(2026, 2, 28)),
    (date(2028, 1, 31), date(2028, 2, 29)),  # leap year
    (date(2028, 1, 29), date(2028, 2, 29)),
    (date(2027, 1, 29), date(2027, 2, 28)),
    (date(2026, 3, 31), date(2026, 4, 30)),
    (date(2026, 12, 31), date(2027, 1, 31)),
    (date(2026, 12, 15), date(2027, 1, 15)),
    (date(2100, 1, 31), date(2100, 2, 28)),  # not a leap year (century)
    (date(2000, 1, 31), date(2000, 2, 29)),  # leap year (every 400 years)
])
def test_one_month_from_receipt(received: date, due: date) -> None:
    """The month arithmetic (Art. 3(2)(c)), before any roll-over."""
    assert add_months(received, 1) == due
    assert request_deadline(received) == next_working_day_if_closed(due)


@pytest.mark.parametrize(("received", "due"), [
    (date(2026, 3, 15), date(2026, 4, 15)),  # a Wednesday: unchanged
    (date(2028, 1, 31), date(2028, 2, 29)),  # a Tuesday of a leap year: unchanged
    (date(2026, 12, 15), date(2027, 1, 15)),  # a Friday: unchanged
    (date(2026, 1, 31), date(2026, 3, 2)),  # Saturday 28 February → Monday
    (date(2027, 1, 29), date(2027, 3, 1)),  # Sunday 28 February → Monday
    (date(2026, 2, 15), date(2026, 3, 16)),  # Sunday 15 March → Monday
    (date(2026, 12, 31), date(2027, 2, 1)),  # Sunday 31 January → Monday
    (date(2100, 1, 31), date(2100, 3, 1)),  # Sunday 28 February 2100 → Monday
    (date(2026, 4, 1), date(2026, 5, 4)),  # Friday 1 May, then a weekend → Monday 4
    (date(2026, 4, 8), date(2026, 5, 11)),  # Friday 8 May, then a weekend → Monday 11
    (date(2026, 3, 6), date(2026, 4, 7)),  # Easter Monday 6 April → Tuesday
    (date(2026, 4, 14), date(2026, 5, 15)),  # Ascension Thursday 14 May → Friday
    (date(2026, 4, 25), date(2026, 5, 26)),  # Whit Monday 25 May → Tuesday
    (date(2026, 6, 14), date(2026, 7, 15)),  # Tuesday 14 July → Wednesday
    (date(2026, 7, 15), date(2026, 8, 17)),  # 15 August, a Saturday → Monday 17
    (date(2026, 10, 1), date(2026, 11, 2)),  # 1 November, a Sunday → Monday 2
    (date(2026, 10, 11), date(2026, 11, 12)),  # Wednesday 11 November → Thursday
    (date(2026, 11, 25), date(2026, 12, 28)),  # Friday 25 December → Monday 28
    (date(2027, 11, 25), date(2027, 12, 27)),  # Saturday 25 December → Monday 27
    (date(2026, 12, 1), date(2027, 1, 4)),  # Friday 1 January 2027 → Monday 4
])
def test_deadline_on_a_weekend_or_holiday_rolls_to_the_next_working_day(
        received: date, due: date) -> None:
    assert request_deadline(received) == due
    assert is_working_day(due)


def test_extended_deadline_is_three_months_from_receipt() -> None:
    assert extended_request_deadline(date(2026, 1, 31)) == date(2026, 4, 30)  # a Thursday
    assert extended_request_deadline(date(2027, 11, 30)) == date(2028, 2, 29)  # a Tuesday
    assert add_months(date(2026, 5, 31), -3) == date(2026, 2, 28)
    # Sunday 28 February 2027 → Monday 1 March.
    assert add_months(date(2026, 11, 30), 3) == date(2027, 2, 28)
    assert extended_request_deadline(date(2026, 11, 30)) == date(2027, 3, 1)
    # Sunday 30 April 2028, then 1 May → Tuesday 2 May.
    assert extended_request_deadline(date(2028, 1, 31)) == date(2028, 5, 2)
    # Ascension Thursday 14 May 2026 → Friday 15.
    assert extended_request_deadline(date(2026, 2, 14)) == date(2026, 5, 15)
    # Rolled from the three months, not from the rolled first deadline.
    assert extended_request_deadline(date(2026, 10, 1)) == date(2027, 1, 4)


def test_extension_only_within_the_first_month() -> None:
    received = date(2028, 1, 31)
    assert extension_allowed(received, date(2028, 2, 29))  # the last day counts
    assert not extension_allowed(received, date(2028, 3, 1))
    assert not extension_allowed(received, date(2028, 1, 30))  # before the request
    # The first month of a request of 31 January 2026 ends on Monday 2 March.
    assert extension_allowed(date(2026, 1, 31), date(2026, 3, 2))
    assert not extension_allowed(date(2026, 1, 31), date(2026, 3, 3))


@pytest.mark.parametrize(("year", "easter"), [
    (2024, date(2024, 3, 31)), (2025, date(2025, 4, 20)), (2026, date(2026, 4, 5)),
    (2027, date(2027, 3, 28)), (2038, date(2038, 4, 25)), (2000, date(2000, 4, 23)),
    (2019, date(2019, 4, 21)), (2008, date(2008, 3, 23)), (1818, date(1818, 3, 22)),
    (2285, date(2285, 3, 22)), (1943, date(1943, 4, 25)),
])
def test_easter_by_the_gregorian_computus(year: int, easter: date) -> None:
    assert easter_sunday(year) == easter
    assert easter.weekday() == 6


def test_french_public_holidays_2026() -> None:
    assert sorted(french_public_holidays(2026)) == [
        date(2026, 1, 1),  # Jour de l'an
        date(2026, 4, 6),  # Lundi de Pâques
        date(2026, 5, 1),  # Fête du travail
        date(2026, 5, 8),  # Victoire 1945
        date(2026, 5, 14),  # Ascension
        date(2026, 5, 25),  # Lundi de Pentecôte
        date(2026, 7, 14),  # Fête nationale
        date(2026, 8, 15),  # Assomption
        date(2026, 11, 1),  # Toussaint
        date(2026, 11, 11),  # Armistice
        date(2026, 12, 25),  # Noël
    ]


def test_movable_holidays_follow_easter() -> None:
    holidays_2024 = french_public_holidays(2024)
    assert {date(2024, 4, 1), date(2024, 5, 9), date(2024, 5, 20)} <= holidays_2024
    holidays_2038 = french_public_holidays(2038)
    assert {date(2038, 4, 26), date(2038, 6, 3), date(2038, 6, 14)} <= holidays_2038
    assert len(holidays_2038) == 11
    # 2008: Ascension fell on 1 May, two holidays on one day.
    assert len(french_public_holidays(2008)) == 10


def test_working_days() -> None:
    assert is_working_day(date(2026, 3, 2))  # a Monday
    assert not is_working_day(date(2026, 2, 28))  # a Saturday
    assert not is_working_day(date(2026, 3, 1))  # a Sunday
    assert not is_working_day(date(2026, 5, 25))  # Whit Monday
    assert is_working_day(date(2026, 4, 3))  # Good Friday: not a national holiday
    assert is_working_day(date(2026, 12, 24)) and is_working_day(date(2026, 12, 31))


def test_alsace_moselle_adds_good_friday_and_26_december() -> None:
    local = french_public_holidays(2026, alsace_moselle=True)
    assert local - french_public_holidays(2026) == {date(2026, 4, 3), date(2026, 12, 26)}
    assert not is_working_day(date(2026, 4, 3), alsace_moselle=True)
    # Good Friday 3 April 2026, then the weekend and Easter Monday → Tuesday 7 April.
    assert request_deadline(date(2026, 3, 3)) == date(2026, 4, 3)
    assert request_deadline(date(2026, 3, 3), alsace_moselle=True) == date(2026, 4, 7)
    # Tuesday 26 December 2028 → Wednesday 27.
    assert request_deadline(date(2028, 11, 26)) == date(2028, 12, 26)
    assert request_deadline(date(2028, 11, 26), alsace_moselle=True) == date(2028, 12, 27)
    assert extended_request_deadline(date(2028, 9, 26), alsace_moselle=True) == date(
        2028, 12, 27)


def _request(**fields: object) -> RequestInput:
    base: dict[str, object] = {"organisation_id": 1, "kind": "access", "requester": "A. B.",
                               "received_on": date(2026, 1, 31)}
    return RequestInput.model_validate({**base, **fields})


def test_request_extension_refused_after_the_first_month() -> None:
    # The first month ends on Saturday 28 February 2026, rolled to Monday 2 March.
    ok = _request(extension_informed_on=date(2026, 3, 2), extension_reasons="Volume")
    assert ok.extension_informed_on == date(2026, 3, 2)
    with pytest.raises(ValidationError, match="Prolongation refusée.*02/03/2026"):
        _request(extension_informed_on=date(2026, 3, 3), extension_reasons="Volume")
    with pytest.raises(ValidationError, match="motifs"):
        _request(extension_informed_on=date(2026, 2, 10))


def test_refusal_mentions_the_right_to_complain_to_the_cnil() -> None:
    refused = {"status": "refused", "answered_on": date(2026, 2, 10),
               "refusal_reason": "Demande manifestement infondée"}
    with pytest.raises(ValidationError, match="réclamation auprès de la CNIL"):
        _request(**refused, answer="Nous ne donnerons pas suite.")
    with pytest.raises(ValidationError, match="motif"):
        _request(**{**refused, "refusal_reason": None}, answer=COMPLAINT_MENTION)
    ok = _request(**refused, answer=f"Nous ne donnerons pas suite. {COMPLAINT_MENTION}")
    assert ok.status == "refused"
    assert mentions_complaint_right("Vous pouvez saisir la CNIL d'une plainte.")
    assert not mentions_complaint_right("Vous pouvez contacter notre DPO.")


def test_72_hours() -> None:
    aware = datetime(2026, 3, 27, 22, 30, tzinfo=UTC)
    assert breach_deadline(aware) == aware + timedelta(hours=72)
    assert breach_deadline(aware) == datetime(2026, 3, 30, 22, 30, tzinfo=UTC)


@pytest.mark.parametrize(("criteria", "special", "required"), [
    ([], [], False),
    (["large_scale"], [], False),
    (["large_scale"], ["health"], True),
    (["large_scale", "vulnerable_persons"], [], True),
    ([], ["health"], False),
    (["large_scale", "large_scale"], [], False),
])
def test_dpia_rule(criteria: list[str], special: list[str], required: bool) -> None:
    assert dpia_required(criteria, special) is required


def test_risk_levels() -> None:
    assert risk_level(1, 1) == "limited"
    assert risk_level(3, 3) == "high"
    assert risk_level(2, 4) == "high"
    assert risk_level(3, 1) == "significant"


def test_legal_today_is_the_french_calendar_day() -> None:
    from patrimoine.protection.deadlines import legal_today

    assert legal_today(datetime(2026, 3, 1, 23, 30, tzinfo=UTC)) == date(2026, 3, 2)  # 00:30
    assert legal_today(datetime(2026, 7, 1, 21, 59, tzinfo=UTC)) == date(2026, 7, 1)  # 23:59
