"""The charter evaluated over a real store: the snapshot read from every register, stored
evaluations with when each failure began, deviations until they expire (then on the
approvers' to-do list), the action plan's statuses and history, the charter as YAML or TOML,
and `patrimoine charter …` with its exit code."""

from __future__ import annotations

import json
import os
import threading
import time
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import event, select, text
from sqlalchemy.orm import Session

from patrimoine.access.models import Role
from patrimoine.access.principal import Principal
from patrimoine.bootstrap import Services
from patrimoine.charter import actions, config, deviations, evaluations
from patrimoine.charter.config import Charter, Engagement, OrganisationSetting, RuleUse
from patrimoine.charter.engine import evaluate
from patrimoine.charter.models import CharterFailure
from patrimoine.charter.rules.base import Outcome
from patrimoine.charter.snapshot import load
from patrimoine.core.clock import now
from patrimoine.core.errors import Forbidden, Invalid
from patrimoine.inventory.models import AccessLevel, Dataset, LifecycleStage, YesNoUndefined
from patrimoine.protection.register import service as register
from patrimoine.sovereignty import contracts
from patrimoine.worklist import service as worklist
from tests import factories as f
from tests.conftest import Cli

SYSTEM = Principal.system("tests")
OWNERS = "inventory.owner_and_confidentiality"


@dataclass
class World:
    org_id: int
    org_slug: str
    other_id: int
    lacking: int  # a dataset without owner nor confidentiality
    complete: int
    cdo_id: int
    agent_id: int


def charter(*, dpia: bool = False, months: int | None = None) -> Charter:
    uses = [RuleUse(OWNERS)]
    if dpia:
        uses.append(RuleUse("protection.dpia"))
    return Charter(title="Charte de test", engagements=(
        Engagement("connaitre", "Connaître nos données", "Un responsable par jeu.",
                   tuple(uses)),))


@pytest.fixture
def world(services: Services) -> World:
    with services.db.unit_of_work() as s:
        org = f.organisation(s)
        other = f.organisation(s, "Commune voisine")
        lacking = f.dataset(s, org, "Registre des arbres")
        complete = f.dataset(s, org, "Budget primitif", producer="Direction des finances",
                             confidentiality=YesNoUndefined.NO)
        f.dataset(s, other, "Cimetières")
        cdo = f.account(s, "cdo@example.fr", roles=[(org, Role.CHIEF_DATA_OFFICER, None)])
        agent = f.account(s, "agent@example.fr", roles=[(org, Role.AGENT, None)])
        config.save(s, SYSTEM, charter())
        return World(org.id, org.slug, other.id, lacking.id, complete.id, cdo.id, agent.id)


def _outcomes(s: Session, **kw: object) -> dict[str, Outcome]:
    result = evaluate(s, **kw)  # type: ignore[arg-type]
    return {r.item: r.outcome for rule in result.rules for r in rule.results}


def test_the_snapshot_reads_the_registers_and_the_evaluation_judges_each_item(
        services: Services, world: World) -> None:
    with services.db.unit_of_work() as s:
        got = _outcomes(s)
        assert got[f"dataset:{world.lacking}"] == Outcome.FAILED
        assert got[f"dataset:{world.complete}"] == Outcome.PASSED
        only = _outcomes(s, organisation_ids=[world.org_id])
        assert len(only) == 2  # the other organisation's entry is left out


def test_failures_are_stored_with_when_they_began(services: Services, world: World) -> None:
    start = now()
    with services.db.unit_of_work() as s:
        evaluations.record(s, SYSTEM, evaluate(s, at=start - timedelta(days=3)))
        evaluations.record(s, SYSTEM, evaluate(s, at=start))
        failing = {x.item: x for x in s.scalars(select(CharterFailure))}
        assert failing[f"dataset:{world.lacking}"].first_failed_at == start - timedelta(days=3)
        trend = evaluations.trend(s)
        assert [(p.passed, p.failed) for p in trend["connaitre"]] == [(1, 2), (1, 2)]
    with services.db.unit_of_work() as s:  # fixed: the failure is forgotten
        d = s.get(Dataset, world.lacking)
        assert d is not None
        d.producer, d.confidentiality = "Espaces verts", YesNoUndefined.YES
        evaluations.record(s, SYSTEM, evaluate(s))
        assert f"dataset:{world.lacking}" not in {x.item for x in s.scalars(
            select(CharterFailure))}
    with services.db.unit_of_work() as s:  # broken again: it fails since now
        d = s.get(Dataset, world.lacking)
        assert d is not None
        d.producer = None
        later = now()
        evaluations.record(s, SYSTEM, evaluate(s, at=later))
        again = s.scalar(select(CharterFailure).where(
            CharterFailure.item == f"dataset:{world.lacking}"))
        assert again is not None and again.first_failed_at == later


