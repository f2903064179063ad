"""Jinja2 set-up: French filters and the globals every page uses."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

from fastapi import Request
from fastapi.templating import Jinja2Templates

from patrimoine.core.clock import PARIS
from patrimoine.core.markdown import markdown
from patrimoine.core.vocabulary import label
from patrimoine.web.deps import csrf_token

TEMPLATES_DIR = Path(__file__).parent / "templates"


def _in_paris(value: datetime | date | str) -> datetime | date:
    """A moment (stored in UTC, or its ISO text from a record) in Paris time; a date as is."""
    if isinstance(value, str):
        value = datetime.fromisoformat(value) if "T" in value else date.fromisoformat(value)
    if isinstance(value, datetime):
        return (value if value.tzinfo else value.replace(tzinfo=UTC)).astimezone(PARIS)
    return value


def french_datetime(value: datetime | str | None) -> str:
    if not value:
        return ""
    return _in_paris(value).strftime("%d/%m/%Y à %H:%M")


def french_date(value: date | datetime | str | None) -> str:
    """The day, in Paris: a moment just after midnight in Paris is that day, not the eve."""
    return _in_paris(value).strftime("%d/%m/%Y") if value else ""


def french_number(value: int | float | Decimal | None, digits: int = 0) -> str:
    if value is None:
        return ""
    text = f"{value:,.{digits}f}".replace(",", "\u202f").replace(".", ",")
    return text


def make_templates() -> Jinja2Templates:
    templates = Jinja2Templates(directory=str(TEMPLATES_DIR))
    env = templates.env
    env.filters.update(
        markdown=markdown,
        datetime_fr=french_datetime,
        date_fr=french_date,
        number_fr=french_number,
        label=label,
    )
    env.globals["csrf_token"] = lambda request: csrf_token(request)
    return templates


def render(request: Request, template: str, context: dict[str, Any], status: int = 200) -> Any:
    templates: Jinja2Templates = request.app.state.templates
    principal = getattr(request.state, "principal", None)
    base = {"principal": principal, "flash": request.session.pop("flash", None)}
    return templates.TemplateResponse(request, template, {**base, **context}, status_code=status)


def flash(request: Request, message: str, kind: str = "success") -> None:
    request.session["flash"] = {"message": message, "kind": kind}
