"""The `patrimoine` command: one sub-command group per capability.

Each command's module is imported only when that command runs (or when help lists it), so
that a command starts without loading every capability (the models, the web app, …).
"""

from __future__ import annotations

import gc
import re
import sys
from collections.abc import Callable, Iterator, MutableMapping
from typing import Any

import typer
from rich.text import Text
from typer.core import TyperGroup
from typer.main import get_command_from_info, get_group_from_info
from typer.models import CommandInfo, TyperInfo

from patrimoine.cli import french
from patrimoine.core.errors import PatrimoineError

# Each command's loader imports its module when called (plain imports, so that the import
# graph and its contract see them). Listed in the order of `patrimoine --help`.


def _serve() -> Any:
    from patrimoine.cli.serve import serve
    return serve


def _demo() -> Any:
    from patrimoine.cli.demo import demo
    return demo


def _export() -> Any:
    from patrimoine.cli.reversibility import export_command
    return export_command


def _import_all() -> Any:
    from patrimoine.cli.reversibility import import_all_command
    return import_all_command


def _db() -> Any:
    from patrimoine.cli.db import app
    return app


def _user() -> Any:
    from patrimoine.cli.user import app
    return app


def _inventory() -> Any:
    from patrimoine.cli.inventory import app
    return app


def _organisation() -> Any:
    from patrimoine.cli.organisation import app
    return app


def _protection() -> Any:
    from patrimoine.cli.protection import app
    return app


def _datastore() -> Any:
    from patrimoine.cli.datastore import app
    return app


def _retention() -> Any:
    from patrimoine.cli.retention import app
    return app


def _algorithms() -> Any:
    from patrimoine.cli.algorithms import app
    return app


def _applications() -> Any:
    from patrimoine.cli.applications import app
    return app


def _contracts() -> Any:
    from patrimoine.cli.contracts import app
    return app


def _audit() -> Any:
    from patrimoine.cli.audit import app
    return app


def _forecast() -> Any:
    from patrimoine.cli.forecast import app
    return app


def _charter() -> Any:
    from patrimoine.cli.charter import app
    return app


def _notifications() -> Any:
    from patrimoine.cli.notifications import app
    return app


def _report() -> Any:
    from patrimoine.cli.report import app
    return app


COMMANDS: tuple[tuple[str, Callable[[], Any]], ...] = (
    ("serve", _serve),
    ("demo", _demo),
    ("export", _export),
    ("import-all", _import_all),
    ("db", _db),
    ("user", _user),
    ("inventory", _inventory),
    ("organisation", _organisation),
    ("protection", _protection),
    ("datastore", _datastore),
    ("retention", _retention),
    ("algorithms", _algorithms),
    ("applications", _applications),
    ("contracts", _contracts),
    ("audit", _audit),
    ("notifications", _notifications),
    ("forecast", _forecast),
    ("charter", _charter),
    ("report", _report),
)


class _LazyCommands(MutableMapping[str, Any]):
    """The group's commands by name; a command is built from its module on first access."""

    def __init__(self, group: LazyGroup, eager: MutableMapping[str, Any]) -> None:
        self._group = group
        self._targets = dict(COMMANDS)
        self._built: dict[str, Any] = dict(eager)
        self._order = [*self._targets, *(n for n in eager if n not in self._targets)]

    def __getitem__(self, name: str) -> Any:
        if name not in self._built:
            if name not in self._targets:
                raise KeyError(name)
            self._built[name] = self._group.build(name, self._targets[name])
        return self._built[name]

    def __setitem__(self, name: str, command: Any) -> None:
        if name not in self._order:
            self._order.append(name)
        self._built[name] = command

    def __delitem__(self, name: str) -> None:
        self._order.remove(name)
        self._targets.pop(name, None)
        self._built.pop(name, None)

    def __iter__(self) -> Iterator[str]:
        return iter(list(self._order))

    def __len__(self) -> int:
        return len(self._order)


class LazyGroup(TyperGroup):
    """The root group: knows every command's name, imports its module only when needed."""

    def __init__(self, **attrs: Any) -> None:
        super().__init__(**attrs)
        self.commands = _LazyCommands(self, self.commands)

    def list_commands(self, ctx: Any) -> list[str]:
        return list(self.commands)  # names only: listing must not import every module

    def build(self, name: str, load: Callable[[], Any]) -> Any:
        obj = load()
        global _collector_paused
        if _collector_paused:
            # Start-up is over: what the imports made lives as long as the process; the
            # collector, back for the command's own work, leaves it aside (see main).
            _collector_paused = False
            gc.freeze()
            gc.enable()
        short, markup = app.pretty_exceptions_short, app.rich_markup_mode
        if isinstance(obj, typer.Typer):  # as app.add_typer(obj, name=name) would
            return get_group_from_info(TyperInfo(obj, name=name),
                                       suggest_commands=app.suggest_commands,
                                       pretty_exceptions_short=short, rich_markup_mode=markup)
        return get_command_from_info(CommandInfo(name=name, callback=obj),
                                     pretty_exceptions_short=short, rich_markup_mode=markup)


