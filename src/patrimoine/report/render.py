"""The annual report as HTML and as PDF.

- `body_html`: the report itself (cover, table of contents, preface and highlights, one
  chapter per engagement with its figures, charts and tables, the rules' results, documented
  deviations and actions, and the annex), a fragment the portal's page frames and a
  published edition stores;
- `document_html`: the same as a standalone page with its print stylesheet (the `--html`
  export, and what WeasyPrint lays out);
- `pdf`: WeasyPrint's PDF of the document (cover, table of contents with page numbers,
  numbered pages, SVG charts). Nothing is fetched while rendering: the stylesheet is inline,
  the charts are inline SVG, the fonts are the system's, and any other URL is refused.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from jinja2 import Environment, FileSystemLoader, select_autoescape
from markupsafe import Markup

from patrimoine.core.markdown import markdown
from patrimoine.core.vocabulary import label
from patrimoine.report import charts
from patrimoine.report.figures import CHAPTERS, Figure
from patrimoine.report.inputs import ReportInputs

PARIS = ZoneInfo("Europe/Paris")
TEMPLATES = Path(__file__).parent / "templates"
CSS = Markup((TEMPLATES / "report.css").read_text(encoding="utf-8"))  # ours, not input

_env = Environment(loader=FileSystemLoader(str(TEMPLATES)),
                   autoescape=select_autoescape(["html"]), trim_blocks=True, lstrip_blocks=True)
_env.filters.update(markdown=markdown, number=charts.number, unit=charts.unit_of, label=label,
                    date_fr=lambda d: d.strftime("%d/%m/%Y") if d else "")
_env.filters["moment"] = lambda iso: datetime.fromisoformat(iso).astimezone(PARIS).strftime(
    "%d/%m/%Y à %H:%M")
_env.globals.update(breakdown_chart=charts.breakdown_chart, years_chart=charts.years_chart)


@dataclass
class ReportView:
    """What a report shows, whether computed now (a draft) or read back (a published one)."""

    title: str
    scope: str  # the organisation's name, or the instance's
    year: int
    edition: int
    published: bool
    as_of: date
    computed_at: str
    figures: list[Figure]
    inputs: ReportInputs = field(default_factory=ReportInputs)
    preface: str = ""
    highlights: str = ""
    chapter_texts: dict[str, str] = field(default_factory=dict)
    published_at: str | None = None


def chapters(view: ReportView) -> list[dict[str, Any]]:
    """The chapters in order, each with its text, figures and the engine's records; an
    engagement the five chapters do not know gets one of its own after them."""
    keys = [(c.key, c.title, c.engagement) for c in CHAPTERS]
    known = {c.key for c in CHAPTERS}
    keys += [(k, k, "") for k in view.inputs.engagements() if k not in known]
    out = []
    for number, (key, title, engagement) in enumerate(keys, start=1):
        records = view.inputs.of(key)
        out.append({"key": key, "number": number, "title": title, "engagement": engagement,
                    "text": view.chapter_texts.get(key, ""),
                    "figures": [f for f in view.figures if f.chapter == key],
                    "rules": records.rules, "deviations": records.deviations,
                    "actions": records.actions})
    return out


def body_html(view: ReportView) -> Markup:
    return Markup(_env.get_template("body.html").render(r=view, chapters=chapters(view)))


def document_html(view: ReportView) -> str:
    return _env.get_template("document.html").render(r=view, body=body_html(view), css=CSS)


def _no_fetch(url: str, *args: Any, **kwargs: Any) -> dict[str, Any]:
    raise ValueError(f"Le rapport ne charge aucune ressource extérieure ({url}).")


def pdf(view: ReportView) -> bytes:
    from weasyprint import HTML  # imported here: it loads Pango, which pages rarely need

    return bytes(HTML(string=document_html(view), url_fetcher=_no_fetch).write_pdf())
