"""The demo ships a charter modelled on the seeds' engagements, a running and an expired
deviation, an action plan and a first stored evaluation; every rule reads its registers."""

from __future__ import annotations

import pytest

from patrimoine.bootstrap import Services
from patrimoine.charter import actions, config, deviations, evaluations
from patrimoine.charter.engine import evaluate
from patrimoine.charter.rules.base import RULES, Outcome
from patrimoine.core.clock import now


@pytest.mark.demo
def test_the_demo_charter_covers_every_rule_and_its_registers(services: Services) -> None:
    today = now().date()
    with services.db.session() as s:
        charter = config.current(s)
        assert charter.title == "Charte de la donnée de Val-de-Loire"
        assert [e.code for e in charter.engagements] == [
            "proteger", "maitriser", "rendre-compte", "sobriete", "connaitre"]
        assert {u.rule_id for e in charter.engagements for u in e.rules} == set(RULES)
        result = evaluate(s)
        judged = {r.rule.id: len(r.results) for r in result.rules}
        # Every register of the demo is read: each rule judges something.
        assert all(judged.values()), judged
        documented = [x for r in result.rules for x in r.results
                      if x.outcome == Outcome.DEVIATION]
        assert [x.item.split(":")[0] for x in documented] == ["contract"]
        states = {d.state(today) for d in deviations.listed(s)}
        assert states == {deviations.RUNNING, deviations.EXPIRED}
        statuses = {a.status(today) for a in actions.listed(s)}
        assert statuses == {actions.DONE, actions.IN_PROGRESS, actions.LATE}
        assert evaluations.last_run(s) is not None
        assert set(evaluations.trend(s)) == {e.code for e in charter.engagements}
