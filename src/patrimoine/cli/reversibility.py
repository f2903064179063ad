"""patrimoine export DIR / patrimoine import-all DIR: the reversibility clause."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Annotated

import typer
from rich.progress import (
    BarColumn,
    DownloadColumn,
    MofNCompleteColumn,
    Progress,
    ProgressColumn,
    Task,
    TaskID,
    TextColumn,
    TimeElapsedColumn,
)
from rich.text import Text

from patrimoine.access import audit
from patrimoine.access.principal import Principal
from patrimoine.bootstrap import Services
from patrimoine.cli.common import console, services


class RichProgress:
    """One Rich bar per step of the export or import."""

    def __init__(self, progress: Progress) -> None:
        self.progress = progress
        self.task: TaskID | None = None
        self.total: int | None = None

    def start(self, label: str, total: int | None, *, in_bytes: bool = False) -> None:
        if self.task is not None and self.total is not None:
            self.progress.update(self.task, completed=self.total)  # steps end full
        self.task = self.progress.add_task(label, total=total, in_bytes=in_bytes)
        self.total = total

    def advance(self, amount: int = 1) -> None:
        if self.task is not None:
            self.progress.advance(self.task, amount)


class AmountColumn(ProgressColumn):
    """Done/total: a count of rows or files, or bytes (in Mo) for the hash checks."""

    def __init__(self) -> None:
        super().__init__()
        self.count, self.size = MofNCompleteColumn(), DownloadColumn(binary_units=False)

    def render(self, task: Task) -> Text:
        return (self.size if task.fields.get("in_bytes") else self.count).render(task)


def _bars() -> Progress:
    return Progress(TextColumn("{task.description}"), BarColumn(), AmountColumn(),
                    TimeElapsedColumn(), console=console)


def _audit(svc: Services, action: str, details: dict[str, object]) -> None:
    with svc.db.unit_of_work() as session:
        audit.record(session, Principal.system("ligne de commande"), action, "instance",
                     details)


def export_command(
    folder: Annotated[Path, typer.Argument(help="Dossier à créer (nouveau ou vide).")],
) -> None:
    """Exporter toute l'instance dans des formats ouverts.

    Inventaire, versions publiées, registres, comptes (sans secrets), historique et journal
    d'audit, catalogue DCAT.

    Le dossier contient un guide (README.md, qui décrit chaque fichier), un Data Package
    Frictionless (datapackage.json et tables/*.csv), un paquet par jeu de données versionné
    (datasets/), le catalogue (catalog.ttl) et un manifeste (manifest.json) avec l'empreinte
    sha256 de chaque fichier. Les empreintes de mots de passe et de jetons d'API, la clé de
    session et les clés de pseudonymisation ne sont jamais exportées.
    """
    from patrimoine.reversibility.export import export_all
    from patrimoine.reversibility.formats import README

    svc = services()
    started = time.perf_counter()
    try:
        with _bars() as bars:
            report = export_all(svc.settings, svc.db, folder, RichProgress(bars))
        # The export holds closed data too: who exported what, and where, goes to the log.
        _audit(svc, "instance.export", {"folder": str(folder.resolve()),
                                        "rows": sum(report.tables.values()),
                                        "versions": report.versions})
    finally:
        svc.db.dispose()
    rows = sum(report.tables.values())
    console.print(f"Export terminé en {time.perf_counter() - started:.1f} s dans {folder} : "
                  f"{len(report.tables)} tables ({rows} lignes), {report.versions} versions, "
                  f"{report.files} fichiers.")
    console.print(f"Ce que contient chaque fichier : {folder / README}.")
    console.print("Colonnes secrètes non exportées : " + ", ".join(
        f"{e['table']}.{e['column']}" for e in report.excluded) + ".")


def import_all_command(
    folder: Annotated[Path, typer.Argument(help="Dossier produit par « patrimoine export ».")],
) -> None:
    """Reconstruire une instance à partir d'un export complet, dans un entrepôt VIDE.

    Les empreintes du manifeste sont vérifiées avant toute écriture ; l'import se fait en une
    seule transaction (en cas d'erreur, l'entrepôt reste vide). Les comptes restaurés n'ont
    pas de mot de passe utilisable : définissez-le avec « patrimoine user set-password ».
    """
    from patrimoine.reversibility.restore import import_all

    svc = services(check_schema=False)
    started = time.perf_counter()
    try:
        with _bars() as bars:
            report = import_all(svc.settings, svc.db, folder, RichProgress(bars))
        _audit(svc, "instance.import", {"folder": str(folder.resolve()),
                                        "rows": sum(report.tables.values()),
                                        "versions": report.versions})
    finally:
        svc.db.dispose()
    rows = sum(report.tables.values())
    console.print(f"Import terminé en {time.perf_counter() - started:.1f} s : "
                  f"{len(report.tables)} tables ({rows} lignes), {report.versions} versions.")
    if report.accounts_to_reset:
        console.print(f"{report.accounts_to_reset} comptes restaurés sans mot de passe : "
                      "définissez-en un avec « patrimoine user set-password ADRESSE ».")
