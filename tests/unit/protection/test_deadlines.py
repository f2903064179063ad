"""The legal clocks: one month (month ends, leap years), the two-month extension, 72 hours,
and the DPIA rule."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from pydantic import ValidationError

from patrimoine.protection.deadlines import (
    add_months,
    breach_deadline,
    extended_request_deadline,
    extension_allowed,
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
    assert request_deadline(received) == due


def test_extended_deadline_is_three_months_from_receipt() -> None:
    assert extended_request_deadline(date(2026, 1, 31)) == date(2026, 4, 30)
    assert extended_request_deadline(date(2027, 11, 30)) == date(2028, 2, 29)
    assert extended_request_deadline(date(2026, 11, 30)) == date(2027, 2, 28)
    assert add_months(date(2026, 5, 31), -3) == date(2026, 2, 28)


def test_extension_only_within_the_first_month() -> None:
    received = date(2028, 1, 31)
    assert extension_allowed(received, date(2028, 2, 29))  # the last day counts
    assert not extension_allowed(received, date(2028, 3, 1))
    assert not extension_allowed(received, date(2028, 1, 30))  # before the request


def _request(**fields: object) -> RequestInput:
    base: dict[str, object] = {"organisation_id": 1, "kind": "access", "requester": "A. B.",
                               "received_on": date(2026, 1, 31)}
    return RequestInput.model_validate({**base, **fields})


def test_request_extension_refused_after_the_first_month() -> None:
    ok = _request(extension_informed_on=date(2026, 2, 28), extension_reasons="Volume")
    assert ok.extension_informed_on == date(2026, 2, 28)
    with pytest.raises(ValidationError, match="Prolongation refusée.*28/02/2026"):
        _request(extension_informed_on=date(2026, 3, 1), extension_reasons="Volume")
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
