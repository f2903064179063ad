"""What every command shares: settings from the environment, services, output."""

from __future__ import annotations

from rich.console import Console

from patrimoine.bootstrap import Services, bootstrap
from patrimoine.core.settings import Settings

console = Console()
err_console = Console(stderr=True)


def services(*, check_schema: bool = True) -> Services:
    """Settings come from PATRIMOINE_* variables, the data folder from PATRIMOINE_DATA_DIR."""
    return bootstrap(Settings(), check_schema=check_schema)
