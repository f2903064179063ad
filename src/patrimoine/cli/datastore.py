"""patrimoine datastore …: load tabular files as dataset versions, list and compare them."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.progress import BarColumn, Progress, TaskProgressColumn, TextColumn, TimeElapsedColumn
from rich.table import Table
from sqlalchemy import select
from sqlalchemy.orm import Session

from patrimoine.access.principal import Principal
from patrimoine.bootstrap import Services
from patrimoine.cli.common import console, err_console, services
from patrimoine.core.errors import Invalid, NotFound
from patrimoine.core.text import slugify
from patrimoine.datastore import versions as store
from patrimoine.datastore.ingest.plan import TYPE_LABELS, IngestPlan, load_report, report_lines
from patrimoine.inventory import service as inventory
from patrimoine.inventory.models import AccessLevel, Dataset, Organisation
from patrimoine.protection.findings import service as findings

app = typer.Typer(help="Les données des jeux : chargement de fichiers, versions, différences.",
                  no_args_is_help=True)

CLI = "ligne de commande"
PROGRESS_MIN_BYTES = 5 * 1024 * 1024

FormatOpt = Annotated[str | None, typer.Option("--format", help="csv, xlsx, ods, json, ndjson, "
                                                                "geojson ou parquet.")]
EncodingOpt = Annotated[str | None, typer.Option("--encoding", help="Par exemple utf-8, cp1252.")]
DelimiterOpt = Annotated[str | None, typer.Option("--delimiter",
                                                  help="Séparateur : ; , | ou tab.")]
HeaderOpt = Annotated[int | None, typer.Option(
    "--header-row", help="Ligne de l'en-tête (à partir de 1) ; 0 : sans en-tête.")]
SheetOpt = Annotated[str | None, typer.Option("--sheet", help="Feuille du tableur à charger.")]
TypeOpt = Annotated[list[str] | None, typer.Option(
    "--type", help="COLONNE=TYPE (string, integer, number, boolean, date, datetime, geometry) ; "
                   "à répéter pour plusieurs colonnes.")]

CrsOpt = Annotated[str | None, typer.Option(
    "--crs", help="Système des coordonnées du fichier quand la détection se trompe, par "
                  "exemple EPSG:2154 (Lambert-93), EPSG:3948 (CC48), EPSG:4326 (degrés).")]


def _overrides(fmt: str | None, encoding: str | None, delimiter: str | None,
               header_row: int | None, sheet: str | None, types: list[str] | None,
               crs: str | None = None) -> dict[str, Any]:
    parsed: dict[str, str] = {}
    for item in types or []:
        column, sep, type_ = item.partition("=")
        if not sep or not column.strip() or not type_.strip():
            raise Invalid(f"Option --type « {item} » : écrivez COLONNE=TYPE.")
        parsed[column.strip()] = type_.strip()
    values: dict[str, Any] = {"format": fmt, "encoding": encoding, "delimiter": delimiter,
                              "header_row": header_row, "sheet": sheet, "types": parsed,
                              "crs": crs}
    return {k: v for k, v in values.items() if v not in (None, {})}


def _find_dataset(session: Session, slug: str) -> Dataset | None:
    return session.scalar(select(Dataset).where(Dataset.slug == slug))


def _organisation(session: Session, name: str | None) -> Organisation:
    if name:
        org = inventory.find_organisation(session, name)
        if org is None:
            raise NotFound(f"Organisation « {name} » introuvable.")
        return org
    org = session.scalar(select(Organisation).order_by(Organisation.id).limit(1))
    if org is None:
        raise Invalid("Aucune organisation n'existe encore : créez-en une (par exemple avec "
                      "« patrimoine demo ») avant de charger des données.")
    return org


@app.command("load")
def load(
    file: Annotated[Path, typer.Argument(help="Fichier CSV, TSV, XLSX, ODS, JSON, NDJSON, "
                                              "GeoJSON ou Parquet.")],
    dataset: Annotated[str, typer.Option("--dataset", help="Identifiant (slug) du jeu de "
                                                           "données ; créé s'il n'existe pas.")],
    organisation: Annotated[str | None, typer.Option(
        "--organisation",
        help="Organisation d'un nouveau jeu de données (par défaut : la première).")] = None,
    title: Annotated[str | None, typer.Option(
        "--title", help="Titre d'un nouveau jeu de données.")] = None,
    fmt: FormatOpt = None,
    encoding: EncodingOpt = None,
    delimiter: DelimiterOpt = None,
    header_row: HeaderOpt = None,
    sheet: SheetOpt = None,
    types: TypeOpt = None,
    crs: CrsOpt = None,
    as_json: Annotated[bool, typer.Option(
        "--json", help="Afficher la nouvelle version en JSON.")] = False,
    accept_rejects: Annotated[bool, typer.Option(
        "--accept-rejects", help="Charger même si des enregistrements ou des valeurs sont "
                                 "rejetés (ils sont listés avec la version).")] = False,
    build_layout: Annotated[bool, typer.Option(
        "--build-layout", help="Préparer aussitôt la version pour les requêtes (sa mise en "
                               "page DuckDB), pour qu'un chargement planifié la laisse "
                               "prête à servir.")] = False,
) -> None:
    """Charger un fichier comme nouvelle version d'un jeu de données.

    Un contenu identique à la dernière version ne crée pas de nouvelle version. Les types sont
    déduits des 20 000 premières lignes (nombres décimaux, dates et booléens à la française
    compris) et peuvent être imposés avec --type. Les lignes plus courtes que l'en-tête sont
    complétées par des valeurs vides ; une ligne plus longue, ou une valeur qui ne correspond
    pas au type de sa colonne, arrête le chargement en indiquant la ligne et la colonne, et
    rien n'est publié. Avec --build-layout, la version est ensuite préparée pour les
    requêtes (sinon le serveur le fait en arrière-plan, et la lit en attendant depuis son
    fichier Parquet)."""
    from patrimoine.datastore.ingest import ingest

    overrides = _overrides(fmt, encoding, delimiter, header_row, sheet, types, crs)
    if not file.is_file():
        raise Invalid(f"Fichier introuvable : {file}.")
    if slugify(dataset) != dataset:
        raise Invalid(f"Identifiant de jeu de données invalide : « {dataset} » (par exemple "
                      f"« {slugify(dataset)} »).")
    svc = services()
    principal = Principal.system(CLI)
    show_progress = file.stat().st_size >= PROGRESS_MIN_BYTES
    with svc.db.unit_of_work() as session, Progress(
        TextColumn("{task.description}"), BarColumn(), TaskProgressColumn(), TimeElapsedColumn(),
        console=err_console, disable=not show_progress, transient=True,
    ) as bar:
        entry = _find_dataset(session, dataset)
        created = entry is None
        if entry is None:
            org = _organisation(session, organisation)
            data = inventory.DatasetInput(
                title=title or dataset.replace("-", " ").capitalize(), organisation_id=org.id)
            entry = inventory.create_dataset(session, principal, data, slug=dataset)
        level = entry.access_level
        task = bar.add_task("Chargement", total=1.0)

        def progress(fraction: float, step: str) -> None:
            bar.update(task, completed=fraction, description=step)

        version = ingest(session, svc.settings, principal, entry, file, overrides, progress,
                         accept_rejects=accept_rejects)
        if version.number == 1 and not version.unchanged:
            # Scanned now, as the web does: personal data in a first version restricts an
            # internal dataset (protection/findings/service.py).
            bar.update(task, description="Recherche de données personnelles")
            findings.ensure_scanned(session, svc.settings, version, principal)
        report = load_report(version.ingest_settings)
        restricted = level == AccessLevel.INTERNAL and entry.access_level != level
        payload = {
            "id": version.id, "dataset": entry.slug, "number": version.number,
            "row_count": version.row_count, "unchanged": version.unchanged,
            "content_hash": version.content_hash,
            "columns": [{"name": c["name"], "type": c["type"], "source_name": c["source_name"]}
                        for c in version.columns],
            "positions": version.positions,
            "crs": (version.ingest_settings or {}).get("crs"),
            "ingest": version.ingest_settings,
            "report": report,
            "access_level": entry.access_level.value,
        }
    if build_layout:
        _build_layout(svc, version.id, show_progress)
    if as_json:
        typer.echo(json.dumps(payload, ensure_ascii=False, indent=2))
        return
    if created:
        console.print(f"Jeu de données « {entry.slug} » créé dans l'inventaire.")
    if version.unchanged:
        console.print(f"Contenu identique à la version {version.number} : aucune nouvelle "
                      "version créée.")
        return
    console.print(f"Version {version.number} de « {entry.slug} » publiée : "
                  f"{_int(version.row_count)} lignes, {len(version.columns)} colonnes.")
    if restricted:
        console.print("Données personnelles détectées : le jeu passe en accès restreint "
                      "jusqu'à la décision d'une personne habilitée à modifier sa fiche.")
    _print_columns(version.columns, report["meanings"])
    for line in report_lines(report):
        console.print(line, markup=False, highlight=False)
    source_crs = (version.ingest_settings or {}).get("crs")
    if source_crs:
        console.print(source_crs["note"])
    if build_layout:
        console.print("Version préparée pour les requêtes.")


def _build_layout(svc: Services, version_id: int, show_progress: bool) -> None:
    """Build the version's query layout now, with a progress bar (a failure is recorded by
    the engine and raised: the version stays readable from its Parquet file)."""
    from patrimoine.datastore import engine
    from patrimoine.datastore.models import DatasetVersion

    with svc.db.session() as session:
        version = session.get(DatasetVersion, version_id)
    if version is None or engine.layout_ready(svc.settings, version):
        return
    with Progress(
        TextColumn("{task.description}"), BarColumn(), TaskProgressColumn(), TimeElapsedColumn(),
        console=err_console, disable=not show_progress, transient=True,
    ) as bar:
        task = bar.add_task("Préparation pour les requêtes", total=1.0)

        def progress(fraction: float, step: str) -> None:
            bar.update(task, completed=fraction, description=f"Préparation : {step}")

        engine.prepare_version(svc.settings, version, progress=progress, force=True)


def _int(n: int) -> str:
    return f"{n:,}".replace(",", "\u202f")


def _print_columns(columns: list[dict[str, str]], meanings: dict[str, str]) -> None:
    table = Table()
    table.add_column("Colonne")
    table.add_column("Nom d'origine")
    table.add_column("Type")
    table.add_column("Sens reconnu")
    for c in columns:
        table.add_row(c["name"], c.get("source_name") or "", TYPE_LABELS.get(c["type"], c["type"]),
                      meanings.get(c["name"], ""))
    console.print(table)


@app.command("sniff")
def sniff_command(
    file: Annotated[Path, typer.Argument(help="Fichier à examiner.")],
    fmt: FormatOpt = None,
    encoding: EncodingOpt = None,
    delimiter: DelimiterOpt = None,
    header_row: HeaderOpt = None,
    sheet: SheetOpt = None,
    types: TypeOpt = None,
    crs: CrsOpt = None,
    as_json: Annotated[bool, typer.Option("--json", help="Afficher le plan en JSON.")] = False,
) -> None:
    """Examiner un fichier sans le charger : réglages, colonnes et types, premières lignes."""
    from patrimoine.datastore.ingest import sniff

    plan = sniff(file, _overrides(fmt, encoding, delimiter, header_row, sheet, types, crs))
    if as_json:
        typer.echo(json.dumps(plan.as_dict(), ensure_ascii=False, indent=2, default=str))
        return
    _print_plan(plan)


def _print_plan(plan: IngestPlan) -> None:
    from patrimoine.datastore.ingest.textfile import DELIMITER_LABELS

    console.print(f"[b]{plan.filename}[/b] — format {plan.format}")
    if plan.format == "csv":
        console.print(f"  encodage : {plan.encoding} ; séparateur : "
                      f"{DELIMITER_LABELS.get(plan.delimiter or '', repr(plan.delimiter))} ; "
                      f"en-tête ligne {plan.header_row}")
    if plan.sheet:
        console.print(f"  feuille : {plan.sheet}")
    if plan.decimal:
        console.print(f"  séparateur décimal : « {plan.decimal} »")
    if plan.positions:
        console.print(f"  positions : latitude {plan.positions['lat']}, "
                      f"longitude {plan.positions['lon']}")
    if plan.crs and plan.crs["epsg"]:
        console.print(f"  système des coordonnées : {plan.crs['epsg']} ({plan.crs['how']})")
    table = Table()
    for header in ("Colonne", "Nom d'origine", "Type", "Sens reconnu", "Exemples"):
        table.add_column(header)
    for c in plan.columns:
        table.add_row(c.name, c.source_name, TYPE_LABELS.get(c.type, c.type),
                      c.meaning["label"] if c.meaning else "", " | ".join(c.sample[:3]))
    console.print(table)
    for problem in plan.problems:
        console.print(f"[yellow]Attention :[/yellow] {problem}")


@app.command("versions")
def versions_command(
    dataset: Annotated[str, typer.Argument(help="Identifiant (slug) du jeu de données.")],
    as_json: Annotated[bool, typer.Option("--json", help="Afficher en JSON.")] = False,
) -> None:
    """Lister les versions d'un jeu de données, de la plus récente à la plus ancienne."""
    svc = services()
    with svc.db.unit_of_work() as session:
        entry = inventory.get_dataset(session, Principal.system(CLI), dataset)
        rows: list[dict[str, Any]] = [
            {"id": v.id, "number": v.number, "row_count": v.row_count,
             "size_bytes": v.size_bytes, "content_hash": v.content_hash,
             "created_at": v.created_at.isoformat(), "source_filename": v.source_filename,
             "columns": len(v.columns)}
            for v in store.list_versions(session, entry)
        ]
    if as_json:
        typer.echo(json.dumps(rows, ensure_ascii=False, indent=2))
        return
    if not rows:
        console.print(f"« {dataset} » n'a encore aucune version.")
        return
    table = Table(title=f"Versions de « {dataset} »")
    for header in ("Version", "Lignes", "Colonnes", "Fichier d'origine", "Publiée le"):
        table.add_column(header)
    for r in rows:
        table.add_row(str(r["number"]), _int(r["row_count"]), str(r["columns"]),
                      r["source_filename"], r["created_at"][:19].replace("T", " "))
    console.print(table)