def test_an_evaluation_of_one_organisation_keeps_the_others_failures(
        services: Services, world: World) -> None:
    with services.db.unit_of_work() as s:
        evaluations.record(s, SYSTEM, evaluate(s))
        evaluations.record(s, SYSTEM, evaluate(s, [world.org_id]))
        orgs = {x.organisation_id for x in s.scalars(select(CharterFailure))}
        assert orgs == {world.org_id, world.other_id}
        assert evaluations.last_run(s, world.org_id) is not None


def test_a_deviation_documents_the_failure_until_it_expires(
        services: Services, world: World) -> None:
    today = now().date()
    item = f"dataset:{world.lacking}"
    with services.db.unit_of_work() as s:
        deviations.record(s, SYSTEM, deviations.DeviationInput(
            rule_id=OWNERS, item=item, organisation_id=world.org_id,
            justification="Jeu hérité d'une fusion, responsable désigné au prochain comité.",
            approver_role="chief_data_officer", starts_on=today - timedelta(days=5),
            expires_on=today + timedelta(days=2)))
        result = evaluate(s)
        documented = [r for rule in result.rules for r in rule.results if r.item == item][0]
        assert documented.outcome == Outcome.DEVIATION
        assert documented.reason.startswith(
            f"Écart documenté jusqu'au {today + timedelta(days=2):%d/%m/%Y}")
        assert not result.rules[0].failures or all(
            r.item != item for r in result.rules[0].failures)
        # Three days later the deviation has expired: the item fails again.
        later = _outcomes(s, at=now() + timedelta(days=3))
        assert later[item] == Outcome.FAILED


def test_an_expired_deviation_lands_on_the_approvers_to_do_list(
        services: Services, world: World) -> None:
    today = now().date()
    with services.db.unit_of_work() as s:
        deviations.record(s, SYSTEM, deviations.DeviationInput(
            rule_id=OWNERS, item=f"dataset:{world.lacking}", item_label="Registre des arbres",
            organisation_id=world.org_id, justification="Expérimentation de trois mois.",
            approver_role="chief_data_officer", starts_on=today - timedelta(days=90),
            expires_on=today - timedelta(days=1)))
        evaluations.record(s, SYSTEM, evaluate(s))
    cdo, agent = f.principal(services, world.cdo_id), f.principal(services, world.agent_id)
    with services.db.session() as s:
        todo = [i for i in worklist.items(s, cdo) if i.category == "Écarts à la charte expirés"]
        assert len(todo) == 1 and "Registre des arbres" in todo[0].title
        assert not [i for i in worklist.items(s, agent)
                    if i.category == "Écarts à la charte expirés"]
    with services.db.unit_of_work() as s:  # renewed: off the list
        deviations.record(s, cdo, deviations.DeviationInput(
            rule_id=OWNERS, item=f"dataset:{world.lacking}", organisation_id=world.org_id,
            justification="Prolongée d'un mois, le comité est reporté.",
            approver_role="chief_data_officer", starts_on=today,
            expires_on=today + timedelta(days=30)))
    with services.db.session() as s:
        assert not [i for i in worklist.items(s, cdo)
                    if i.category == "Écarts à la charte expirés"]


def test_only_a_role_the_charter_names_approves_a_deviation(
        services: Services, world: World) -> None:
    today = now().date()
    data = deviations.DeviationInput(
        rule_id=OWNERS, organisation_id=world.org_id, justification="Pour toute la commune.",
        approver_role="agent", starts_on=today, expires_on=today)
    agent = f.principal(services, world.agent_id)
    with services.db.unit_of_work() as s, pytest.raises(Invalid, match="la charte nomme"):
        deviations.record(s, SYSTEM, data)
    with services.db.unit_of_work() as s, pytest.raises(Forbidden):
        deviations.record(s, agent, data.model_copy(update={"approver_role": "dpo"}))
    with pytest.raises(ValueError, match="expirer avant de commencer"):
        deviations.DeviationInput(rule_id=OWNERS, justification="Des raisons sérieuses.",
                                  approver_role="dpo", starts_on=today,
                                  expires_on=today - timedelta(days=1))


