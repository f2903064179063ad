"""The `patrimoine` command: one sub-command group per capability."""

from __future__ import annotations

import sys

import typer

from patrimoine.cli import db, inventory, organisation, serve, user
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


@app.command("demo")
def demo() -> None:
    """Load the demo territory (a fictional métropole) into an empty store."""
    from patrimoine.cli.common import console, services
    from patrimoine.demo.territory import load_demo

    svc = services()
    with svc.db.unit_of_work() as session:
        credentials = load_demo(session)
    console.print("Territoire de démonstration chargé. Comptes (mot de passe affiché une fois) :")
    for email, role, password in credentials:
        console.print(f"  {email:42} {role:38} {password}")


def main() -> None:
    """Entry point: domain errors become a French message and an exit code, never a trace."""
    try:
        app(standalone_mode=False)
    except PatrimoineError as exc:
        err_console.print(f"[red]Erreur :[/red] {exc.message}")
        for line in exc.errors[:50]:
            err_console.print(f"  - {line}")
        if len(exc.errors) > 50:
            err_console.print(f"  … et {len(exc.errors) - 50} autres erreurs.")
        sys.exit(exc.exit_code)
    except typer.Exit as exc:
        sys.exit(exc.exit_code)
    except typer.Abort:
        err_console.print("Abandon.")
        sys.exit(1)
    except KeyboardInterrupt:
        err_console.print("Interrompu.")
        sys.exit(130)
