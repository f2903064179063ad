"""patrimoine report annual …: the charter's annual report as PDF and as an HTML folder.

Without --edition, the report is computed now from the registers (with the narrative of its
draft, when one is being written); with --edition N, the published edition N is exported as
it was published."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

from patrimoine.cli.common import command_services, console, organisation_id
from patrimoine.core.errors import Invalid, NotFound
from patrimoine.report import render, service
from patrimoine.report.figures import CHAPTERS
from patrimoine.report.models import EditionStatus

app = typer.Typer(help="Rapport annuel de la charte de la donnée.", no_args_is_help=True)




@app.command("annual")
def annual(
    year: Annotated[int, typer.Option("--year", help="Année dont le rapport rend compte.")],
    organisation: Annotated[str | None, typer.Option(
        "--organisation", help="Nom ou identifiant (slug) de l'organisation (par défaut "
        "l'ensemble des organisations).")] = None,
    pdf: Annotated[Path | None, typer.Option("--pdf", help="Fichier PDF à écrire.")] = None,
    html: Annotated[Path | None, typer.Option(
        "--html", help="Dossier où écrire le rapport en HTML (index.html).")] = None,
    edition: Annotated[int | None, typer.Option(
        "--edition", help="Exporter cette édition publiée, telle qu'elle a été publiée.")] = None,
) -> None:
    """Le rapport annuel : chiffres des registres, textes de la collectivité, annexe."""
    if pdf is None and html is None:
        raise Invalid("Indiquez --pdf FICHIER, --html DOSSIER, ou les deux.")
    if html is not None and html.exists() and not html.is_dir():
        raise Invalid(f"{html} existe et n'est pas un dossier.")
    svc = command_services()
    service.check_year(year)
    steps = len(CHAPTERS) + (1 if pdf else 0) + (1 if html else 0)
    with svc.db.session() as s, Progress(
            TextColumn("{task.description}"), BarColumn(),
            TextColumn("{task.completed}/{task.total}"), TimeElapsedColumn(),
            console=console) as progress:
        task = progress.add_task("Chiffres", total=steps)
        org_id = organisation_id(s, organisation)
        found = service.editions(s, year, org_id)
        if edition is not None:
            chosen = [r for r in found if r.edition == edition
                      and r.status == EditionStatus.PUBLISHED]
            if not chosen:
                raise NotFound(f"Aucune édition {edition} publiée de ce rapport pour {year}.")
            view = service.frozen_view(chosen[0])
            progress.advance(task, len(CHAPTERS))
        else:
            draft = next((r for r in found if r.status == EditionStatus.DRAFT), None)

            def done(chapter: str) -> None:
                progress.update(task, description=f"Chiffres : {chapter}")
                progress.advance(task)
            view = service.live_view(s, svc.settings, year, org_id, report=draft,
                                     progress=done)
        if html is not None:
            progress.update(task, description="HTML")
            html.mkdir(parents=True, exist_ok=True)
            (html / "index.html").write_text(render.document_html(view), encoding="utf-8")
            progress.advance(task)
        if pdf is not None:
            progress.update(task, description="PDF")
            pdf.write_bytes(render.pdf(view))
            progress.advance(task)
        progress.update(task, description="Terminé")
    if html is not None:
        console.print(f"Rapport HTML écrit dans {html / 'index.html'}.")
    if pdf is not None:
        console.print(f"Rapport PDF écrit dans {pdf}.")