@app.command("diff")
def diff_command(
    dataset: Annotated[str, typer.Argument(help="Identifiant (slug) du jeu de données.")],
    a: Annotated[int, typer.Argument(help="Numéro de la version la plus ancienne.")],
    b: Annotated[int, typer.Argument(help="Numéro de la version la plus récente.")],
    key: Annotated[str | None, typer.Option(
        "--key", help="Colonne qui identifie les lignes.")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Afficher en JSON.")] = False,
) -> None:
    """Résumer les changements entre deux versions A et B d'un jeu de données."""
    from patrimoine.datastore.diff import diff as diff_versions

    svc = services()
    with svc.db.unit_of_work() as session:
        entry = inventory.get_dataset(session, Principal.system(CLI), dataset)
        result = diff_versions(svc.settings, store.get_version(session, entry, a),
                               store.get_version(session, entry, b), key)
    if as_json:
        typer.echo(json.dumps(result.as_dict(), ensure_ascii=False, indent=2))
        return
    console.print(f"Version {a} → {b} : {_int(result.old_rows)} → {_int(result.new_rows)} lignes")
    console.print(f"  lignes ajoutées : {_int(result.rows_added)}")
    console.print(f"  lignes supprimées : {_int(result.rows_removed)}")
    if result.rows_changed is not None:
        console.print(f"  lignes modifiées (clé {key}) : {_int(result.rows_changed)}")
    for name in result.columns_added:
        console.print(f"  colonne ajoutée : {name}")
    for name in result.columns_removed:
        console.print(f"  colonne supprimée : {name}")
    for name, old, new in result.columns_retyped:
        console.print(f"  colonne {name} : {TYPE_LABELS.get(old, old)} → "
                      f"{TYPE_LABELS.get(new, new)}")
