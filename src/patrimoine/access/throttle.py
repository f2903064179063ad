"""Login throttling: after repeated failures within a window, logins are refused for a while,
per account name and per source address.

Failures are rows of the database (`LoginFailure`), so every server process counts the same
ones. The account name is counted as typed, whether an account has it or not, and the refusal
says the same thing either way: the answer never tells whether an account exists. Each lock
(the failure that reaches a limit) is written to the audit log.

Requests for a password-reset link are limited the same way (`reset_blocked`,
`record_reset`), so that nobody floods an inbox or probes addresses through them.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from patrimoine.access import audit
from patrimoine.access.models import LoginFailure
from patrimoine.access.principal import Principal
from patrimoine.core.clock import now
from patrimoine.core.settings import Settings

ACCOUNT, ADDRESS = "account", "address"
# Requests for a password-reset link, counted as failures are, apart from them.
RESET_ACCOUNT, RESET_ADDRESS = "reset_account", "reset_address"


@dataclass(frozen=True)
class Limits:
    per_account: int
    per_address: int
    window_seconds: int

    @classmethod
    def of(cls, settings: Settings) -> Limits:
        return cls(settings.login_failures_per_account, settings.login_failures_per_address,
                   settings.login_failure_window_seconds)

    @property
    def minutes(self) -> int:
        return max(1, -(-self.window_seconds // 60))


def _key(email: str) -> str:
    return email.strip().lower()[:254]


def _failures(session: Session, kind: str, key: str, limits: Limits) -> int:
    since = now() - timedelta(seconds=limits.window_seconds)
    return int(session.scalar(select(func.count()).select_from(LoginFailure).where(
        LoginFailure.kind == kind, LoginFailure.key == key, LoginFailure.at > since)) or 0)


def blocked(session: Session, limits: Limits, email: str, address: str | None) -> bool:
    """Whether logins with this account name, or from this address, are refused now."""
    if _failures(session, ACCOUNT, _key(email), limits) >= limits.per_account:
        return True
    return address is not None and \
        _failures(session, ADDRESS, address, limits) >= limits.per_address


def record_failure(session: Session, limits: Limits, email: str, address: str | None) -> None:
    """Count a failed login; write down in the audit log each limit it reaches."""
    at = now()
    session.execute(delete(LoginFailure).where(
        LoginFailure.at <= at - timedelta(seconds=limits.window_seconds)))
    counted = [(ACCOUNT, _key(email), limits.per_account)]
    if address is not None:
        counted.append((ADDRESS, address, limits.per_address))
    for kind, key, _ in counted:
        session.add(LoginFailure(kind=kind, key=key, at=at))
    session.flush()
    for kind, key, limit in counted:
        if _failures(session, kind, key, limits) == limit:
            target = f"login:{key}" if kind == ACCOUNT else f"address:{key}"
            audit.record(session, Principal.anonymous(), "account.login_locked", target,
                         {"kind": kind, "failures": limit, "minutes": limits.minutes})


def clear(session: Session, email: str) -> None:
    """Forget an account name's failures (after a successful login). The address keeps its
    own: one good password must not open the way to guessing others' from there."""
    session.execute(delete(LoginFailure).where(LoginFailure.kind == ACCOUNT,
                                               LoginFailure.key == _key(email)))


def message(limits: Limits) -> str:
    return ("Trop de tentatives de connexion ont échoué. Par sécurité, la connexion est "
            f"suspendue pendant {limits.minutes} minutes : réessayez plus tard. Si vous avez "
            "oublié votre mot de passe, demandez à l'administrateur de le réinitialiser.")


def reset_blocked(session: Session, limits: Limits, email: str, address: str | None) -> bool:
    """Whether reset links for this address, or asked from this client address, are
    refused now (the same limits as logins)."""
    if _failures(session, RESET_ACCOUNT, _key(email), limits) >= limits.per_account:
        return True
    return address is not None and \
        _failures(session, RESET_ADDRESS, address, limits) >= limits.per_address


def record_reset(session: Session, limits: Limits, email: str, address: str | None) -> None:
    """Count a request for a reset link, whether an account has the address or not."""
    at = now()
    session.execute(delete(LoginFailure).where(
        LoginFailure.at <= at - timedelta(seconds=limits.window_seconds)))
    session.add(LoginFailure(kind=RESET_ACCOUNT, key=_key(email), at=at))
    if address is not None:
        session.add(LoginFailure(kind=RESET_ADDRESS, key=address, at=at))
    session.flush()


def reset_message(limits: Limits) -> str:
    return ("Trop de demandes de réinitialisation : réessayez dans "
            f"{limits.minutes} minutes.")
