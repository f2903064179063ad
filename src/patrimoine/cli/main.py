"""The `patrimoine` command: one sub-command group per capability."""

from __future__ import annotations

import re
import sys

import typer
from rich.text import Text

from patrimoine.cli import db, demo, inventory, organisation, serve, user
from patrimoine.cli import audit as audit_cli
from patrimoine.cli import datastore as datastore_cli
from patrimoine.cli import protection as protection_cli
from patrimoine.cli import retention as retention_cli
from patrimoine.cli import reversibility as reversibility_cli
from patrimoine.cli.common import err_console
from patrimoine.core.errors import PatrimoineError

app = typer.Typer(
    help="Patrimoine : inventaire, portail et protection des données d'une collectivité.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)
app.command("serve")(serve.serve)
app.add_typer(db.app, name="db")
app.add_typer(user.app, name="user")
app.add_typer(inventory.app, name="inventory")
app.add_typer(organisation.app, name="organisation")
app.add_typer(protection_cli.app, name="protection")
app.add_typer(datastore_cli.app, name="datastore")
app.add_typer(retention_cli.app, name="retention")
app.add_typer(audit_cli.app, name="audit")


app.command("demo")(demo.demo)
app.command("export")(reversibility_cli.export_command)
app.command("import-all")(reversibility_cli.import_all_command)


def main() -> None:
    """Entry point: domain errors become a French message and an exit code, never a trace."""
    try:
        code = app(standalone_mode=False)
        if isinstance(code, int) and code:
            sys.exit(code)
    except PatrimoineError as exc:
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
        err_console.print("Abandon.")
        sys.exit(1)
    except KeyboardInterrupt:
        err_console.print("Interrompu.")
        sys.exit(130)


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
    if type(exc).__name__ == "NoArgsIsHelpError":  # `no_args_is_help`: the help, as asked
        exc.show()  # type: ignore[attr-defined]
        sys.exit(code)
    message = exc.format_message() if hasattr(exc, "format_message") else str(exc)
    for pattern, french in _USAGE_MESSAGES:
        if pattern.fullmatch(message):
            message = pattern.sub(french, message)
            break
    err_console.print(Text.assemble(("Erreur :", "red"), " ", message), highlight=False)
    ctx = getattr(exc, "ctx", None)
    if ctx is not None:
        err_console.print(f"Aide : {ctx.command_path} --help", markup=False, highlight=False)
    sys.exit(code)
