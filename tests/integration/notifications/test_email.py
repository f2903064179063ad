"""Notifications by e-mail through the instance's SMTP settings, handed to a real SMTP
server (aiosmtpd) listening locally: `patrimoine notifications envoyer`."""

from __future__ import annotations

from collections.abc import Iterator
from email.message import EmailMessage
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from patrimoine.core import mail
from patrimoine.core.db import Database
from patrimoine.core.errors import Invalid
from patrimoine.core.settings import Settings
from patrimoine.notifications import service as notifications
from patrimoine.notifications.models import Delivery, Kind
from tests import factories as f
from tests.conftest import Cli
from tests.support.smtp import Inbox, smtp_server

SENDER = "Patrimoine <donnees@ville.test>"


@pytest.fixture
def inbox() -> Iterator[Inbox]:
    with smtp_server() as box:
        yield box


@pytest.fixture
def settings(tmp_path: Path, database_url: str, inbox: Inbox) -> Settings:
    return Settings(data_dir=tmp_path / "data", database_url=database_url,
                    secret_key="test-secret-key", warm_layouts=False,
                    public_url="https://data.ville.fr", smtp_host="127.0.0.1",
                    smtp_port=inbox.port, smtp_tls="none", smtp_sender=SENDER)


def _smtp_env(settings: Settings) -> dict[str, str]:
    return {"PATRIMOINE_SMTP_HOST": "127.0.0.1", "PATRIMOINE_SMTP_PORT": str(settings.smtp_port),
            "PATRIMOINE_SMTP_TLS": "none", "PATRIMOINE_SMTP_SENDER": SENDER,
            "PATRIMOINE_PUBLIC_URL": "https://data.ville.fr"}


def _body(message: EmailMessage) -> str:
    return str(message.get_content())


def test_immediate_and_digest_mails_go_once(db: Database, settings: Settings, inbox: Inbox,
                                            cli: Cli) -> None:
    with db.unit_of_work() as s:
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
        cdo_id = cdo.id
    env = _smtp_env(settings)
    # Immediate: the breach, to the DPO only (the other account chose no e-mail).
    run = cli("notifications", "envoyer", env=env)
    assert run.returncode == 0, run.stderr
    assert "1 courriel(s) envoyé(s)." in run.stdout
    assert [m["To"] for m in inbox.messages] == ["dpo@ville.fr"]
    first = inbox.messages[0]
    assert first["From"] == SENDER
    assert first["Subject"] == "Patrimoine : Violation VIO-2026-01"
    assert "https://data.ville.fr/admin/protection/violations/1" in _body(first)
    assert "https://data.ville.fr/admin/notifications/preferences" in _body(first)
    # The daily digest: one message for the CDO's two requests.
    run = cli("notifications", "envoyer", "--resume-quotidien", env=env)
    assert "1 courriel(s) envoyé(s)." in run.stdout
    digest = inbox.messages[1]
    assert digest["To"] == "agd@ville.fr"
    assert digest["Subject"] == "Patrimoine : résumé du jour"
    assert "« Arbres »" in _body(digest) and "« Bancs »" in _body(digest)
    assert "sorte=all" in str(digest["List-Unsubscribe"])  # the digest stops whole
    # Nothing goes twice; the in-application notifications stay unread.
    for args in (("envoyer",), ("envoyer", "--resume-quotidien")):
        assert "0 courriel(s) envoyé(s)." in cli("notifications", *args, env=env).stdout
    assert len(inbox.messages) == 2
    with db.session() as s:
        assert notifications.unread_count(s, cdo_id) == 2


def test_without_smtp_settings_nothing_is_sent(db: Database, cli: Cli) -> None:
    run = cli("notifications", "envoyer")
    assert run.returncode != 0
    assert "Aucun serveur d'envoi de courriel n'est configuré" in run.stderr


def test_a_failed_delivery_leaves_the_notification_to_send(db: Database,
                                                           settings: Settings) -> None:
    """The SMTP server cannot be reached: the French error reaches the caller and nothing is
    marked sent."""
    with db.unit_of_work() as s:
        dpo = f.account(s, "dpo@ville.fr")
        notifications.notify(s, [dpo.id], Kind.BREACH, "Violation", "/admin/protection")
    unreachable = settings.model_copy(update={"smtp_port": 1})
    with db.unit_of_work() as s, pytest.raises(Invalid) as failed:
        notifications.send_emails(s, lambda m: mail.send_message(unreachable, m),
                                  digest=False, base_url="http://x", secret="k")
    assert "n'a pas pu être envoyé" in failed.value.message
    with db.session() as s:
        assert [n.emailed_at for n in notifications.list_notifications(s, dpo.id)] == [None]


def test_one_click_unsubscribe(db: Database, client: TestClient, settings: Settings,
                               inbox: Inbox) -> None:
    """The link stops that kind of e-mail without logging in, after a click (a GET changes
    nothing: mail scanners fetch links); an altered link is refused in French."""
    with db.unit_of_work() as s:
        dpo = f.account(s, "dpo@ville.fr")
        notifications.notify(s, [dpo.id], Kind.BREACH, "Violation", "/admin/protection")
        dpo_id = dpo.id
    with db.unit_of_work() as s:
        notifications.send_emails(s, lambda m: mail.send_message(settings, m), digest=False,
                                  base_url="http://testserver",
                                  secret=settings.resolved_secret_key())
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
