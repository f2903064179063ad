"""French values shared by the audit import and the entry form, without a database."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from patrimoine.inventory import french
from patrimoine.inventory.models import AccessLevel


@pytest.mark.parametrize(("raw", "end", "expected"), [
    ("31/12/2024", False, date(2024, 12, 31)),
    ("2024-06-01", False, date(2024, 6, 1)),
    ("01.06.2024", False, date(2024, 6, 1)),
    ("2024", False, date(2024, 1, 1)),
    ("2024", True, date(2024, 12, 31)),
])
def test_dates(raw: str, end: bool, expected: date) -> None:
    assert french.day(raw, end=end) == expected


def test_unreadable_date() -> None:
    with pytest.raises(french.Unreadable, match="Date « bientôt » illisible"):
        french.day("bientôt")


@pytest.mark.parametrize(("raw", "expected"), [
    ("Oui", True), ("x", True), ("non", False), ("", None), ("À définir", None)])
def test_yes_no(raw: str, expected: bool | None) -> None:
    assert french.yes_no(raw) is expected


def test_choices_by_value_label_or_synonym() -> None:
    assert french.choice(AccessLevel, "open") is AccessLevel.OPEN
    assert french.choice(AccessLevel, "Restreint (convention)") is AccessLevel.RESTRICTED
    with pytest.raises(french.Unreadable, match="valeurs acceptées : « Ouvert », « Restreint »"):
        french.choice(AccessLevel, "secret")


def test_costs_rounded_or_exact_and_their_kinds_of_error() -> None:
    assert french.cost("12,345") == Decimal("12.35")
    assert french.cost("12,345", round_to_cents=False) == Decimal("12.345")
    with pytest.raises(french.NegativeCost):
        french.cost("-5")
    with pytest.raises(french.CostTooHigh):
        french.cost("2 000 000 000 000 €")


def test_keywords_and_emails() -> None:
    assert french.keywords("arbres, voirie;eau | parcs\n") == ["arbres", "voirie", "eau", "parcs"]
    assert french.is_email("verts@troyes.fr") and not french.is_email("pas-une-adresse")
    assert french.TEXT_LIMITS["licence"] == 60 and "title" not in french.TEXT_LIMITS
