"""Accounts, passwords, memberships, web sessions and API tokens.

A web session lives in the database (`AccountSession`): the signed cookie holds only its
secret, so signing out, or changing a password, ends it for every server process at once.
"""

from __future__ import annotations

import hashlib
import re
import secrets
from datetime import timedelta

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from patrimoine.access.models import Account, AccountSession, ApiToken, Membership, Role
from patrimoine.core.clock import now
from patrimoine.core.errors import Conflict, Invalid, NotFound

_hasher = PasswordHasher()
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
TOKEN_PREFIX = "pat_"
MIN_PASSWORD_LENGTH = 10


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def check_password_strength(password: str) -> None:
    if len(password) < MIN_PASSWORD_LENGTH:
        raise Invalid(f"Le mot de passe doit compter au moins {MIN_PASSWORD_LENGTH} caractères.")


def create_account(
    session: Session,
    *,
    email: str,
    full_name: str,
    password: str,
    is_superadmin: bool = False,
) -> Account:
    email = email.strip().lower()
    if not _EMAIL.match(email):
        raise Invalid(f"Adresse électronique invalide : « {email} ».")
    check_password_strength(password)
    if session.scalar(select(Account.id).where(Account.email == email)) is not None:
        raise Conflict(f"Un compte existe déjà pour {email}.")
    account = Account(
        email=email,
        full_name=full_name.strip() or email,
        password_hash=hash_password(password),
        is_superadmin=is_superadmin,
    )
    session.add(account)
    session.flush()
    return account


def grant_role(
    session: Session,
    account: Account,
    *,
    organisation_id: int,
    role: Role,
    department_id: int | None = None,
) -> Membership:
    for m in account.memberships:
        if (m.organisation_id, m.role, m.department_id) == (organisation_id, role, department_id):
            return m
    membership = Membership(organisation_id=organisation_id, role=role, department_id=department_id)
    account.memberships.append(membership)
    session.flush()
    return membership


def authenticate(session: Session, email: str, password: str) -> Account | None:
    """The active account matching these credentials, or None. Same cost either way."""
    account = session.scalar(select(Account).where(Account.email == email.strip().lower()))
    if account is None or not account.is_active:
        _hasher.hash(password)  # keep timing similar for unknown emails
        return None
    try:
        _hasher.verify(account.password_hash, password)
    except (VerificationError, InvalidHashError):
        return None
    if _hasher.check_needs_rehash(account.password_hash):
        account.password_hash = hash_password(password)
    account.last_login_at = now()
    return account


def get_account(session: Session, account_id: int) -> Account:
    account = session.get(Account, account_id)
    if account is None or not account.is_active:
        raise NotFound("Compte introuvable.")
    return account


def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


# ------------------------------------------------------------------------- web sessions


def open_session(session: Session, account: Account, max_age_seconds: int) -> str:
    """Start a web session; return its secret (for the cookie, never stored)."""
    secret = secrets.token_urlsafe(32)
    at = now()
    # Sessions past their end are removed as new ones begin.
    session.execute(delete(AccountSession).where(AccountSession.expires_at <= at))
    session.add(AccountSession(account_id=account.id, secret_hash=_token_hash(secret),
                               created_at=at, expires_at=at + timedelta(seconds=max_age_seconds)))
    session.flush()
    return secret


def account_for_session(session: Session, secret: str) -> Account | None:
    """The active account of a web session still open, else None."""
    row = session.scalar(select(AccountSession).where(
        AccountSession.secret_hash == _token_hash(secret), AccountSession.expires_at > now()))
    if row is None:
        return None
    account = session.get(Account, row.account_id)
    return account if account is not None and account.is_active else None


def close_session(session: Session, secret: str) -> None:
    session.execute(delete(AccountSession)
                    .where(AccountSession.secret_hash == _token_hash(secret)))


def close_sessions(session: Session, account: Account, *, keep: str | None = None) -> int:
    """End every web session of the account but the one whose secret is `keep`; return how
    many were ended."""
    query = delete(AccountSession).where(AccountSession.account_id == account.id)
    if keep is not None:
        query = query.where(AccountSession.secret_hash != _token_hash(keep))
    return int(session.execute(query).rowcount or 0)  # type: ignore[attr-defined]


def list_sessions(session: Session, account: Account) -> list[AccountSession]:
    """The account's open web sessions, newest first."""
    return list(session.scalars(select(AccountSession).where(
        AccountSession.account_id == account.id, AccountSession.expires_at > now())
        .order_by(AccountSession.created_at.desc(), AccountSession.id.desc())))


def is_session(row: AccountSession, secret: str) -> bool:
    """Whether the row is the web session of this cookie secret."""
    return row.secret_hash == _token_hash(secret)


def end_session(session: Session, account: Account, session_id: int) -> None:
    """End one of the account's web sessions (a browser left signed in elsewhere)."""
    row = session.get(AccountSession, session_id)
    if row is None or row.account_id != account.id:
        raise NotFound("Session introuvable (déjà fermée ?).")
    session.delete(row)
    session.flush()


def set_password(session: Session, account: Account, password: str, *,
                 keep_session: str | None = None) -> int:
    """Give the account a new password and end its other web sessions (all of them without
    `keep_session`); return how many were ended. API tokens stay valid: they are separate
    credentials, each revoked on its own (see active_token_count)."""
    check_password_strength(password)
    account.password_hash = hash_password(password)
    return close_sessions(session, account, keep=keep_session)


def check_password(account: Account, password: str) -> bool:
    try:
        return bool(_hasher.verify(account.password_hash, password))
    except (VerificationError, InvalidHashError):
        return False


def active_token_count(session: Session, account: Account) -> int:
    return int(session.scalar(select(func.count()).select_from(ApiToken).where(
        ApiToken.account_id == account.id, ApiToken.revoked_at.is_(None))) or 0)


def create_api_token(session: Session, account: Account, name: str) -> tuple[ApiToken, str]:
    """Return the stored token row and the secret, which is shown once and never stored."""
    secret = TOKEN_PREFIX + secrets.token_urlsafe(32)
    token = ApiToken(
        account_id=account.id,
        name=name.strip() or "Jeton",
        prefix=secret[:12],
        token_hash=_token_hash(secret),
    )
    session.add(token)
    session.flush()
    return token, secret


def account_for_token(session: Session, secret: str) -> Account | None:
    if not secret.startswith(TOKEN_PREFIX):
        return None
    token = session.scalar(select(ApiToken).where(ApiToken.token_hash == _token_hash(secret)))
    if token is None or token.revoked_at is not None:
        return None
    account = session.get(Account, token.account_id)
    if account is None or not account.is_active:
        return None
    token.last_used_at = now()
    return account


def revoke_api_token(session: Session, account: Account, token_id: int) -> None:
    token = session.get(ApiToken, token_id)
    if token is None or token.account_id != account.id:
        raise NotFound("Jeton introuvable.")
    token.revoked_at = now()


def list_api_tokens(session: Session, account: Account) -> list[ApiToken]:
    return list(
        session.scalars(
            select(ApiToken).where(ApiToken.account_id == account.id).order_by(ApiToken.id)
        )
    )
