"""patrimoine notifications …: send the notifications' e-mails (run by the operator's
scheduler: every few minutes for the immediate ones, once a day with --resume-quotidien)."""

from __future__ import annotations

from typing import Annotated

import typer

from patrimoine.cli.common import console, services
from patrimoine.core import mail
from patrimoine.core.errors import Invalid
from patrimoine.notifications import service as notifications

app = typer.Typer(help="Envoyer les courriels des notifications.", no_args_is_help=True)


@app.command("envoyer")
def send(
    digest: Annotated[bool, typer.Option(
        "--resume-quotidien",
        help="Envoyer le résumé quotidien (une fois par jour) au lieu des courriels "
             "immédiats.")] = False,
) -> None:
    """Envoyer par courriel les notifications dues, selon le choix de chacun (immédiat ou
    résumé quotidien) ; rien n'est envoyé deux fois."""
    svc = services()
    settings = svc.settings
    if not mail.configured(settings):
        raise Invalid("Aucun serveur d'envoi de courriel n'est configuré : renseignez "
                      "PATRIMOINE_SMTP_HOST et PATRIMOINE_SMTP_SENDER.")
    try:
        with svc.db.unit_of_work() as session:
            sent = notifications.send_emails(
                session, lambda message: mail.send_message(settings, message), digest=digest,
                base_url=settings.public_url, secret=settings.resolved_secret_key())
    finally:
        svc.db.dispose()
    console.print(f"{sent} courriel(s) envoyé(s).")
