"""What every command shares: settings from the environment, services, output."""

from __future__ import annotations

import click
from rich.console import Console
from sqlalchemy.orm import Session

from patrimoine.bootstrap import Services, bootstrap
from patrimoine.core.errors import NotFound
from patrimoine.core.settings import Settings
from patrimoine.inventory.models import Organisation
from patrimoine.inventory.service import find_organisation

console = Console()
err_console = Console(stderr=True)


def services(*, check_schema: bool = True) -> Services:
    """Settings come from PATRIMOINE_* variables, the data folder from PATRIMOINE_DATA_DIR."""
    return bootstrap(Settings(), check_schema=check_schema)


def named_organisation(session: Session, name: str | None) -> Organisation | None:
    """The organisation an --organisation option names (its name or slug); None for none."""
    if not name:
        return None
    org = find_organisation(session, name)
    if org is None:
        raise NotFound(f"Organisation « {name} » introuvable.")
    return org


def organisation_id(session: Session, name: str | None) -> int | None:
    """named_organisation()'s id."""
    org = named_organisation(session, name)
    return org.id if org else None


def command_services() -> Services:
    """Services whose database connections are released when the command ends (the command
    may run in process, from tests or another command)."""
    svc = services()
    ctx = click.get_current_context(silent=True)
    if ctx is not None:
        ctx.call_on_close(svc.db.dispose)
    return svc