french.install()
app = typer.Typer(
    cls=LazyGroup,
    help="Patrimoine : inventaire, portail et protection des données d'une collectivité.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,  # its options and messages exist in English only
)


@app.callback()
def _root() -> None:
    # Makes `app` a group whose commands LazyGroup provides.
    pass


_collector_paused = False


def main() -> None:
    """Entry point: domain errors become a French message and an exit code, never a trace."""
    # Importing a command's modules makes hundreds of thousands of objects that all live
    # until the process ends: looking for garbage among them is wasted (a twentieth of a
    # second), so the collector waits until the command's module is imported.
    global _collector_paused
    _collector_paused = True
    gc.disable()
    try:
        _run()
    finally:
        # The command is done: the interpreter's exit need not walk every object of every
        # loaded module again looking for cycles to collect (a sixth of a second).
        gc.freeze()


def _run() -> None:
    try:
        code = app(standalone_mode=False)
        if isinstance(code, int) and code:
            sys.exit(code)
    except PatrimoineError as exc:
        err_console = _err_console()
        err_console.print(f"[red]Erreur :[/red] {exc.message}")
        for line in exc.errors[:50]:
            err_console.print(f"  - {line}")
        if len(exc.errors) > 50:
            err_console.print(f"  … et {len(exc.errors) - 50} autres erreurs.")
        sys.exit(exc.exit_code)
    except _USAGE_ERRORS as exc:
        _usage_error(exc)
    except typer.Exit as exc:
        sys.exit(exc.exit_code)
    except typer.Abort:
        _err_console().print("Abandon.")
        sys.exit(1)
    except KeyboardInterrupt:
        _err_console().print("Interrompu.")
        sys.exit(130)


def _err_console() -> Any:
    from patrimoine.cli.common import err_console

    return err_console


def _usage_error_types() -> tuple[type[Exception], ...]:
    """The exceptions Typer's parser raises on a bad command line (its own, or Click's)."""
    types: list[type[Exception]] = []
    typer_exception = getattr(typer, "TyperException", None)
    if isinstance(typer_exception, type) and issubclass(typer_exception, Exception):
        types.append(typer_exception)
    try:
        import click
    except ImportError:  # pragma: no cover - recent Typer vendors Click
        pass
    else:
        types.append(click.ClickException)
    return tuple(types)


_USAGE_ERRORS = _usage_error_types()

# Typer's parser messages are English; the common ones are given in French, others as they are.
_USAGE_MESSAGES: tuple[tuple[re.Pattern[str], str], ...] = tuple(
    (re.compile(pattern, re.DOTALL), french) for pattern, french in (
        (r"No such command '(.+)'\. Did you mean (.+)\?",
         r"Commande inconnue : « \1 ». Vouliez-vous dire \2 ?"),
        (r"No such command '(.+)'\.", r"Commande inconnue : « \1 »."),
        (r"No such option: (\S+)(.*)", r"Option inconnue : \1.\2"),
        (r"Missing argument '(.+)'\.", r"Argument manquant : \1."),
        (r"Missing option '(.+)'\.", r"Option manquante : \1."),
        (r"Missing parameter: (.+)", r"Paramètre manquant : \1."),
        (r"Option '(.+)' requires an argument\.", r"L'option \1 attend une valeur."),
        (r"Option '(.+)' requires (\d+) arguments\.", r"L'option \1 attend \2 valeurs."),
        (r"Got unexpected extra argument\S* \((.+)\)", r"Argument(s) en trop : \1."),
        (r"Invalid value for (.+?): Input should be a valid integer.*",
         r"Valeur invalide pour \1 : un nombre entier est attendu."),
        (r"Invalid value for (.+?): Input should be a valid number.*",
         r"Valeur invalide pour \1 : un nombre est attendu."),
        (r"Invalid value for (.+?): Value error, (.+) is not one of (.+)\.",
         r"Valeur invalide pour \1 : \2 ; valeurs possibles : \3."),
        (r"Invalid value for (.+?): (.+)", r"Valeur invalide pour \1 : \2"),
        (r"Invalid value: (.+)", r"Valeur invalide : \1"),
    )
)


def _usage_error(exc: Exception) -> None:
    """A bad command line: the French message and where to find help, never a trace."""
    code = getattr(exc, "exit_code", 2)
    show = getattr(exc, "show", None)
    if type(exc).__name__ == "NoArgsIsHelpError" and show is not None:
        show()  # `no_args_is_help`: the help, as asked
        sys.exit(code)
    err_console = _err_console()
    message = exc.format_message() if hasattr(exc, "format_message") else str(exc)
    for pattern, in_french in _USAGE_MESSAGES:
        if pattern.fullmatch(message):
            message = pattern.sub(in_french, message)
            break
    err_console.print(Text.assemble(("Erreur :", "red"), " ", message), highlight=False)
    ctx = getattr(exc, "ctx", None)
    if ctx is not None:
        err_console.print(f"Aide : {ctx.command_path} --help", markup=False, highlight=False)
    sys.exit(code)
