"""patrimoine demo: load the demo territory into an empty store."""

from __future__ import annotations

import time
from typing import Annotated

import typer
from rich.progress import BarColumn, Progress, SpinnerColumn, TextColumn, TimeElapsedColumn
from rich.table import Table

from patrimoine.cli.common import console, services
from patrimoine.core.errors import PatrimoineError


def demo(
    if_empty: Annotated[
        bool,
        typer.Option("--if-empty",
                     help="Ne charger que si la base n'a encore aucune organisation ; sinon ne "
                          "rien faire (c'est ce qu'utilise `make run`)."),
    ] = False,
    password: Annotated[
        str | None,
        typer.Option(envvar="PATRIMOINE_DEMO_PASSWORD", show_envvar=True,
                     help="Donner ce mot de passe (10 caractères au moins) à tous les comptes de "
                          "démonstration au lieu de mots de passe aléatoires."),
    ] = None,
) -> None:
    """Charger le territoire de démonstration.

    Une métropole fictive, sa ville-centre, son CCAS et ses communes membres, leurs
    directions, un compte par rôle et plusieurs centaines de jeux de données inventoriés.

    Les mots de passe des comptes sont affichés une seule fois, ici ; seule leur empreinte
    est conservée.
    """
    from patrimoine.demo.loader import is_empty, load_demo

    svc = services()
    with svc.db.session() as session:
        empty = is_empty(session)
    if not empty:
        if if_empty:
            console.print("Des organisations existent déjà : le territoire de démonstration "
                          "n'est pas chargé.")
            return
        # A plain PatrimoineError: main() prints it in French and exits with status 1.
        raise PatrimoineError("la base contient déjà des organisations ; le territoire de "
                              "démonstration ne se charge que dans une base vide (avec "
                              "--if-empty, la commande ne fait alors rien).")

    started = time.perf_counter()
    with Progress(SpinnerColumn(), TextColumn("{task.description}"), BarColumn(),
                  TextColumn("{task.completed}/{task.total}"), TimeElapsedColumn(),
                  console=console, transient=True) as progress:
        task = progress.add_task("Territoire de démonstration", total=None)

        def on_step(index: int, total: int, label: str) -> None:
            progress.update(task, description=label, completed=index, total=total)

        with svc.db.unit_of_work() as session:
            credentials = load_demo(session, password=password, settings=svc.settings,
                                    on_step=on_step)
    elapsed = time.perf_counter() - started

    with svc.db.session() as session:
        from sqlalchemy import func, select

        from patrimoine.inventory.models import Dataset, Organisation

        organisations = session.scalar(select(func.count(Organisation.id)))
        datasets = session.scalar(select(func.count(Dataset.id)))
    console.print(f"Territoire de démonstration chargé en {elapsed:.1f} s : "
                  f"{organisations} organisations, {datasets} jeux de données inventoriés.")
    # A narrow terminal (or a log) gets one account per line block rather than a table
    # whose cells wrap word by word.
    title = "Comptes de démonstration (mots de passe affichés une seule fois)"
    if console.width < 140:
        console.print(title)
        for email, label, secret in credentials:
            console.print(f"  {email}  —  mot de passe : {secret}\n      {label}", soft_wrap=True)
        return
    table = Table(title=title, title_justify="left")
    table.add_column("Adresse électronique", no_wrap=True)
    table.add_column("Rôle")
    table.add_column("Périmètre")
    table.add_column("Mot de passe", no_wrap=True)
    for email, label, secret in credentials:
        role, _, scope = label.partition(" — ")
        table.add_row(email, role, scope, secret)
    console.print(table)
