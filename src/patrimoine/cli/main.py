"""The `patrimoine` command: one sub-command group per capability."""

from __future__ import annotations

import sys

import typer

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
    except typer.Exit as exc:
        sys.exit(exc.exit_code)
    except typer.Abort:
        err_console.print("Abandon.")
        sys.exit(1)
    except KeyboardInterrupt:
        err_console.print("Interrompu.")
        sys.exit(130)
