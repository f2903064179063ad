"""patrimoine inventory …: the dataset inventory."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table
from rich.text import Text

from patrimoine.access.principal import Principal
from patrimoine.cli.common import console, err_console, services
from patrimoine.core.errors import Invalid
from patrimoine.core.tabular import DELIMITER_NAMES
from patrimoine.inventory import audit_sheet, importer, queries

app = typer.Typer(help="L'inventaire des jeux de données.", no_args_is_help=True)


@app.command("stats")
def stats(
    by: Annotated[str, typer.Option(help="Champ : organisation, department, theme, source, "
                                         "sharing ou confidentiality.")] = "organisation",
    as_json: Annotated[bool, typer.Option(
        "--json", help="Afficher {valeur: nombre} en JSON.")] = False,
) -> None:
    """Compter les jeux de données par valeur d'un champ (tableaux de l'audit de Troyes)."""
    svc = services()
    with svc.db.unit_of_work() as session:
        rows = queries.statistics(session, Principal.system("ligne de commande"), by)
    if as_json:
        typer.echo(json.dumps({r.value: r.count for r in rows}, ensure_ascii=False, indent=2))
        return
    table = Table(title=f"Inventaire par {queries.FIELD_LABELS[by].lower()}")
    table.add_column(queries.FIELD_LABELS[by])
    table.add_column("Nombre", justify="right")
    table.add_column("Part", justify="right")
    for r in rows:
        table.add_row(r.value, str(r.count), f"{r.percent:.1f} %".replace(".", ","))
    table.add_row("[b]Total général[/b]", f"[b]{sum(r.count for r in rows)}[/b]", "100 %")
    console.print(table)


_ACTIONS = {"create": "[green]à créer[/green]", "update": "[yellow]à modifier[/yellow]",
            "unchanged": "[dim]inchangé[/dim]"}
_SHOWN_ROWS = 100


@app.command("import")
def import_(
    file: Annotated[Path, typer.Argument(help="Le tableur d'audit : .xlsx, .ods ou .csv.",
                                         show_default=False)],
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Montrer ce qui changerait, "
                                                            "sans rien écrire.")] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Afficher le plan ou le résultat "
                                                         "en JSON.")] = False,
) -> None:
    """Importer un tableur d'audit (une ligne par jeu de données, comme celui de Troyes).

    Les en-têtes tels que Collectivité, Direction, Nom du tableau de suivi, Thématique,
    Source des données, Partage des données, Confidentialité des données, Coût et Fréquence
    de mise à jour sont reconnus quels que soient la casse, les accents ou les espaces.
    Rien n'est écrit si une seule ligne est invalide ; importer de nouveau le même fichier ne
    change rien.
    """
    if not file.is_file():
        raise Invalid(f"Fichier introuvable : {file}")
    data = file.read_bytes()
    principal = Principal.system("ligne de commande")
    svc = services()
    with svc.db.unit_of_work() as session:
        table = audit_sheet.read_spreadsheet(data, file.name)
        plan = audit_sheet.plan_import(session, principal, table)
        result = importer.apply_import(session, principal, plan) if plan.ok and not dry_run \
            else None
    if as_json:
        body = plan.as_dict() if result is None else {
            **result.as_dict(), "rows": [r.as_dict() for r in plan.rows]}
        typer.echo(json.dumps(body, ensure_ascii=False, indent=2))
    else:
        _print_plan(plan, show_rows=plan.ok)
    if not plan.ok:
        if not as_json:
            _print_errors(plan)
        raise Invalid(f"{len(plan.errors)} erreur(s) dans « {plan.filename} » ; rien n'a été "
                      "importé. Corrigez le fichier puis relancez l'import.")
    if as_json:
        return
    c = (result or plan).counts
    if result is None:
        console.print(f"Simulation (--dry-run) : {c['create']} à créer, {c['update']} à "
                      f"modifier, {c['unchanged']} inchangé(s). Rien n'a été écrit.")
    else:
        console.print(f"Import terminé : {c['create']} créé(s), {c['update']} modifié(s), "
                      f"{c['unchanged']} inchangé(s).")
    verb = "à créer" if result is None else "créée"
    for name in (plan.new_organisations if result is None else result.new_organisations):
        console.print(Text(f"  Collectivité {verb} : {name}"))
    for org, dep in (plan.new_departments if result is None else result.new_departments):
        console.print(Text(f"  Direction {verb} : {dep} ({org})"))


def _print_plan(plan: audit_sheet.ImportPlan, *, show_rows: bool) -> None:
    where = plan.format.upper()
    if plan.encoding:
        delimiter = DELIMITER_NAMES.get(plan.delimiter or "", plan.delimiter)
        where += f", {plan.encoding}, séparateur {delimiter}"
    console.print(Text(f"Fichier « {plan.filename} » ({where}), en-têtes ligne "
                       f"{plan.header_line}."))
    summary = Table(title="Changements prévus", title_justify="left")
    summary.add_column("Action")
    summary.add_column("Lignes", justify="right")
    for action, n in plan.counts.items():
        summary.add_row(_ACTIONS[action], str(n))
    summary.add_row("[red]en erreur[/red]", str(len({e.line for e in plan.errors})))
    console.print(summary)
    if plan.ignored_columns:
        console.print(Text("Colonnes ignorées : " + ", ".join(
            f"« {c} »" for c in plan.ignored_columns)))
    details = [r for r in plan.rows if r.action != "unchanged"]
    if not show_rows or not details:
        return
    table = Table(title="Détail par ligne", title_justify="left")
    table.add_column("Ligne", justify="right")
    table.add_column("Action", no_wrap=True)
    table.add_column("Collectivité / direction", overflow="ellipsis", no_wrap=True, max_width=40)
    table.add_column("Jeu de données", overflow="ellipsis", no_wrap=True, max_width=50)
    table.add_column("Modifications", overflow="fold")
    for r in details[:_SHOWN_ROWS]:
        changes = ""
        if r.action == "update":
            changes = "; ".join(f"{f} : {_shown(old)} → {_shown(new)}"
                                for f, (old, new) in r.changes.items())
        table.add_row(str(r.line), _ACTIONS[r.action],
                      Text(r.organisation + (f" / {r.department}" if r.department else "")),
                      Text(r.title), Text(changes))
    console.print(table)
    if len(details) > _SHOWN_ROWS:
        console.print(f"… et {len(details) - _SHOWN_ROWS} autres lignes (--json pour tout voir).")


def _shown(value: object) -> str:
    return "∅" if value in (None, "", []) else str(value)


def _print_errors(plan: audit_sheet.ImportPlan) -> None:
    errors = Table(title=f"Erreurs ({len(plan.errors)})", title_style="bold red",
                   title_justify="left")
    errors.add_column("Ligne", justify="right")
    errors.add_column("Colonne")
    errors.add_column("Valeur", overflow="fold")
    errors.add_column("Problème", overflow="fold")
    for e in plan.errors[:_SHOWN_ROWS]:
        errors.add_row(str(e.line), Text(e.column), Text(e.value), Text(e.message))
    err_console.print(errors)
    if len(plan.errors) > _SHOWN_ROWS:
        err_console.print(f"… et {len(plan.errors) - _SHOWN_ROWS} autres erreurs "
                          "(--json pour tout voir).")


@app.command("export-scdl")
def export_scdl(
    file: Annotated[Path, typer.Argument(help="Le fichier CSV à écrire (catalogue-donnees).",
                                         show_default=False)],
    include_incomplete: Annotated[bool, typer.Option(
        "--incomplets", help="Écrire aussi les jeux de données auxquels manque une "
                             "colonne obligatoire (le fichier n'est alors plus conforme au "
                             "schéma).")] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Afficher le bilan en JSON.")] = False,
) -> None:
    """Exporter l'inventaire au schéma catalogue-donnees (Etalab 0.3.0).

    Le fichier est conforme au schéma tel qu'il est publié. Les jeux de données auxquels manque
    une colonne obligatoire (courriel de contact, couverture géographique, formats…) sont
    écartés et listés, sauf avec --incomplets.
    """
    from patrimoine.interop import scdl_catalogue

    svc = services()
    try:
        with svc.db.unit_of_work() as session:
            export = scdl_catalogue.export_catalogue(
                session, Principal.system("ligne de commande"),
                public_url=svc.settings.public_url, include_incomplete=include_incomplete,
                settings=svc.settings)
    finally:
        svc.db.dispose()
    tmp = file.with_name(f".{file.name}.tmp")
    tmp.write_bytes(export.csv_bytes())
    tmp.replace(file)
    if as_json:
        typer.echo(json.dumps({**export.summary(), "file": str(file)}, ensure_ascii=False,
                              indent=2))
        return
    console.print(Text(f"{len(export.rows)} jeu(x) de données écrit(s) dans « {file} » "
                       "(schéma catalogue-donnees)."))
    if export.incomplete_written:
        err_console.print(f"{export.incomplete_written} ligne(s) incomplète(s) écrite(s) : le "
                          "fichier ne sera pas conforme au schéma.")
    if export.skipped:
        table = Table(title=f"Écartés faute de colonne obligatoire ({len(export.skipped)})",
                      title_justify="left")
        table.add_column("Jeu de données", overflow="fold")
        table.add_column("Colonnes manquantes", overflow="fold")
        for s in export.skipped[:_SHOWN_ROWS]:
            table.add_row(Text(s.title), ", ".join(s.missing))
        err_console.print(table)


@app.command("import-scdl")
def import_scdl(
    file: Annotated[Path, typer.Argument(help="Un fichier catalogue-donnees (ou catalogue SCDL).",
                                         show_default=False)],
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Montrer ce qui changerait, "
                                                            "sans rien écrire.")] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Afficher le plan ou le résultat "
                                                         "en JSON.")] = False,
) -> None:
    """Importer un catalogue de données (catalogue-donnees ou catalogue simplifié OpenDataFrance).

    Même moteur que « inventory import » : les jeux de données sont rapprochés par
    organisation, direction et titre ; rien n'est écrit si une seule ligne est invalide.
    """
    from patrimoine.interop import scdl_catalogue

    if not file.is_file():
        raise Invalid(f"Fichier introuvable : {file}")
    data = file.read_bytes()
    principal = Principal.system("ligne de commande")
    svc = services()
    try:
        with svc.db.unit_of_work() as session:
            planned = scdl_catalogue.plan_catalogue(session, principal, data, file.name)
            done = scdl_catalogue.apply_catalogue(session, principal, planned) \
                if planned.ok and not dry_run else planned
    finally:
        svc.db.dispose()
    plan = planned.plan
    if as_json:
        typer.echo(json.dumps(done.as_dict(), ensure_ascii=False, indent=2))
    else:
        _print_plan(plan, show_rows=plan.ok)
    if not plan.ok:
        if not as_json:
            _print_errors(plan)
        raise Invalid(f"{len(plan.errors)} erreur(s) dans « {plan.filename} » ; rien n'a été "
                      "importé. Corrigez le fichier puis relancez l'import.")
    if as_json:
        return
    c = (done.result or plan).counts
    if done.result is None:
        console.print(f"Simulation (--dry-run) : {c['create']} à créer, {c['update']} à "
                      f"modifier, {c['unchanged']} inchangé(s). Rien n'a été écrit.")
    else:
        console.print(f"Import terminé ({done.kind}) : {c['create']} créé(s), {c['update']} "
                      f"modifié(s), {c['unchanged']} inchangé(s).")


@app.command("quality")
def quality_(
    as_json: Annotated[bool, typer.Option("--json", help="Afficher les chiffres en JSON.")] = False,
) -> None:
    """Mesurer la qualité du catalogue : score moyen, tranches, critères remplis.

    Score moyen (de 0 à 100), nombre de jeux de données par tranche, et nombre de jeux qui
    remplissent chaque critère (les neuf d'udata, colonnes, schéma, données personnelles)."""
    from patrimoine.charter import quality

    svc = services()
    try:
        with svc.db.unit_of_work() as session:
            figures = quality.catalog_quality(session, Principal.system("ligne de commande"))
    finally:
        svc.db.dispose()
    if as_json:
        typer.echo(json.dumps(figures.as_dict(), ensure_ascii=False, indent=2))
        return
    if figures.average is None:
        console.print("L'inventaire est vide : aucun score à calculer.")
        return
    average = f"{figures.average:.1f}".replace(".", ",")
    console.print(f"Score de qualité moyen : {average}/100 sur {figures.datasets} jeu(x) "
                  "de données.")
    bands = Table(title="Tranches", title_justify="left")
    bands.add_column("Tranche")
    bands.add_column("Jeux", justify="right")
    for band, count in figures.bands.items():
        bands.add_row(quality.BAND_LABELS[band], str(count))
    console.print(bands)
    criteria = Table(title="Critères remplis", title_justify="left")
    criteria.add_column("Critère")
    criteria.add_column("Jeux", justify="right")
    for cid, count in figures.criteria_met.items():
        criteria.add_row(quality.CRITERIA_TITLES[cid], str(count))
    console.print(criteria)
