"""The public pages of the canteen forecast: what it uses and does not, its accuracy per
school year, the main reasons of each day's number, and the backtests with the trade-off
between over-production and days short (an SVG curve and the same figures as a table). They
show what `patrimoine forecast canteens publish` last computed (forecast.service)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response

from patrimoine.forecast.service import read_summary
from patrimoine.web.templating import render

router = APIRouter(include_in_schema=False)


def _summary(request: Request) -> dict[str, Any] | None:
    return read_summary(request.app.state.services.settings)


@router.get("/prevision-cantines")
def forecast_page(request: Request, jour: str | None = None) -> Response:
    summary = _summary(request)
    days = summary["forecast"]["days"] if summary else []
    chosen = next((d for d in days if d["date"] == jour), days[0] if days else None)
    return render(request, "portal/forecast.html", {
        "section": "algorithms", "summary": summary, "days": days, "chosen": chosen})


def curve_points(tradeoff: list[list[float]], width: int = 480, height: int = 240
                 ) -> list[dict[str, Any]]:
    """The trade-off points placed in the SVG: days short across, over-production up."""
    if not tradeoff:
        return []
    most_short = max(p[2] for p in tradeoff) or 1
    most_over = max(max(p[1] for p in tradeoff), 0.01)
    return [{"level": p[0], "over": p[1], "short": int(p[2]),
             "x": 40 + (width - 60) * p[2] / most_short,
             "y": height - 30 - (height - 50) * max(p[1], 0) / most_over} for p in tradeoff]


@router.get("/prevision-cantines/backtests")
def backtests_page(request: Request) -> Response:
    summary = _summary(request)
    years = summary["accuracy"] if summary else []
    return render(request, "portal/forecast_backtests.html", {
        "section": "algorithms", "summary": summary, "years": years,
        "curves": {y["year"]: curve_points(y["tradeoff"]) for y in years}})
