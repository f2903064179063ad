"""The text form of every column type survives the trip to CSV and back."""

from __future__ import annotations

import math
import uuid
from datetime import UTC, date, datetime, time, timedelta, timezone
from decimal import Decimal
from enum import StrEnum
from typing import Any

import pytest
from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Column,
    Date,
    DateTime,
    Enum,
    Float,
    ForeignKey,
    Integer,
    Interval,
    LargeBinary,
    MetaData,
    Numeric,
    String,
    Table,
    Text,
    Time,
    Uuid,
)

from patrimoine.core.db import UTCDateTime
from patrimoine.core.errors import Invalid
from patrimoine.reversibility import formats as f


class Colour(StrEnum):
    RED = "rouge"
    BLUE = "bleu"


CASES: list[tuple[Any, Any]] = [
    (Integer(), 42), (BigInteger(), -(2**62)), (Boolean(), True), (Boolean(), False),
    (Float(), 0.1), (Float(), -1e-300), (Numeric(14, 2), Decimal("1234.50")),
    (String(20), ""), (String(20), "\\n, \"quotes\"; é\n"), (Text(), "ligne 1\r\nligne 2"),
    (Date(), date(2024, 2, 29)), (Time(), time(8, 30, 1, 5)),
    (UTCDateTime(), datetime(2024, 5, 1, 8, 30, 0, 123456, tzinfo=UTC)),
    (DateTime(), datetime(2024, 5, 1, 8, 30)),
    (JSON(), {"a": [1, 2.5, None, "é"], "b": {"c": True}}), (JSON(), ["x"]), (JSON(), "texte"),
    (LargeBinary(), b"\x00\xff!"), (Uuid(), uuid.UUID(int=7)),
    (Interval(), timedelta(days=1, seconds=3.5)),
    (Enum(Colour, native_enum=False, values_callable=lambda e: [m.value for m in e]),
     Colour.BLUE),
]


@pytest.mark.parametrize(("type_", "value"), CASES, ids=lambda v: type(v).__name__)
def test_value_round_trip(type_: Any, value: Any) -> None:
    column = Column("c", type_, nullable=True)
    text = f.to_text(column, value)
    assert f.from_text(column, text) == value
    assert f.from_text(column, f.to_text(column, None)) is None


def test_special_floats_and_offsets() -> None:
    column = Column("c", Float())
    assert f.to_text(column, math.inf) == "INF" and f.to_text(column, -math.inf) == "-INF"
    assert math.isnan(f.from_text(column, f.to_text(column, math.nan)))
    # A datetime with another offset is written in UTC, same instant.
    moment = datetime(2024, 5, 1, 10, 30, tzinfo=timezone(timedelta(hours=2)))
    stamp = Column("at", UTCDateTime())
    assert f.to_text(stamp, moment) == "2024-05-01T08:30:00+00:00"
    assert f.from_text(stamp, "2024-05-01T08:30:00") == datetime(2024, 5, 1, 8, 30, tzinfo=UTC)
    with pytest.raises(ValueError):
        f.from_text(Column("b", Boolean()), "oui")


def test_secrets_plan_and_schema() -> None:
    md = MetaData()
    node = Table("node", md, Column("id", Integer, primary_key=True),
                 Column("parent_id", ForeignKey("node.id")),
                 Column("api_secret", String(40), nullable=False),
                 Column("note", String(10), info={"secret": True}),
                 Column("kind", Enum("a", "b", native_enum=False), nullable=False))
    leaf = Table("leaf", md, Column("id", Integer, primary_key=True),
                 Column("node_id", ForeignKey("node.id"), nullable=False))
    plans = f.insertion_plan([leaf, node])
    assert [(p.table.name, p.deferred) for p in plans] == [("node", ("parent_id",)),
                                                          ("leaf", ())]
    assert [c.name for c in f.exported_columns(node)] == ["id", "parent_id", "kind"]
    unusable = f.unusable_value(node.c.api_secret)
    assert unusable.startswith("!") and len(unusable) <= 40
    assert f.unusable_value(node.c.note) is None
    schema = f.table_schema(node, {})
    assert schema["primaryKey"] == ["id"] and schema["missingValues"] == [f.NULL]
    assert schema["foreignKeys"] == [{"fields": ["parent_id"],
                                      "reference": {"resource": "", "fields": ["id"]}}]
    kind = next(x for x in schema["fields"] if x["name"] == "kind")
    assert kind["constraints"] == {"enum": ["a", "b"], "required": True}


def test_paths_cannot_leave_the_folder(tmp_path: Any) -> None:
    assert f.safe_relative(tmp_path, "tables/a.csv") == (tmp_path / "tables/a.csv").resolve()
    for bad in ("../x", "/etc/passwd", "a/../../x", "", "a\\b"):
        with pytest.raises(Invalid):
            f.safe_relative(tmp_path, bad)
