from __future__ import annotations

from datetime import date

import pytest

from patrimoine.core.errors import Invalid
from patrimoine.core.vocabulary import parse
from patrimoine.retention.rules import (
    DurationUnit,
    FinalFate,
    StartEvent,
    add_period,
    parse_rule,
    subtract_period,
)

M, Y, D = DurationUnit.MONTHS, DurationUnit.YEARS, DurationUnit.DAYS


@pytest.mark.parametrize(("start", "n", "unit", "expected"), [
    (date(2024, 1, 31), 1, M, date(2024, 2, 29)),   # leap February
    (date(2023, 1, 31), 1, M, date(2023, 2, 28)),
    (date(2024, 3, 31), 1, M, date(2024, 4, 30)),
    (date(2024, 8, 31), 6, M, date(2025, 2, 28)),
    (date(2024, 2, 29), 1, Y, date(2025, 2, 28)),   # leap day, next year has none
    (date(2024, 2, 29), 4, Y, date(2028, 2, 29)),
    (date(2023, 12, 15), 1, M, date(2024, 1, 15)),  # year boundary
    (date(2024, 12, 31), 2, M, date(2025, 2, 28)),
    (date(2024, 2, 28), 1, D, date(2024, 2, 29)),
    (date(2024, 12, 31), 1, D, date(2025, 1, 1)),
    (date(2024, 5, 10), 0, Y, date(2024, 5, 10)),
    (date(2020, 1, 1), 10, Y, date(2030, 1, 1)),
])
def test_add_period_clamps_at_month_ends(start: date, n: int, unit: DurationUnit,
                                         expected: date) -> None:
    assert add_period(start, n, unit) == expected


def test_subtract_period() -> None:
    assert subtract_period(date(2024, 3, 31), 1, M) == date(2024, 2, 29)
    assert subtract_period(date(2025, 2, 28), 1, Y) == date(2024, 2, 28)
    assert subtract_period(date(2024, 3, 1), 1, D) == date(2024, 2, 29)


def test_add_period_agrees_with_duckdb_intervals() -> None:
    import duckdb
    con = duckdb.connect()
    for start in (date(2024, 1, 31), date(2024, 2, 29), date(2023, 10, 31)):
        for n, unit, sql in ((1, M, "MONTH"), (13, M, "MONTH"), (1, Y, "YEAR"), (30, D, "DAY")):
            row = con.execute(f"SELECT CAST(DATE '{start}' + INTERVAL ({n}) {sql} AS DATE)"
                              ).fetchone()
            assert row is not None and row[0] == add_period(start, n, unit)


def test_start_event_words() -> None:
    assert parse(StartEvent, "à compter de la clôture du dossier") == StartEvent.FILE_CLOSED
    assert parse(StartEvent, "Fin du contrat") == StartEvent.RELATIONSHIP_END
    assert parse(StartEvent, "created") == StartEvent.CREATED
    assert parse(StartEvent, "la dernière mise à jour") == StartEvent.UPDATED
    assert parse(StartEvent, "quand bon nous semble") is None


def test_parse_rule_accepts_french_words() -> None:
    rule = parse_rule({"duration": 5, "unit": "ans", "start_event": "clôture du dossier",
                       "final_fate": "élimination", "event_date": "2020-06-30"})
    assert rule.unit == Y and rule.final_fate == FinalFate.DESTRUCTION
    assert rule.start_event == StartEvent.FILE_CLOSED
    assert rule.describe() == ("5 ans à compter de la clôture du dossier (30/06/2020), puis "
                               "destruction")


@pytest.mark.parametrize(("data", "message"), [
    ({"duration": 1, "unit": "siècles", "start_event": "created", "final_fate": "destruction"},
     "Unité"),
    ({"duration": -1, "unit": "years", "start_event": "created", "final_fate": "destruction"},
     "Durée"),
    ({"duration": 1, "unit": "years", "start_event": "date_column", "final_fate": "archives"},
     "colonne de date"),
    ({"duration": 1, "unit": "years", "start_event": "date_column", "date_column": "d",
      "final_fate": "anonymisation", "anonymisation": [{"op": "drop", "column": "x"}]},
     "versions entières"),
    ({"duration": 1, "unit": "years", "start_event": "created",
      "final_fate": "anonymisation"}, "plan d'anonymisation"),
    ({"duration": 1, "unit": "years", "start_event": "plus tard",
      "final_fate": "destruction"}, "Événement de départ"),
    ({"unit": "years", "start_event": "created", "final_fate": "destruction"}, "obligatoire"),
])
def test_invalid_rules_say_why_in_french(data: dict, message: str) -> None:
    with pytest.raises(Invalid) as exc:
        parse_rule(data)
    assert message in " ".join(exc.value.errors)
