"""Editions of the annual report: drafting the narrative, previewing, publishing (freezing).

- A report is for one organisation, or for the whole instance (organisation None), and one
  year. Its draft is written by the organisation's administrators and chief data officers (the
  instance's by an instance administrator), who also publish it: the report is the
  authority's account of its commitments, like opening a dataset (`can_publish_in`).
- There is at most one draft per report; its figures are computed each time it is shown.
- Publishing computes the figures at the report's date (the year's last day, or today while
  the year runs), renders the report and stores both: a published edition never changes
  again. Writing again starts the next edition, a new document whose narrative starts from
  the last published one.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import Any

from pydantic import BaseModel, Field, field_validator
from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from patrimoine.access import audit
from patrimoine.access.permissions import can_publish_in, require
from patrimoine.access.principal import Principal
from patrimoine.core.clock import now
from patrimoine.core.errors import Conflict, Invalid, NotFound
from patrimoine.core.settings import Settings
from patrimoine.inventory import queries as inventory
from patrimoine.report import figures as figures_module
from patrimoine.report.charter_results import report_inputs
from patrimoine.report.figures import CHAPTERS, Figure, report_date
from patrimoine.report.inputs import ReportInputs
from patrimoine.report.models import AnnualReport, EditionStatus
from patrimoine.report.render import ReportView, body_html

INSTANCE_SCOPE = "Ensemble des organisations"
FIRST_YEAR = 2000
TEXT_MAX = 50_000


def default_title(year: int) -> str:
    return f"Charte de la donnée : bilan {year}"


def check_year(year: int, today: date | None = None) -> int:
    today = today or now().date()
    if not FIRST_YEAR <= year <= today.year:
        raise Invalid(f"L'année doit être comprise entre {FIRST_YEAR} et {today.year} : un "
                      "rapport rend compte d'une année commencée.")
    return year


def can_write(principal: Principal, organisation_id: int | None) -> bool:
    if organisation_id is None:
        return principal.is_superadmin
    return can_publish_in(principal, organisation_id)


def writable_organisations(principal: Principal) -> list[int] | None:
    """Organisations whose reports the principal writes; None: every one and the instance's."""
    if principal.is_superadmin:
        return None
    return sorted(o for o in principal.roles if can_publish_in(principal, o))


def scope_name(session: Session, organisation_id: int | None) -> str:
    if organisation_id is None:
        return INSTANCE_SCOPE
    found = inventory.organisation_facts(session, [organisation_id])
    if not found:
        raise NotFound("Organisation introuvable.")
    return found[0].name


class NarrativeInput(BaseModel):
    """What the authority writes around the figures (Markdown, shown sanitised)."""

    title: str = Field(min_length=1, max_length=300)
    preface: str = Field(default="", max_length=TEXT_MAX)
    highlights: str = Field(default="", max_length=TEXT_MAX)
    chapters: dict[str, str] = Field(default_factory=dict)

    @field_validator("title")
    @classmethod
    def _title(cls, value: str) -> str:
        value = value.strip()
        if not value:
            raise ValueError("Le titre du rapport est obligatoire.")
        return value

    @field_validator("chapters")
    @classmethod
    def _chapters(cls, value: dict[str, str]) -> dict[str, str]:
        known = {c.key for c in CHAPTERS}
        unknown = sorted(set(value) - known)
        if unknown:
            raise ValueError(f"Chapitre inconnu : {', '.join(unknown)}.")
        if any(len(text) > TEXT_MAX for text in value.values()):
            raise ValueError(f"Un chapitre dépasse {TEXT_MAX} caractères.")
        return {k: text for k, text in value.items() if text.strip()}


def _scoped(query: Any, organisation_id: int | None) -> Any:
    column = AnnualReport.organisation_id
    return query.where(column.is_(None) if organisation_id is None else column == organisation_id)


def editions(session: Session, year: int, organisation_id: int | None) -> list[AnnualReport]:
    """Every edition of one report, the latest first (the draft before the published ones)."""
    return list(session.scalars(_scoped(
        select(AnnualReport).where(AnnualReport.year == year), organisation_id)
        .order_by(AnnualReport.edition.desc())))


def get_report(session: Session, report_id: int) -> AnnualReport:
    report = session.get(AnnualReport, report_id)
    if report is None:
        raise NotFound("Rapport introuvable.")
    return report


def get_draft(session: Session, principal: Principal, report_id: int) -> AnnualReport:
    report = get_report(session, report_id)
    require(can_write(principal, report.organisation_id), principal, "rédiger ce rapport")
    return report


def start_draft(session: Session, principal: Principal, year: int,
                organisation_id: int | None) -> AnnualReport:
    """The report's draft: the one being written, or a new edition after the published ones
    (its narrative copied from the last of them)."""
    require(can_write(principal, organisation_id), principal, "rédiger ce rapport")
    check_year(year)
    scope_name(session, organisation_id)
    found = editions(session, year, organisation_id)
    if found and found[0].status == EditionStatus.DRAFT:
        return found[0]
    last = found[0] if found else None
    report = AnnualReport(
        organisation_id=organisation_id, year=year, edition=(last.edition + 1) if last else 1,
        status=EditionStatus.DRAFT, title=last.title if last else default_title(year),
        preface=last.preface if last else "", highlights=last.highlights if last else "",
        chapters=dict(last.chapters) if last else {}, created_by=principal.label)
    session.add(report)
    try:
        session.flush()
    except IntegrityError as exc:  # the unique edition: someone opened it meanwhile
        raise Conflict("Ce brouillon vient d'être ouvert par quelqu'un d'autre : rechargez la "
                       "page des rapports.") from exc
    return report


