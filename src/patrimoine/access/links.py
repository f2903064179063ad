"""One-time links that set an account's password: invitations and password resets.

The link carries a random secret; only its SHA-256 is stored (`AccountLink`). A link works
once, until it expires, and only while it is the account's newest: issuing another one ends
the older ones. Using it sets the password and ends the account's web sessions.
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import timedelta

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from patrimoine.access import audit
from patrimoine.access import service as accounts
from patrimoine.access.models import Account, AccountLink, LinkPurpose
from patrimoine.access.principal import Principal
from patrimoine.core import mail
from patrimoine.core.clock import now
from patrimoine.core.errors import Invalid
from patrimoine.core.settings import Settings

PATH = "/compte/lien/"
EXPIRED = ("Ce lien n'est plus valable : il a déjà servi, a expiré ou a été remplacé par un "
           "plus récent. Demandez-en un nouveau.")


def _hash(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def issue(session: Session, account: Account, purpose: LinkPurpose, *, hours: int,
          created_by: int | None = None) -> str:
    """Create a link for the account and return its secret (never stored); older unused
    links of the account stop working."""
    at = now()
    session.execute(update(AccountLink).where(
        AccountLink.account_id == account.id, AccountLink.used_at.is_(None)).values(used_at=at))
    secret = secrets.token_urlsafe(32)
    session.add(AccountLink(account_id=account.id, purpose=purpose, secret_hash=_hash(secret),
                            created_at=at, expires_at=at + timedelta(hours=hours),
                            created_by=created_by))
    session.flush()
    return secret


def url(public_url: str, secret: str) -> str:
    return public_url.rstrip("/") + PATH + secret


def find(session: Session, secret: str) -> AccountLink | None:
    """The link of this secret while it still works (unused, not expired, account active)."""
    link = session.scalar(select(AccountLink).where(AccountLink.secret_hash == _hash(secret)))
    if link is None or link.used_at is not None or link.expires_at <= now():
        return None
    account = session.get(Account, link.account_id)
    return link if account is not None and account.is_active else None


def redeem(session: Session, secret: str, password: str) -> Account:
    """Set the account's password through its link, which is then used up; Invalid when
    the link no longer works or the password is too weak."""
    link = find(session, secret)
    if link is None:
        raise Invalid(EXPIRED)
    accounts.check_password_strength(password)
    # Taken in one statement: of two simultaneous uses, one only finds the link unused.
    taken = session.execute(update(AccountLink).where(
        AccountLink.id == link.id, AccountLink.used_at.is_(None)).values(used_at=now()))
    if not taken.rowcount:  # type: ignore[attr-defined]
        raise Invalid(EXPIRED)
    account = session.get(Account, link.account_id)
    assert account is not None
    ended = accounts.set_password(session, account, password)
    action = ("account.invitation_accepted" if link.purpose == LinkPurpose.INVITATION
              else "account.password_reset")
    audit.record(session, Principal.of(account), action, f"account:{account.id}",
                 {"sessions_ended": ended})
    return account


def invitation_text(account: Account, link: str, hours: int, inviter: str) -> tuple[str, str]:
    """Subject and body of an invitation."""
    return ("Votre compte Patrimoine", f"""Bonjour {account.full_name},

{inviter} vous a créé un compte sur Patrimoine, l'inventaire et le portail des données
de votre collectivité. Pour choisir votre mot de passe, ouvrez ce lien :

{link}

Il sert une seule fois et expire dans {hours} heures. Votre identifiant est votre adresse
électronique : {account.email}.

Si vous n'attendiez pas ce message, ignorez-le : sans mot de passe choisi, le compte
reste inutilisable.
""")


def reset_text(account: Account, link: str, hours: int) -> tuple[str, str]:
    return ("Réinitialisation de votre mot de passe Patrimoine", f"""Bonjour {account.full_name},

Une demande de nouveau mot de passe a été faite pour votre compte Patrimoine
({account.email}). Pour le choisir, ouvrez ce lien :

{link}

Il sert une seule fois et expire dans {hours} heures. Vos autres sessions seront fermées.

Si vous n'avez rien demandé, ignorez ce message : votre mot de passe actuel reste valable.
""")


def send_reset(session: Session, settings: Settings, email: str) -> bool:
    """Mail a reset link if an active account has this address; return whether one was
    sent. The caller answers the same either way (no account enumeration)."""
    account = session.scalar(select(Account).where(Account.email == email.strip().lower()))
    if account is None or not account.is_active:
        return False
    secret = issue(session, account, LinkPurpose.RESET, hours=settings.account_link_hours)
    subject, body = reset_text(account, url(settings.public_url, secret),
                               settings.account_link_hours)
    mail.send(settings, [account.email], subject, body)
    audit.record(session, Principal.anonymous(), "account.reset_requested",
                 f"account:{account.id}")
    return True
