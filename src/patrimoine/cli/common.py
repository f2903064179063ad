"""What every command shares: settings from the environment, services, output."""

from __future__ import annotations

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
