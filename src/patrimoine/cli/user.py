"""patrimoine user …: accounts."""

from __future__ import annotations

from typing import Annotated

import typer

from patrimoine.access import audit
from patrimoine.access import service as accounts
from patrimoine.access.models import Role
from patrimoine.access.principal import Principal
from patrimoine.cli.common import console, services
from patrimoine.core.errors import NotFound
from patrimoine.inventory import service as inventory

app = typer.Typer(help="Gérer les comptes.", no_args_is_help=True)


@app.command("create")
def create(
    email: Annotated[str, typer.Option(prompt="Adresse électronique",
                                       help="Adresse électronique de connexion.")],
    full_name: Annotated[str, typer.Option("--name", prompt="Nom complet", help="Nom complet.")],
    password: Annotated[
        str,
        typer.Option(prompt="Mot de passe", hide_input=True, confirmation_prompt=True,
                     envvar="PATRIMOINE_NEW_PASSWORD", help="Au moins 10 caractères."),
    ],
    admin: Annotated[bool, typer.Option(
        help="Administrateur de l'instance (toutes les organisations).")] = True,
    organisation: Annotated[
        str | None, typer.Option(help="Organisation (nom ou identifiant) où attribuer un rôle.")
    ] = None,
    role: Annotated[Role | None, typer.Option(help="Rôle dans cette organisation.")] = None,
) -> None:
    """Créer un compte ; par défaut, l'administrateur de l'instance."""
    svc = services()
    with svc.db.unit_of_work() as session:
        account = accounts.create_account(
            session, email=email, full_name=full_name, password=password, is_superadmin=admin
        )
        if organisation:
            org = inventory.find_organisation(session, organisation)
            if org is None:
                raise NotFound(f"Organisation « {organisation} » introuvable.")
            accounts.grant_role(session, account, organisation_id=org.id,
                                role=role or Role.AGENT)
        audit.record(session, Principal.system("ligne de commande"), "account.create",
                     f"account:{account.id}", {"email": account.email, "superadmin": admin})
    kind = "administrateur de l'instance" if admin else "compte"
    console.print(f"Compte créé ({kind}) : {account.email}")


@app.command("set-password")
def set_password(
    email: Annotated[str, typer.Argument(help="Adresse électronique du compte.")],
    password: Annotated[
        str,
        typer.Option(prompt="Nouveau mot de passe", hide_input=True, confirmation_prompt=True,
                     envvar="PATRIMOINE_NEW_PASSWORD", help="Au moins 10 caractères."),
    ],
) -> None:
    """Définir un nouveau mot de passe (oublié, ou compte restauré par « import-all »)."""
    from sqlalchemy import select

    from patrimoine.access.models import Account

    accounts.check_password_strength(password)
    svc = services()
    with svc.db.unit_of_work() as session:
        account = session.scalar(select(Account).where(Account.email == email.strip().lower()))
        if account is None:
            raise NotFound(f"Aucun compte pour l'adresse « {email} ».")
        ended = accounts.set_password(session, account, password)
        tokens = accounts.active_token_count(session, account)
        audit.record(session, Principal.system("ligne de commande"), "account.set_password",
                     f"account:{account.id}", {"email": account.email, "sessions_ended": ended})
    svc.db.dispose()
    console.print(f"Mot de passe défini pour {account.email}. Sessions web fermées : {ended}.")
    if tokens:
        console.print(f"Ses jetons d'API ({tokens}) restent valides : le titulaire les révoque "
                      "depuis « Mon compte » (/admin/compte) s'ils ont pu être exposés.")
