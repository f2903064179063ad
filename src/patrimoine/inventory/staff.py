"""The people of each organisation: invitations, roles per organisation and department,
deactivation (here, beside the organisations and departments they belong to; the rules stay
in access/permissions.py).

Every change is checked by access/permissions.py and written to the audit log. Nothing is
deleted: a deactivated account keeps its history (audit entries, changes it made) and may
be reactivated; a role removed is written down with who removed it.
"""

from __future__ import annotations

import secrets

from sqlalchemy import select
from sqlalchemy.orm import Session

from patrimoine.access import audit
from patrimoine.access import service as accounts
from patrimoine.access.models import ROLE_LABELS, Account, Membership, Role
from patrimoine.access.permissions import (
    account_admin_organisations,
    can_manage_account,
    can_manage_accounts_in,
    require,
)
from patrimoine.access.principal import Principal
from patrimoine.core.errors import Invalid, NotFound
from patrimoine.inventory.models import Department, Organisation


def visible_accounts(session: Session, principal: Principal) -> list[Account]:
    """The accounts the principal administers: every one for an instance administrator,
    else those holding a role in an organisation the principal administers."""
    scope = account_admin_organisations(principal)
    query = select(Account).order_by(Account.full_name, Account.id)
    if scope is not None:
        query = query.where(Account.id.in_(select(Membership.account_id).where(
            Membership.organisation_id.in_(scope))))
    return list(session.scalars(query))


def get_managed_account(session: Session, principal: Principal, account_id: int) -> Account:
    account = session.get(Account, account_id)
    if account is None or not can_manage_account(principal, Principal.of(account)):
        raise NotFound("Compte introuvable.")
    return account


def _placement(session: Session, principal: Principal, organisation_id: int,
               department_id: int | None) -> tuple[Organisation, Department | None]:
    org = session.get(Organisation, organisation_id)
    if org is None:
        raise Invalid("Choisissez une organisation.")
    require(can_manage_accounts_in(principal, org.id), principal,
            f"gérer les comptes de « {org.name} »")
    dep = None
    if department_id is not None:
        dep = session.get(Department, department_id)
        if dep is None or dep.organisation_id != org.id:
            raise Invalid(f"Cette direction n'appartient pas à « {org.name} ».")
    return org, dep


def invite(session: Session, principal: Principal, *, email: str, full_name: str,
           organisation_id: int, role: Role, department_id: int | None = None) -> Account:
    """Create an account holding one role; it has no usable password until its holder
    follows the invitation link (access/links.py)."""
    org, dep = _placement(session, principal, organisation_id, department_id)
    # A random password nobody knows: the account is used only once the link set one.
    account = accounts.create_account(session, email=email, full_name=full_name,
                                      password=secrets.token_urlsafe(32))
    accounts.grant_role(session, account, organisation_id=org.id, role=role,
                        department_id=dep.id if dep else None)
    audit.record(session, principal, "account.invite", f"account:{account.id}",
                 {"email": account.email, "organisation": org.name, "role": role.value,
                  "department": dep.name if dep else None}, organisation_id=org.id)
    return account


def add_role(session: Session, principal: Principal, account: Account, *,
             organisation_id: int, role: Role, department_id: int | None = None) -> Membership:
    org, dep = _placement(session, principal, organisation_id, department_id)
    if any((m.organisation_id, m.role, m.department_id)
           == (org.id, role, dep.id if dep else None) for m in account.memberships):
        raise Invalid(f"{account.full_name} a déjà ce rôle ({ROLE_LABELS[role]}) ici.")
    membership = accounts.grant_role(session, account, organisation_id=org.id, role=role,
                                     department_id=dep.id if dep else None)
    audit.record(session, principal, "account.role_granted", f"account:{account.id}",
                 {"organisation": org.name, "role": role.value,
                  "department": dep.name if dep else None}, organisation_id=org.id)
    return membership


def remove_role(session: Session, principal: Principal, account: Account,
                membership_id: int) -> None:
    membership = next((m for m in account.memberships if m.id == membership_id), None)
    if membership is None:
        raise NotFound("Ce rôle n'existe pas (ou plus).")
    org, dep = _placement(session, principal, membership.organisation_id,
                          membership.department_id)
    if account.id == principal.account_id and membership.role == Role.ADMINISTRATOR \
            and not principal.is_superadmin:
        raise Invalid("Vous ne pouvez pas retirer votre propre rôle d'administrateur : "
                      "demandez-le à un autre administrateur.")
    account.memberships.remove(membership)
    session.flush()
    audit.record(session, principal, "account.role_revoked", f"account:{account.id}",
                 {"organisation": org.name, "role": membership.role.value,
                  "department": dep.name if dep else None}, organisation_id=org.id)


def set_active(session: Session, principal: Principal, account: Account, active: bool) -> int:
    """Deactivate (its web sessions end at once; its tokens stop working since the account
    no longer authenticates) or reactivate an account; return how many sessions ended."""
    require(can_manage_account(principal, Principal.of(account)), principal,
            "modifier ce compte")
    if account.id == principal.account_id:
        raise Invalid("Vous ne pouvez pas désactiver votre propre compte.")
    if account.is_active == active:
        return 0
    account.is_active = active
    ended = 0 if active else accounts.close_sessions(session, account)
    audit.record(session, principal,
                 "account.reactivate" if active else "account.deactivate",
                 f"account:{account.id}", {"email": account.email, "sessions_ended": ended})
    return ended
