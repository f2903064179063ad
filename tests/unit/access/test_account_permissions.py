"""Who manages which account (access/permissions.py): an instance administrator every one;
an organisation's administrator only the accounts whose roles are all in organisations
they administer, never an instance administrator's."""

from __future__ import annotations

from patrimoine.access.models import Role
from patrimoine.access.permissions import (
    account_admin_organisations,
    can_administer_accounts,
    can_manage_account,
    can_move_organisation,
)
from patrimoine.access.principal import Principal


def _p(account_id: int, roles: dict[int, set[Role]], superadmin: bool = False) -> Principal:
    return Principal(account_id=account_id, label=str(account_id), is_superadmin=superadmin,
                     roles={o: frozenset(r) for o, r in roles.items()})


ROOT = _p(1, {}, superadmin=True)
ADMIN_1 = _p(2, {1: {Role.ADMINISTRATOR}, 2: {Role.AGENT}})
CDO_1 = _p(3, {1: {Role.CHIEF_DATA_OFFICER}})
AGENT_1 = _p(4, {1: {Role.AGENT}})
AGENT_1_AND_2 = _p(5, {1: {Role.AGENT}, 2: {Role.AGENT}})
NO_ROLE = _p(6, {})


def test_an_instance_administrator_manages_every_account() -> None:
    assert all(can_manage_account(ROOT, t) for t in (ADMIN_1, AGENT_1_AND_2, NO_ROLE, ROOT))
    assert account_admin_organisations(ROOT) is None and can_move_organisation(ROOT)


def test_an_organisation_administrator_manages_its_own_accounts_only() -> None:
    assert account_admin_organisations(ADMIN_1) == [1]
    assert can_manage_account(ADMIN_1, AGENT_1) and can_manage_account(ADMIN_1, CDO_1)
    assert not can_manage_account(ADMIN_1, AGENT_1_AND_2)  # also elsewhere
    assert not can_manage_account(ADMIN_1, ROOT)
    assert not can_manage_account(ADMIN_1, NO_ROLE)
    assert not can_move_organisation(ADMIN_1)


def test_other_roles_manage_no_account() -> None:
    for p in (CDO_1, AGENT_1, NO_ROLE, Principal.anonymous()):
        assert not can_administer_accounts(p)
        assert not can_manage_account(p, AGENT_1)
