"""Typer's own words in French, so that the command line speaks its users' language.

Typer reads its panel titles and notes from module constants when it shows a help page, and
writes the help option's text where it creates that option. Both are Typer internals: if a
release renames them, help pages fall back to English words rather than failing.
"""

from __future__ import annotations

from typing import Any

from typer import rich_utils

WORDS = {
    "ARGUMENTS_PANEL_TITLE": "Arguments",
    "OPTIONS_PANEL_TITLE": "Options",
    "COMMANDS_PANEL_TITLE": "Commandes",
    "ERRORS_PANEL_TITLE": "Erreur",
    "ABORTED_TEXT": "Abandon.",
    "REQUIRED_LONG_STRING": "[obligatoire]",
    "DEFAULT_STRING": "[par défaut : {}]",
    "ENVVAR_STRING": "[variable d'environnement : {}]",
    "DEPRECATED_STRING": "(obsolète) ",
    "RICH_HELP": "Essayez [blue]'{command_path} {help_option}'[/] pour obtenir de l'aide.",
}
HELP_OPTION_TEXT = "Afficher cette aide et quitter."


def install() -> None:
    for name, text in WORDS.items():
        if hasattr(rich_utils, name):
            setattr(rich_utils, name, text)
    try:
        from typer._click.core import Command
    except ImportError:
        return
    original = Command.get_help_option
    if getattr(original, "french", False):
        return

    def get_help_option(self: Any, ctx: Any) -> Any:
        option = original(self, ctx)
        if option is not None:
            option.help = HELP_OPTION_TEXT
        return option

    # A patch of Typer's Click: a mark on the function, then the method replaced.
    get_help_option.french = True  # type: ignore[attr-defined]
    Command.get_help_option = get_help_option  # type: ignore[method-assign]