def test_the_action_plan_marks_actions_done_in_progress_or_late(
        services: Services, world: World) -> None:
    today = now().date()
    with services.db.unit_of_work() as s:
        late = actions.create(s, SYSTEM, actions.ActionInput(
            engagement="connaitre", title="Nommer les responsables", owner="DGS",
            due_on=today - timedelta(days=1), rule_ids=[OWNERS]))
        running = actions.create(s, SYSTEM, actions.ActionInput(
            engagement="connaitre", title="Classer la confidentialité", owner="DPO",
            due_on=today + timedelta(days=30)))
        assert late.status(today) == actions.LATE
        assert running.status(today) == actions.IN_PROGRESS
        done = actions.update(s, SYSTEM, late.id, actions.ActionInput(
            engagement="connaitre", title="Nommer les responsables", owner="DGS",
            due_on=late.due_on, rule_ids=[OWNERS], evidence="Arrêté du 3 mars.",
            done_on=today))
        assert done.status(today) == actions.DONE
        history = actions.history(s, late.id)
        assert [e.action for e in history] == ["charter.action.updated",
                                               "charter.action.created"]
        assert history[0].details["changes"]["done_on"] == [None, today.isoformat()]
    with pytest.raises(ValueError, match="preuve"):
        actions.ActionInput(engagement="connaitre", title="Sans preuve", owner="DGS",
                            due_on=today, done_on=today)
    with services.db.unit_of_work() as s, pytest.raises(Invalid, match="Engagement « x »"):
        actions.create(s, SYSTEM, actions.ActionInput(engagement="x", title="Une action",
                                                      owner="DGS", due_on=today))


@pytest.mark.parametrize("fmt", ["yaml", "toml"])
def test_the_charter_round_trips_as_a_file(services: Services, world: World, fmt: str) -> None:
    written = Charter(title="Charte « test »", preamble="Ligne 1\nLigne 2",
                      engagements=(Engagement("proteger", "Protéger", "Texte", (
                          RuleUse("protection.requests_on_time", {"period_days": 400},
                                  {world.org_id: OrganisationSetting({"period_days": 700}),
                                   world.other_id: OrganisationSetting(enabled=False)}),)),))
    with services.db.unit_of_work() as s:
        config.save(s, SYSTEM, written)
        text = config.export_text(s, fmt)
        assert world.org_slug in text
        assert config.current(s) == written
        config.save(s, SYSTEM, charter())
        assert config.import_text(s, SYSTEM, text, fmt) == written
        assert config.current(s) == written


def test_a_charter_file_with_mistakes_is_refused_in_french(services: Services,
                                                           world: World) -> None:
    with services.db.unit_of_work() as s:
        ids, _ = config.organisation_maps(s)
    bad = ("engagements:\n  - code: a\n    title: A\n    rules:\n"
           "      - id: protection.dpia\n        parameters: {jours: 3}\n")
    with pytest.raises(Invalid, match="n'a pas de paramètre « jours »"):
        config.parse(bad, "yaml", ids)
    with pytest.raises(Invalid, match="règle « nope » inconnue"):
        config.parse("engagements:\n  - {code: a, title: A, rules: [{id: nope}]}\n", "yaml", ids)
    with pytest.raises(Invalid, match="organisation « inconnue » inconnue"):
        config.parse("[[engagements]]\ncode = 'a'\ntitle = 'A'\n[[engagements.rules]]\n"
                     "id = 'protection.dpia'\norganisations = { inconnue = {} }\n", "toml", ids)
    with pytest.raises(Invalid, match="TOML illisible"):
        config.parse("engagements = [", "toml", ids)
    with pytest.raises(Invalid, match="engagements : valeur manquante"):
        config.parse("title: Sans engagement\n", "yaml", ids)


def test_an_organisation_gets_its_own_parameters_or_none_of_the_rule(
        services: Services, world: World) -> None:
    with services.db.unit_of_work() as s:
        base = charter()
        off = Charter(engagements=(Engagement("connaitre", "C", rules=(RuleUse(
            OWNERS, organisations={world.org_id: OrganisationSetting(enabled=False)}),)),))
        assert {r.organisation_id for r in evaluate(s, charter=base).rules[0].results} == {
            world.org_id, world.other_id}
        assert {r.organisation_id for r in evaluate(s, charter=off).rules[0].results} == {
            world.other_id}


def test_cli_exit_code_says_whether_a_critical_rule_fails(
        services: Services, world: World, cli: Cli, tmp_path: Path) -> None:
    done = cli("charter", "evaluate", "--json")
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout)
    assert report["highest_failed"] is False
    assert report["engagements"][0]["rules"][0]["counts"]["failed"] == 2
    with services.db.unit_of_work() as s:
        register.create_activity(s, SYSTEM, f.full_activity(world.org_id))
        config.save(s, SYSTEM, charter(dpia=True))
    done = cli("charter", "evaluate")
    assert done.returncode == 1, done.stdout
    assert "Analyse d'impact requise" in done.stdout
    assert "gravité « Critique » n'est pas respectée" in done.stdout
    exported = tmp_path / "charte.toml"
    assert cli("charter", "export", str(exported)).returncode == 0
    assert cli("charter", "import", str(exported)).returncode == 0
    missing = cli("charter", "import", str(tmp_path / "absente.yaml"))
    assert missing.returncode != 0 and "introuvable" in missing.stderr


