"""Notifications: written by the workflows (a breach, a publication requested or refused),
read in the back-office, and sent by e-mail as each person chose per kind (immediately, in a
daily digest, or not at all).

E-mail delivery is `send_emails(session, send, digest=...)`: `send` delivers one message
(`core.mail.send_message` through the instance's SMTP server: `patrimoine notifications
envoyer`); the notifications it carried are marked, so a second run sends nothing twice.
Every message carries a one-click unsubscribe link (and the List-Unsubscribe headers,
RFC 8058) signed with the instance's secret key: it stops that kind of e-mail (every kind
for the digest) without logging in.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Callable, Collection, Iterable
from email.message import EmailMessage
from urllib.parse import urlencode

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from patrimoine.access.models import Account, Membership, Role
from patrimoine.core.clock import now
from patrimoine.core.errors import Invalid
from patrimoine.notifications.models import (
    KIND_LABELS,
    Delivery,
    Kind,
    Notification,
    NotificationPreference,
    default_delivery,
)

LIST_LIMIT = 200

Sender = Callable[[EmailMessage], None]


def notify(session: Session, account_ids: Iterable[int], kind: Kind, title: str, link: str,
           body: str = "", *, skip: int | None = None) -> list[Notification]:
    """One notification per account (active ones; `skip` is the author, told nothing)."""
    wanted = sorted({a for a in account_ids if a != skip})
    if not wanted:
        return []
    active = session.scalars(select(Account.id).where(Account.id.in_(wanted),
                                                      Account.is_active.is_(True))).all()
    made = [Notification(account_id=a, kind=kind.value, title=title[:500], body=body,
                         link=link) for a in active]
    session.add_all(made)
    session.flush()
    return made


def holders(session: Session, organisation_id: int, roles: Collection[Role]) -> list[int]:
    """The accounts holding one of `roles` in the organisation."""
    return sorted(set(session.scalars(select(Membership.account_id).where(
        Membership.organisation_id == organisation_id, Membership.role.in_(list(roles))))))


def notify_roles(session: Session, organisation_id: int, roles: Collection[Role], kind: Kind,
                 title: str, link: str, body: str = "", *, skip: int | None = None
                 ) -> list[Notification]:
    return notify(session, holders(session, organisation_id, roles), kind, title, link, body,
                  skip=skip)


def unread_count(session: Session, account_id: int) -> int:
    return session.scalar(select(func.count()).select_from(Notification).where(
        Notification.account_id == account_id, Notification.read_at.is_(None))) or 0


def list_notifications(session: Session, account_id: int, *, unread_only: bool = False
                       ) -> list[Notification]:
    query = select(Notification).where(Notification.account_id == account_id)
    if unread_only:
        query = query.where(Notification.read_at.is_(None))
    return list(session.scalars(query.order_by(Notification.created_at.desc(),
                                               Notification.id.desc()).limit(LIST_LIMIT)))


def mark_read(session: Session, account_id: int, ids: Collection[int] | None = None) -> int:
    """Mark the account's notifications read (all of them when `ids` is None)."""
    query = update(Notification).where(Notification.account_id == account_id,
                                       Notification.read_at.is_(None))
    if ids is not None:
        query = query.where(Notification.id.in_(sorted(ids)))
    done = session.execute(query.values(read_at=now()), execution_options={
        "synchronize_session": False})
    return int(getattr(done, "rowcount", 0) or 0)


def get_notification(session: Session, account_id: int, notification_id: int
                     ) -> Notification | None:
    found = session.get(Notification, notification_id)
    return found if found is not None and found.account_id == account_id else None


def preferences(session: Session, account_id: int) -> dict[Kind, Delivery]:
    """The account's e-mail choice for every kind (the default where none was made)."""
    chosen = {p.kind: p.delivery for p in session.scalars(
        select(NotificationPreference).where(NotificationPreference.account_id == account_id))}
    return {k: Delivery(chosen[k.value]) if k.value in chosen else default_delivery(k)
            for k in Kind}


