"""The annual report: its figures equal the registers' counts (counted here again in plain
SQL, with previous years), the engine's records land in their chapters, a published edition
is frozen while the data moves on, and the narrative is sanitised."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import text, update
from sqlalchemy.orm import Session

from patrimoine.access.models import Role
from patrimoine.bootstrap import Services
from patrimoine.core.errors import Conflict, Forbidden
from patrimoine.inventory.models import Organisation
from patrimoine.protection import rights_requests
from patrimoine.protection.register.models import ProcessingActivity
from patrimoine.report import render, service
from patrimoine.report.figures import Figure
from patrimoine.report.inputs import (
    ActionEntry,
    ActionStatus,
    DeviationEntry,
    ReportInputs,
    RuleOutcome,
)
from patrimoine.report.service import NarrativeInput
from tests import factories as f
from tests.factories import SYSTEM

TODAY = date.today()
YEAR = TODAY.year


def _by_key(figures: list[Figure]) -> dict[str, Figure]:
    return {fig.key: fig for fig in figures}


def _one(s: Session, sql: str, **params: Any) -> int:
    return int(s.execute(text(sql), params).scalar() or 0)


def _age_the_registers(services: Services) -> None:
    """Give the demo's registers a history: activities recorded in earlier years, rights
    requests received one and two years ago."""
    with services.db.unit_of_work() as s:
        ids = list(s.scalars(text("SELECT id FROM processing_activity ORDER BY id")))
        for i, year in ((0, YEAR - 2), (1, YEAR - 1), (2, YEAR - 1)):
            s.execute(update(ProcessingActivity).where(ProcessingActivity.id == ids[i])
                      .values(created_at=datetime(year, 6, 1, tzinfo=UTC)))
        org = s.scalar(text("SELECT min(id) FROM organisation"))
        for year, n in ((YEAR - 2, 3), (YEAR - 1, 2)):
            for k in range(n):
                rights_requests.create_request(s, SYSTEM, rights_requests.RequestInput(
                    organisation_id=org, kind="access", requester=f"Personne {year}-{k}",
                    received_on=date(year, 3, 1 + k)))


def _expected(s: Session, year: int, as_of: date, org: int | None) -> dict[str, Any]:
    """Every checked figure counted again, plainly, over the tables."""
    start = f"{year}-01-01"
    until = (as_of + timedelta(days=1)).isoformat()
    o = "" if org is None else f" AND organisation_id = {org}"
    oa = "" if org is None else f" AND a.organisation_id = {org}"
    exp: dict[str, Any] = {}
    exp["protection.traitements"] = _one(
        s, f"SELECT count(*) FROM processing_activity WHERE status <> 'draft'"
           f" AND created_at < :u{o}", u=until)
    exp["protection.traitements@prev"] = _one(
        s, f"SELECT count(*) FROM processing_activity WHERE status <> 'draft'"
           f" AND created_at < :u{o}", u=f"{year}-01-01")
    exp["protection.demandes"] = _one(
        s, f"SELECT count(*) FROM rights_request WHERE received_on >= :a AND received_on <= :b{o}",
        a=date(year, 1, 1), b=as_of)
    exp["protection.demandes@prev"] = _one(
        s, f"SELECT count(*) FROM rights_request WHERE received_on >= :a AND received_on <= :b{o}",
        a=date(year - 1, 1, 1), b=date(year - 1, 12, 31))
    exp["protection.violations"] = _one(
        s, f"SELECT count(*) FROM breach WHERE aware_at >= :a AND aware_at < :u{o}",
        a=start, u=until)
    exp["protection.aipd"] = _one(
        s, "SELECT count(*) FROM dpia d JOIN processing_activity a ON a.id = d.activity_id"
           f" WHERE d.started_on <= :d{oa}", d=as_of)
    apps = s.execute(text(
        f"SELECT hosting_mode, location FROM application WHERE status NOT IN "
        f"('planned', 'retired') AND created_at < :u{o}"), {"u": until}).all()
    places = Counter("own" if m == "own" else loc if loc in ("france", "eu") else "out"
                     for m, loc in apps)
    exp["souverainete.applications"] = (len(apps), places)
    contracts = s.execute(text(
        f"SELECT id, organisation_id FROM contract WHERE created_at < :u"
        f" AND (start_date IS NULL OR start_date <= :b) AND (end_date IS NULL OR end_date >= :a)"
        f"{o}"), {"u": until, "a": date(year, 1, 1), "b": as_of}).all()
    sets = dict(s.execute(text("SELECT organisation_id, count(*) FROM charter_clause"
                               " GROUP BY organisation_id")).all())
    complete = 0
    for contract_id, org_id in contracts:
        held = _one(s, "SELECT count(*) FROM contract_clause WHERE contract_id = :c AND status IN"
                       " ('present', 'negotiated', 'not_applicable')", c=contract_id)
        if held and sets.get(org_id) and held >= sets[org_id]:
            complete += 1
    exp["souverainete.clauses"] = complete
    exp["souverainete.partenaires"] = _one(
        s, f"SELECT count(*) FROM charter_partner WHERE signed_on <= :d{o}", d=as_of)
    exp["transparence.algorithmes"] = _one(
        s, f"SELECT count(*) FROM public_algorithm WHERE status = 'published'"
           f" AND published_on <= :d{o}", d=as_of)
    exp["transparence.interet_general"] = _one(
        s, f"SELECT count(*) FROM general_interest_request WHERE asked_on >= :a"
           f" AND asked_on <= :d{o}", a=date(year, 1, 1), d=as_of)
    open_ = f"access_level = 'open' AND lifecycle_stage = 'published' AND created_at < :u{o}"
    exp["ouverture.jeux_ouverts"] = _one(s, f"SELECT count(*) FROM dataset WHERE {open_}",
                                         u=until)
    exp["ouverture.nouveaux"] = _one(
        s, f"SELECT count(*) FROM dataset WHERE {open_} AND created_at >= :a", u=until, a=start)
    exp["ouverture.telechargements"] = _one(
        s, f"SELECT coalesce(sum(u.downloads), 0) FROM dataset_daily_usage u WHERE u.day >= :a"
           f" AND u.day <= :d AND u.dataset_id IN (SELECT id FROM dataset WHERE {open_})",
        a=date(year, 1, 1), d=as_of, u=until)
    return exp


def _check(figures: list[Figure], exp: dict[str, Any], year: int) -> None:
    got = _by_key(figures)
    for k in ("protection.traitements", "protection.demandes", "protection.violations",
              "protection.aipd", "souverainete.clauses", "souverainete.partenaires",
              "transparence.algorithmes", "transparence.interet_general",
              "ouverture.jeux_ouverts", "ouverture.nouveaux", "ouverture.telechargements"):
        assert got[k].value == exp[k], k
        if got[k].years:
            assert got[k].years[-1] == (year, exp[k]), k
    previous = dict(got["protection.traitements"].years)
    assert previous.get(year - 1, 0) == exp["protection.traitements@prev"]
    assert dict(got["protection.demandes"].years).get(year - 1, 0) == \
        exp["protection.demandes@prev"]
    total, places = exp["souverainete.applications"]
    apps = got["souverainete.applications"]
    assert apps.value == total
    assert dict(apps.breakdown) == {
        "Hébergées par la collectivité": places["own"], "Hébergées en France": places["france"],
        "Hébergées dans l'Union européenne": places["eu"],
        "Hébergées hors de l'Union européenne": places["out"]}
    for fig in figures:
        assert fig.method and fig.query and fig.computed_at


@pytest.mark.demo
def test_figures_equal_the_registers_counts(services: Services) -> None:
    _age_the_registers(services)
    with services.db.session() as s:
        view = service.live_view(s, services.settings, YEAR, None)
        exp = _expected(s, YEAR, TODAY, None)
        assert view.as_of == TODAY
        _check(view.figures, exp, YEAR)
        got = _by_key(view.figures)
        # Nantes' three years of requests: the two earlier ones come from their own year.
        assert [y for y, _ in got["protection.demandes"].years] == [YEAR - 2, YEAR - 1, YEAR]
        assert dict(got["protection.demandes"].years)[YEAR - 2] == 3
        assert got["protection.traitements"].years[0] == (YEAR - 2, 1)
        # A past year is counted at its last day, and only with what existed then.
        last_year = service.live_view(s, services.settings, YEAR - 1, None)
        assert last_year.as_of == date(YEAR - 1, 12, 31)
        _check(last_year.figures, _expected(s, YEAR - 1, date(YEAR - 1, 12, 31), None),
               YEAR - 1)
        # One organisation's report counts only its entries.
        org = s.scalar(text("SELECT id FROM organisation WHERE name = 'Ville de Ligérac'"))
        own = service.live_view(s, services.settings, YEAR, org)
        assert own.scope == "Ville de Ligérac"
        _check(own.figures, _expected(s, YEAR, TODAY, org), YEAR)
        assert _by_key(own.figures)["protection.traitements"].value < \
            got["protection.traitements"].value


@pytest.mark.demo
def test_the_engine_records_land_in_their_chapters(services: Services) -> None:
    inputs = ReportInputs(
        rules=(RuleOutcome("protection.aipd", "Les traitements à risque ont une AIPD",
                           "protection", "majeure", "RGPD art. 35", passed=5, failed=1,
                           deviations=1, not_applicable=20),
               RuleOutcome("x.y", "Règle d'un engagement propre", "gouvernance", passed=2)),
        deviations=(DeviationEntry("protection.aipd", "protection", "Expérimentation WiFi",
                                   "Données agrégées seulement", "DPO", date(YEAR, 1, 1),
                                   date(YEAR + 1, 1, 1)),),
        actions=(ActionEntry("souverainete", "Rapatrier les données hors UE", "DSI",
                             date(YEAR, 3, 1), ActionStatus.LATE),
                 ActionEntry("protection", "Former les référents", "DPO", None,
                             ActionStatus.DONE)))
    with services.db.session() as s:
        view = service.live_view(s, services.settings, YEAR, None, inputs)
    chapters = {c["key"]: c for c in render.chapters(view)}
    assert [r.rule_id for r in chapters["protection"]["rules"]] == ["protection.aipd"]
    assert [a.title for a in chapters["souverainete"]["actions"]] == [
        "Rapatrier les données hors UE"]
    assert chapters["gouvernance"]["number"] == 6  # after the five, in a chapter of its own
    html = str(render.body_html(view))
    assert "Action en retard</span> <strong>Rapatrier les données hors UE" in html
    assert "Expérimentation WiFi" in html and "RGPD art. 35" in html
    assert ReportInputs.from_json(inputs.as_json()) == inputs


@pytest.mark.demo
def test_a_published_edition_does_not_change(services: Services) -> None:
    with services.db.unit_of_work() as s:
        draft = service.start_draft(s, SYSTEM, YEAR, None)
        assert draft.edition == 1 and draft.title.startswith("Charte de la donnée")
        service.publish(s, services.settings, SYSTEM, draft)
        report_id = draft.id
        html, snapshot = draft.html, draft.snapshot
        assert draft.as_of == TODAY
    with services.db.unit_of_work() as s:
        org = s.get(Organisation, s.scalar(text("SELECT min(id) FROM organisation")))
        for i in range(4):
            f.dataset(s, org, f"Jeu ouvert ajouté {i}", access_level="open",
                      lifecycle_stage="published", licence="etalab-2.0")
        s.execute(text("DELETE FROM charter_partner"))
    with services.db.session() as s:
        report = service.published_report(s, report_id)
        assert report.html == html and report.snapshot == snapshot
        frozen = _by_key(service.frozen_view(report).figures)
        live = _by_key(service.live_view(s, services.settings, YEAR, None).figures)
        assert live["ouverture.jeux_ouverts"].value == frozen["ouverture.jeux_ouverts"].value + 4
        assert live["souverainete.partenaires"].value == 0
        assert frozen["souverainete.partenaires"].value > 0
        assert str(render.body_html(service.frozen_view(report))) == html
    with services.db.unit_of_work() as s:
        published = service.get_report(s, report_id)
        with pytest.raises(Conflict):
            service.write(s, SYSTEM, published, NarrativeInput(title="Autre"))
        with pytest.raises(Conflict):
            service.publish(s, services.settings, SYSTEM, published)
        # The next edition is a new document; the demo's draft was edition 1 of the same
        # report, so the new one follows the published edition.
        again = service.start_draft(s, SYSTEM, YEAR, None)
        assert again.id != report_id and again.edition == published.edition + 1
        assert again.title == published.title


@pytest.mark.demo
def test_the_demo_drafts_this_years_report(services: Services) -> None:
    with services.db.session() as s:
        [draft] = service.editions(s, YEAR, None)
        assert draft.status == "draft" and draft.preface and set(draft.chapters) == {
            "protection", "souverainete", "sobriete", "transparence", "ouverture"}
        html = str(render.body_html(service.view_of(s, services.settings, draft)))
    assert "Préambule" in html and "un an d&#39;actions" in html


@pytest.mark.demo
def test_a_draft_carries_the_charters_own_results(services: Services) -> None:
    """Given no records, the report asks the engine: the rules at the report's date, the
    year's deviations, the action plan with its statuses, each in its chapter."""
    with services.db.session() as s:
        [draft] = service.editions(s, YEAR, None)
        view = service.view_of(s, services.settings, draft)
    chapters = {c["key"]: c for c in render.chapters(view)}
    assert "protection.dpia" in [r.rule_id for r in chapters["protection"]["rules"]]
    assert "sovereignty.reversibility_tested" in [
        r.rule_id for r in chapters["souverainete"]["rules"]]
    late = [a.title for a in chapters["souverainete"]["actions"] if a.status == "late"]
    assert late == ["Tester la réversibilité des contrats qui finissent dans l'année"]
    assert any(d.rule_id == "transparency.algorithms_published"
               for d in chapters["transparence"]["deviations"])
    assert sum(r.passed + r.failed + r.deviations for r in view.inputs.rules) > 0