def test_cli_records_deviations_and_actions(services: Services, world: World, cli: Cli) -> None:
    today = now().date()
    done = cli("charter", "deviation", "add", "--rule", OWNERS, "--item",
               f"dataset:{world.lacking}", "--organisation", world.org_slug, "--justification",
               "Expérimentation documentée.", "--until",
               (today + timedelta(days=10)).isoformat(), "--role", "dpo")
    assert done.returncode == 0, done.stderr
    assert "Écart n° 1 enregistré" in done.stdout
    done = cli("charter", "deviation", "end", "1", "--on", today.isoformat())
    assert done.returncode == 0, done.stderr
    assert json.loads(cli("charter", "deviation", "list", "--json").stdout)[0]["expires_on"] \
        == today.isoformat()
    assert "Date invalide" in cli("charter", "deviation", "end", "1", "--on", "hier").stderr
    bad = cli("charter", "deviation", "add", "--rule", OWNERS, "--justification", "court",
              "--until", "2020-01-01", "--role", "dpo")
    assert bad.returncode != 0 and "Saisie invalide" in bad.stderr
    done = cli("charter", "action", "add", "--engagement", "connaitre", "--title",
               "Nommer les responsables", "--owner", "DGS", "--due", "2020-01-01",
               "--rule", OWNERS)
    assert done.returncode == 0, done.stderr
    listed = json.loads(cli("charter", "action", "list", "--json").stdout)
    assert listed[0]["status"] == "late"
    assert cli("charter", "action", "done", "1", "--evidence", "Arrêté signé.").returncode == 0
    assert json.loads(cli("charter", "action", "list", "--json").stdout)[0]["status"] == "done"


@pytest.mark.skipif(os.environ.get("PATRIMOINE_TEST_DB", "sqlite") != "postgresql",
                    reason="needs PostgreSQL (PATRIMOINE_TEST_DB)")
def test_two_evaluations_stored_at_once_wait_for_each_other(
        services: Services, world: World) -> None:
    # Two sessions, as a scheduled job and a click would be: the second waits while the
    # first holds its run uncommitted, then finds its failures instead of inserting them again.
    first_holds, second_waits = threading.Event(), threading.Event()
    errors: list[BaseException] = []

    def store(hold: bool) -> None:
        try:
            with services.db.unit_of_work() as s:
                evaluations.record(s, SYSTEM, evaluate(s))
                if hold:
                    first_holds.set()
                    assert second_waits.wait(120)
        except BaseException as exc:  # noqa: BLE001 - reported by the test below
            errors.append(exc)
            first_holds.set()

    first = threading.Thread(target=store, args=(True,))
    first.start()
    assert first_holds.wait(120)
    second = threading.Thread(target=store, args=(False,))
    second.start()
    waiting = False
    with services.db.engine.connect() as c:
        for _ in range(1200):  # until the second session waits on a lock
            waiting = bool(c.scalar(text("SELECT count(*) FROM pg_locks WHERE NOT granted")))
            if waiting:
                break
            time.sleep(0.1)
    second_waits.set()
    first.join()
    second.join()
    assert waiting and errors == []
    with services.db.session() as s:
        items = list(s.scalars(select(CharterFailure.item)))
        assert sorted(items) == sorted(set(items)) and len(items) == 2


def test_the_snapshot_costs_the_same_queries_for_many_items(services: Services,
                                                            world: World) -> None:
    def statements() -> int:
        seen: list[str] = []

        def count(*args: object) -> None:
            seen.append(str(args[2]))
        event.listen(services.db.engine, "before_cursor_execute", count)
        try:
            with services.db.session() as s:
                snapshot = load(s)
        finally:
            event.remove(services.db.engine, "before_cursor_execute", count)
        assert snapshot.datasets
        return len(seen)

    def add(n: int, start: int) -> None:
        with services.db.unit_of_work() as s:
            org = f.organisation(s)
            for i in range(start, start + n):
                f.dataset(s, org, f"Jeu numéro {i}", access_level=AccessLevel.OPEN,
                          lifecycle_stage=LifecycleStage.PUBLISHED)
                register.create_activity(s, SYSTEM, f.full_activity(
                    org.id, reference=f"T-{i:04}"))
                contracts.create_contract(s, SYSTEM, contracts.ContractInput(
                    organisation_id=org.id, title=f"Contrat {i}", supplier_name="Éditeur",
                    processor=True))
    add(2, 0)
    few = statements()
    add(30, 2)
    assert statements() == few