def set_preferences(session: Session, account_id: int, chosen: dict[str, str]) -> None:
    """Record the choices posted as {kind: delivery}; unknown values are refused whole."""
    try:
        wanted = {Kind(k): Delivery(v) for k, v in chosen.items()}
    except ValueError as exc:
        raise Invalid("Choix de notification inconnu : rechargez la page.") from exc
    held = {p.kind: p for p in session.scalars(
        select(NotificationPreference).where(NotificationPreference.account_id == account_id))}
    for kind, delivery in wanted.items():
        if kind.value in held:
            held[kind.value].delivery = delivery.value
        else:
            session.add(NotificationPreference(account_id=account_id, kind=kind.value,
                                               delivery=delivery.value))
    session.flush()


# ------------------------------------------------------------------ e-mail

ALL_KINDS = "all"


def unsubscribe_key(secret: str, account_id: int, scope: str) -> str:
    """The signature of an unsubscribe link: `scope` is a kind, or ALL_KINDS."""
    return hmac.new(secret.encode(), f"unsubscribe:{account_id}:{scope}".encode(),
                    hashlib.sha256).hexdigest()[:32]


def unsubscribe_link(base_url: str, secret: str, account_id: int, scope: str) -> str:
    return (f"{base_url.rstrip('/')}/notifications/desabonnement?"
            + urlencode({"compte": account_id, "sorte": scope,
                         "cle": unsubscribe_key(secret, account_id, scope)}))


def unsubscribe(session: Session, secret: str, account_id: int, scope: str,
                key: str) -> Kind | None:
    """Stop the e-mails of `scope` for the account, if the link's key is right (Invalid
    otherwise); returns the kind stopped, None for all of them."""
    expected = unsubscribe_key(secret, account_id, scope)
    if not hmac.compare_digest(expected, key) or session.get(Account, account_id) is None:
        raise Invalid("Ce lien de désabonnement est incomplet ou altéré : choisissez vos "
                      "courriels depuis la page Notifications de votre compte.")
    kinds = list(Kind) if scope == ALL_KINDS else [Kind(scope)]
    set_preferences(session, account_id, {k.value: Delivery.NONE.value for k in kinds})
    return None if scope == ALL_KINDS else kinds[0]


def _message(account: Account, subject: str, lines: list[str],
             unsubscribe_url: str) -> EmailMessage:
    message = EmailMessage()
    message["To"] = account.email
    message["Subject"] = subject
    message["List-Unsubscribe"] = f"<{unsubscribe_url}>"
    message["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"
    message.set_content("\n".join([*lines, "", "Ne plus recevoir ces courriels : "
                                    + unsubscribe_url]))
    return message


def send_emails(session: Session, send: Sender, *, digest: bool, base_url: str,
                secret: str) -> int:
    """Send by e-mail the notifications not yet sent whose kind the account wants that way
    (immediate ones one by one, or the daily digest: one message per account); return the
    number of messages sent. The preferences page is linked in every message, to stop them."""
    wanted = Delivery.DIGEST if digest else Delivery.IMMEDIATE
    pending = session.scalars(select(Notification).where(Notification.emailed_at.is_(None))
                              .order_by(Notification.account_id, Notification.id)).all()
    by_account: dict[int, list[Notification]] = {}
    choices: dict[int, dict[Kind, Delivery]] = {}
    for note in pending:
        if note.account_id not in choices:
            choices[note.account_id] = preferences(session, note.account_id)
        if choices[note.account_id].get(Kind(note.kind)) == wanted:
            by_account.setdefault(note.account_id, []).append(note)
    base = base_url.rstrip("/")
    footer = ["", "Choisir les courriels reçus (ou ne plus en recevoir) : "
              f"{base}/admin/notifications/preferences"]
    sent = 0
    for account_id, notes in by_account.items():
        account = session.get(Account, account_id)
        if account is None or not account.is_active:
            continue
        if digest:
            lines = [f"{len(notes)} notification(s) dans Patrimoine :", ""]
            lines += [f"- {n.title}\n  {base}{n.link}" for n in notes]
            messages = [(_message(account, "Patrimoine : résumé du jour",
                                  lines + footer,
                                  unsubscribe_link(base, secret, account_id, ALL_KINDS)),
                         notes)]
        else:
            messages = [(_message(account, f"Patrimoine : {n.title}",
                                  [KIND_LABELS[Kind(n.kind)], "", n.title, n.body,
                                   f"{base}{n.link}", *footer],
                                  unsubscribe_link(base, secret, account_id, n.kind)), [n])
                        for n in notes]
        for message, carried in messages:
            send(message)
            at = now()
            for n in carried:
                n.emailed_at = at
            session.flush()
            sent += 1
    return sent