def test_narrative_is_sanitised_and_checked(services: Services) -> None:
    with services.db.unit_of_work() as s:
        org = f.organisation(s)
        agent_id = f.account(s, "agent@ville.fr", roles=[(org, Role.AGENT, None)]).id
        org_id = org.id
    agent = f.principal(services, agent_id)
    with services.db.unit_of_work() as s:
        draft = service.start_draft(s, SYSTEM, YEAR, org_id)
        service.write(s, SYSTEM, draft, NarrativeInput(
            title="Bilan", preface="Bonjour <script>alert(1)</script> [lien](javascript:x)",
            chapters={"protection": "**Fait**"}))
        html = str(render.body_html(service.view_of(s, services.settings, draft)))
        assert "<script>" not in html and 'href="javascript' not in html
        assert "&lt;script&gt;" in html
        assert "<strong>Fait</strong>" in html
        with pytest.raises(ValueError, match="Chapitre inconnu"):
            NarrativeInput(title="Bilan", chapters={"inconnu": "x"})
        with pytest.raises(Forbidden):  # writing the report is the managers' decision
            service.start_draft(s, agent, YEAR, org_id)
        with pytest.raises(Forbidden):  # the whole instance's report is the instance's
            service.start_draft(s, agent, YEAR, None)


def test_two_people_publishing_the_same_draft(services: Services) -> None:
    """The second finds the edition published (its copy of the draft is stale) and changes
    nothing: the first one's frozen figures stay."""
    with services.db.unit_of_work() as s:
        org_id = f.organisation(s).id
        report_id = service.start_draft(s, SYSTEM, YEAR, org_id).id
    late = services.db.session()
    try:
        stale = service.get_report(late, report_id)  # read while it is still a draft
        assert stale.status == "draft"
        with services.db.unit_of_work() as s:
            service.publish(s, services.settings, SYSTEM, service.get_report(s, report_id))
        with services.db.session() as s:
            first = service.get_report(s, report_id).snapshot
        with pytest.raises(Conflict):
            service.publish(late, services.settings, SYSTEM, stale)
        late.rollback()
    finally:
        late.close()
    with services.db.session() as s:
        assert service.get_report(s, report_id).snapshot == first


def test_two_people_opening_the_next_edition(services: Services,
                                             monkeypatch: pytest.MonkeyPatch) -> None:
    """Both found no draft and number the new one alike (the second's read is made stale
    here): the second gets a conflict, not a second draft of the same edition."""
    with services.db.unit_of_work() as s:
        org_id = f.organisation(s).id
        service.start_draft(s, SYSTEM, YEAR, org_id)
        service.start_draft(s, SYSTEM, YEAR, None)
    monkeypatch.setattr(service, "editions", lambda *args: [])
    for scope in (org_id, None):  # the instance's report too (no organisation)
        with pytest.raises(Conflict, match="ouvert par quelqu'un d'autre"), \
                services.db.unit_of_work() as s:
            service.start_draft(s, SYSTEM, YEAR, scope)
    monkeypatch.undo()
    with services.db.session() as s:
        assert len(service.editions(s, YEAR, org_id)) == 1
        assert len(service.editions(s, YEAR, None)) == 1