def write(session: Session, principal: Principal, report: AnnualReport,
          data: NarrativeInput) -> AnnualReport:
    require(can_write(principal, report.organisation_id), principal, "rédiger ce rapport")
    if report.status != EditionStatus.DRAFT:
        raise Conflict("Une édition publiée ne change plus : rédigez une nouvelle édition.")
    report.title = data.title
    report.preface = data.preface
    report.highlights = data.highlights
    report.chapters = dict(data.chapters)
    report.updated_at = now()
    session.flush()
    return report


def organisation_ids(organisation_id: int | None) -> list[int] | None:
    return None if organisation_id is None else [organisation_id]


def live_view(session: Session, settings: Settings, year: int, organisation_id: int | None,
              inputs: ReportInputs | None = None, report: AnnualReport | None = None,
              today: date | None = None,
              progress: Callable[[str], None] | None = None) -> ReportView:
    """The report computed now from the registers (with the draft's narrative when given)."""
    as_of = report_date(year, today)
    found = figures_module.compute(session, settings, year, as_of, organisation_ids(
        organisation_id), progress=progress)
    if inputs is None:  # the charter's own results, as the engine gives them on that day
        if progress:
            progress("Règles de la charte")
        inputs = report_inputs(session, organisation_ids(organisation_id), year, as_of)
    return ReportView(
        title=report.title if report else default_title(year),
        scope=scope_name(session, organisation_id), year=year,
        edition=report.edition if report else 1, published=False, as_of=as_of,
        computed_at=now().isoformat(timespec="seconds"), figures=found,
        inputs=inputs, preface=report.preface if report else "",
        highlights=report.highlights if report else "",
        chapter_texts=dict(report.chapters) if report else {})


def frozen_view(report: AnnualReport) -> ReportView:
    """A published edition as it was published: nothing is counted again."""
    if report.status != EditionStatus.PUBLISHED or report.snapshot is None:
        raise Invalid("Ce rapport n'est pas publié.")
    s = report.snapshot
    return ReportView(
        title=s["title"], scope=s["scope"], year=report.year, edition=report.edition,
        published=True, as_of=date.fromisoformat(s["as_of"]), computed_at=s["computed_at"],
        figures=[Figure.from_json(f) for f in s["figures"]],
        inputs=ReportInputs.from_json(s["inputs"]), preface=s["preface"],
        highlights=s["highlights"], chapter_texts=dict(s["chapters"]),
        published_at=s["published_at"])


def view_of(session: Session, settings: Settings, report: AnnualReport,
            inputs: ReportInputs | None = None,
            progress: Callable[[str], None] | None = None) -> ReportView:
    if report.status == EditionStatus.PUBLISHED:
        return frozen_view(report)
    return live_view(session, settings, report.year, report.organisation_id, inputs, report,
                     progress=progress)


def publish(session: Session, settings: Settings, principal: Principal, report: AnnualReport,
            inputs: ReportInputs | None = None, today: date | None = None) -> AnnualReport:
    """Freeze the draft: its figures (at the report's date), the engine's records given, the
    narrative and the rendered report are stored and never change again."""
    require(can_write(principal, report.organisation_id), principal, "publier ce rapport")
    if report.status != EditionStatus.DRAFT:
        raise Conflict("Cette édition est déjà publiée.")
    view = live_view(session, settings, report.year, report.organisation_id, inputs, report,
                     today=today)
    at = now()
    view.published = True
    view.published_at = at.strftime("%d/%m/%Y")
    snapshot = {
        "title": view.title, "scope": view.scope, "as_of": view.as_of.isoformat(),
        "computed_at": view.computed_at, "published_at": view.published_at,
        "preface": view.preface, "highlights": view.highlights, "chapters": view.chapter_texts,
        "figures": [f.as_json() for f in view.figures], "inputs": view.inputs.as_json()}
    # Only a draft is published: of two people publishing it at once, the second finds it
    # published (the row is locked by the first until it commits) and changes nothing.
    done = session.execute(
        update(AnnualReport)
        .where(AnnualReport.id == report.id, AnnualReport.status == EditionStatus.DRAFT)
        .values(status=EditionStatus.PUBLISHED, snapshot=snapshot, html=str(body_html(view)),
                as_of=view.as_of, published_at=at, published_by=principal.label,
                updated_at=at)
        .execution_options(synchronize_session=False))
    if getattr(done, "rowcount", 0) != 1:
        raise Conflict("Cette édition est déjà publiée.")
    session.refresh(report)
    audit.record(session, principal, "report.published", f"annual_report:{report.id}",
                 {"year": report.year, "edition": report.edition,
                  "as_of": view.as_of.isoformat()},
                 organisation_id=report.organisation_id)
    session.flush()
    return report


def published_reports(session: Session, year: int | None = None) -> list[AnnualReport]:
    """Published editions, the latest year and edition first."""
    query = select(AnnualReport).where(AnnualReport.status == EditionStatus.PUBLISHED)
    if year is not None:
        query = query.where(AnnualReport.year == year)
    return list(session.scalars(query.order_by(AnnualReport.year.desc(),
                                               AnnualReport.organisation_id,
                                               AnnualReport.edition.desc())))


def published_report(session: Session, report_id: int) -> AnnualReport:
    report = session.get(AnnualReport, report_id)
    if report is None or report.status != EditionStatus.PUBLISHED:
        raise NotFound("Rapport introuvable.")
    return report


def drafts_and_editions(session: Session, principal: Principal) -> list[AnnualReport]:
    """The editions of the reports the principal writes, the latest first."""
    query = select(AnnualReport)
    allowed = writable_organisations(principal)
    if allowed is not None:
        query = query.where(AnnualReport.organisation_id.in_(allowed))
    return list(session.scalars(query.order_by(AnnualReport.year.desc(),
                                               AnnualReport.organisation_id,
                                               AnnualReport.edition.desc())))
