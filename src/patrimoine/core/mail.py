"""Sending e-mail through the SMTP server the settings name (standard library smtplib).

Only plain-text messages are sent: an invitation, a password reset, a request to an
administrator. `configured` tells whether a server is set; without one the callers offer
another way (a link an administrator hands over).
"""

from __future__ import annotations

import smtplib
import ssl
from email.message import EmailMessage
from email.utils import make_msgid

from patrimoine.core.errors import Invalid
from patrimoine.core.settings import Settings

TIMEOUT_SECONDS = 20


def configured(settings: Settings) -> bool:
    return bool(settings.smtp_host and settings.smtp_sender)


def send(settings: Settings, to: list[str], subject: str, body: str) -> None:
    """Send one message; Invalid, with a French message, when the server cannot be reached
    or refuses it (the caller keeps or undoes its own changes)."""
    message = EmailMessage()
    message["To"] = ", ".join(to)
    message["Subject"] = subject
    message.set_content(body)
    send_message(settings, message)


def send_message(settings: Settings, message: EmailMessage) -> None:
    """Send a message already written (its From and Message-ID are the settings'); the
    errors of `send`."""
    if not configured(settings):
        raise Invalid("Aucun serveur d'envoi de courriel n'est configuré.")
    del message["From"], message["Message-ID"]
    message["From"] = settings.smtp_sender
    message["Message-ID"] = make_msgid(domain=settings.smtp_sender.rpartition("@")[2]
                                       .strip("> ") or None)
    try:
        smtp: smtplib.SMTP
        if settings.smtp_tls == "tls":
            smtp = smtplib.SMTP_SSL(settings.smtp_host, settings.smtp_port,
                                    timeout=TIMEOUT_SECONDS,
                                    context=ssl.create_default_context())
        else:
            smtp = smtplib.SMTP(settings.smtp_host, settings.smtp_port, timeout=TIMEOUT_SECONDS)
        with smtp:
            if settings.smtp_tls == "starttls":
                smtp.starttls(context=ssl.create_default_context())
            if settings.smtp_user:
                smtp.login(settings.smtp_user, settings.smtp_password)
            smtp.send_message(message)
    except (OSError, smtplib.SMTPException) as exc:
        raise Invalid("Le courriel n'a pas pu être envoyé (serveur d'envoi injoignable ou "
                      f"refus : {exc}). Réessayez plus tard ou prévenez l'exploitant.") from exc
