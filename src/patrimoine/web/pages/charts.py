"""Server-side SVG bar charts: no script, readable by screen readers through the table
that always follows them."""

from __future__ import annotations

from dataclasses import dataclass

from patrimoine.inventory.queries import StatRow

LABEL_WIDTH = 300
BAR_AREA = 380
VALUE_WIDTH = 110
ROW_HEIGHT = 26
BAR_HEIGHT = 18
TOP = 8
MAX_LABEL = 42


@dataclass(frozen=True)
class Bar:
    label: str
    full_label: str
    count: int
    percent: float
    y: int
    width: float
    text_y: int


@dataclass(frozen=True)
class BarChart:
    width: int
    height: int
    label_width: int
    bars: list[Bar]


def _short(text: str) -> str:
    return text if len(text) <= MAX_LABEL else text[: MAX_LABEL - 1].rstrip() + "…"


def bar_chart(rows: list[StatRow], limit: int = 30) -> BarChart:
    """Horizontal bars, longest first, at most `limit` of them (the table has them all)."""
    shown = rows[:limit]
    top = max((r.count for r in shown), default=0) or 1
    bars = []
    for i, row in enumerate(shown):
        y = TOP + i * ROW_HEIGHT
        bars.append(Bar(
            label=_short(row.value), full_label=row.value, count=row.count, percent=row.percent,
            y=y, width=round(max(1.0, BAR_AREA * row.count / top), 1),
            text_y=y + BAR_HEIGHT - 4,
        ))
    return BarChart(
        width=LABEL_WIDTH + BAR_AREA + VALUE_WIDTH,
        height=TOP * 2 + ROW_HEIGHT * len(bars),
        label_width=LABEL_WIDTH,
        bars=bars,
    )
