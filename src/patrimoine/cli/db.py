"""patrimoine db …: the database schema."""

from __future__ import annotations

import typer

from patrimoine.cli.common import console, services
from patrimoine.storage import migrate

app = typer.Typer(help="Gérer le schéma de la base de données.", no_args_is_help=True)


@app.command("upgrade")
def upgrade() -> None:
    """Appliquer les migrations en attente (crée la base au premier lancement)."""
    svc = services(check_schema=False)
    before = migrate.current_revisions(svc.db)
    migrate.upgrade(svc.db)
    after = migrate.current_revisions(svc.db)
    if before == after:
        console.print(f"Schéma déjà à jour (révision {migrate.describe(after)}).")
    else:
        console.print(
            f"Schéma mis à jour : {migrate.describe(before)} → {migrate.describe(after)}."
        )


@app.command("status")
def status() -> None:
    """Afficher la révision du schéma et celle qu'attend cette version de Patrimoine."""
    svc = services(check_schema=False)
    current, heads = migrate.current_revisions(svc.db), migrate.head_revisions(svc.db)
    console.print(
        f"Révision de la base : {migrate.describe(current)} ; attendue : {migrate.describe(heads)}."
    )
    if current != heads:
        raise typer.Exit(6)
