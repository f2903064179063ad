"""Notifications by e-mail, handed to a real SMTP server (aiosmtpd) listening locally."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from email import message_from_bytes, policy
from email.message import EmailMessage
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from fastapi.testclient import TestClient
from sqlalchemy import select

from patrimoine.access.models import Account
from patrimoine.core.db import Database
from patrimoine.notifications import service as notifications
from patrimoine.notifications.models import Delivery, Kind
from tests import factories as f

SENDER = "patrimoine@ville.fr"
SECRET = "test-secret-key"


class Inbox:
    def __init__(self) -> None:
        self.messages: list[EmailMessage] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802
        message = message_from_bytes(envelope.content, policy=policy.default)
        assert isinstance(message, EmailMessage)
        self.messages.append(message)
        return "250 Message accepted for delivery"


@pytest.fixture
def smtp() -> Iterator[tuple[Inbox, int]]:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    inbox = Inbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield inbox, port
    finally:
        controller.stop()


def _body(message: EmailMessage) -> str:
    return str(message.get_content())


def test_immediate_and_digest_mails_go_once(db: Database, smtp: tuple[Inbox, int]) -> None:
    inbox, port = smtp
    send = notifications.smtp_sender("127.0.0.1", port)
    with db.unit_of_work() as s:
        org = f.organisation(s)
        dpo = f.account(s, "dpo@ville.fr")
        cdo = f.account(s, "agd@ville.fr")
        quiet = f.account(s, "discret@ville.fr")
        notifications.set_preferences(s, quiet.id, {"breach": "none"})
        for who in (dpo, quiet):
            notifications.notify(s, [who.id], Kind.BREACH, "Violation VIO-2026-01",
                                 "/admin/protection/violations/1", "Avant le 10/12/2026.")
        for title in ("Publication demandée : « Arbres »", "Publication demandée : « Bancs »"):
            notifications.notify(s, [cdo.id], Kind.PUBLICATION_REQUESTED, title,
                                 "/admin/inventaire/arbres/publication/revue")
        assert org.id
    # Immediate: the breach, to the DPO only (the other account chose no e-mail).
    with db.unit_of_work() as s:
        assert notifications.send_emails(s, send, digest=False, base_url="https://data.ville.fr/",
                                         sender=SENDER, secret=SECRET) == 1
    assert [m["To"] for m in inbox.messages] == ["dpo@ville.fr"]
    first = inbox.messages[0]
    assert first["From"] == SENDER
    assert first["Subject"] == "Patrimoine : Violation VIO-2026-01"
    assert "https://data.ville.fr/admin/protection/violations/1" in _body(first)
    assert "https://data.ville.fr/admin/notifications/preferences" in _body(first)
    # The daily digest: one message for the CDO's two requests.
    with db.unit_of_work() as s:
        assert notifications.send_emails(s, send, digest=True, base_url="https://data.ville.fr",
                                         sender=SENDER, secret=SECRET) == 1
    digest = inbox.messages[1]
    assert digest["To"] == "agd@ville.fr"
    assert digest["Subject"] == "Patrimoine : résumé du jour"
    assert "« Arbres »" in _body(digest) and "« Bancs »" in _body(digest)
    assert "sorte=all" in str(digest["List-Unsubscribe"])  # the digest stops whole
    # Nothing goes twice; the in-application notifications stay unread.
    with db.unit_of_work() as s:
        for digest_run in (False, True):
            assert notifications.send_emails(s, send, digest=digest_run,
                                             base_url="https://data.ville.fr",
                                             sender=SENDER, secret=SECRET) == 0
        cdo_id = s.scalars(select(Account.id).where(Account.email == "agd@ville.fr")).one()
        assert notifications.unread_count(s, cdo_id) == 2
    assert len(inbox.messages) == 2


def test_a_failed_delivery_leaves_the_notification_to_send(db: Database) -> None:
    """The SMTP server refuses: the error reaches the caller and nothing is marked sent."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        closed_port = probe.getsockname()[1]
    with db.unit_of_work() as s:
        dpo = f.account(s, "dpo@ville.fr")
        notifications.notify(s, [dpo.id], Kind.BREACH, "Violation", "/admin/protection")
    with db.unit_of_work() as s, pytest.raises(OSError):
        notifications.send_emails(s, notifications.smtp_sender("127.0.0.1", closed_port),
                                  digest=False, base_url="http://x", sender=SENDER, secret=SECRET)
    with db.session() as s:
        assert [n.emailed_at for n in notifications.list_notifications(s, dpo.id)] == [None]


def test_one_click_unsubscribe(db: Database, client: TestClient,
                               smtp: tuple[Inbox, int]) -> None:
    """The link stops that kind of e-mail without logging in, after a click (a GET changes
    nothing: mail scanners fetch links); an altered link is refused in French."""
    inbox, port = smtp
    secret = client.app.state.services.settings.resolved_secret_key()  # type: ignore[attr-defined]
    with db.unit_of_work() as s:
        dpo = f.account(s, "dpo@ville.fr")
        notifications.notify(s, [dpo.id], Kind.BREACH, "Violation", "/admin/protection")
        dpo_id = dpo.id
    with db.unit_of_work() as s:
        notifications.send_emails(s, notifications.smtp_sender("127.0.0.1", port),
                                  digest=False, base_url="http://testserver", sender=SENDER,
                                  secret=secret)
    message = inbox.messages[0]
    link = str(message["List-Unsubscribe"]).strip("<>")
    assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert f"Ne plus recevoir ces courriels : {link}" in _body(message)
    path = link.removeprefix("http://testserver")
    page = client.get(path)
    assert page.status_code == 200 and "« Violation de données enregistrée »" in page.text
    with db.session() as s:
        assert notifications.preferences(s, dpo_id)[Kind.BREACH] == Delivery.IMMEDIATE
    # What a mail client does for RFC 8058's one-click: a POST, no session, no CSRF token.
    done = client.post(path, data={"List-Unsubscribe": "One-Click"})
    assert done.status_code == 200 and "C'est fait" in done.text
    with db.session() as s:
        chosen = notifications.preferences(s, dpo_id)
        assert chosen[Kind.BREACH] == Delivery.NONE
        assert chosen[Kind.PUBLICATION_REQUESTED] == Delivery.DIGEST  # the others stay
    altered = client.post(path.replace("sorte=breach", "sorte=publication_done"))
    assert altered.status_code == 422 and "lien de désabonnement" in altered.text
