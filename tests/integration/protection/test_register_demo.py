"""The demo's GDPR register: a few dozen activities across the organisations, DPIAs (some
required ones missing), requests (some overdue), breaches (one clock running)."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from patrimoine.access.models import Account, Role
from patrimoine.access.principal import Principal
from patrimoine.core.db import Database
from patrimoine.demo import loader
from patrimoine.protection import dashboard
from patrimoine.protection.register import service as register


@pytest.mark.demo
def test_demo_register(db: Database) -> None:
    assert any(label.startswith("Registre RGPD") for label, _ in loader.STEPS)
    with db.session() as s:
        everything = dashboard.dashboard(s, Principal.system("t"))
        total = everything["total"]
        assert 30 <= total["activities"] <= 60
        assert total["dpia_missing"] >= 2 and total["dpia_in_progress"] == 1
        assert total["dpia_required"] > total["dpia_missing"]
        assert total["requests_overdue"] == 3 and total["requests_open"] >= 5
        assert total["breaches_within_72h"] == 1 and total["persons_to_inform"] == 1
        assert len(everything["organisations"]) == 7
        # The mutualised DPO sees every register; the commune administrator only hers.
        dpo = s.scalar(select(Account).where(Account.email == "dpo@valdeloire.example"))
        assert dashboard.dashboard(s, Principal.of(dpo))["total"] == total
        mayor = Principal.of(s.scalar(select(Account).where(
            Account.email == "m.petit@belvoir-sur-loire.example")))
        assert all(m.role == Role.ADMINISTRATOR for m in
                   s.scalar(select(Account).where(Account.id == mayor.account_id)).memberships)
        own = register.list_activities(s, mayor)
        assert own and {a.organisation_id for a in own} == set(mayor.roles)
        linked = [a for a in register.list_activities(s, Principal.system("t"))
                  if a.linked_datasets]
        assert len(linked) >= 5
