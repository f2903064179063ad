"""`patrimoine export DIR`: everything the instance holds, in open formats.

The folder written:

- `datapackage.json`: a Frictionless (tabular) Data Package describing every table of the
  database as a CSV resource `tables/<table>.csv` with its Table Schema (types from the
  SQLAlchemy column types, primary and foreign keys; JSON columns as JSON text; datetimes in
  ISO 8601 with their offset; SQL NULL written `\\N`, the schema's missing value; a text a
  spreadsheet would run as a formula gets a leading apostrophe, core/csvcells, which
  `import-all` takes back off).
- `datasets/<slug>/datapackage.json`: one Data Package per dataset that has versions, with
  its inventory metadata; each version is a Parquet resource (the stored file, copied byte
  for byte, described as a file whose size and sha256 a validator checks: reading Parquet
  would need pandas) and a CSV resource (the datastore's own CSV export of its records,
  described by a Table Schema whose field names are the CSV's header). Each package passes
  `frictionless validate` (tests/integration/reversibility).
- `catalog.ttl`: the public DCAT-AP catalog, whole (interop/dcat.py).
- `README.md`: for the operator who opens the folder, in French: what every file is, table
  by table and dataset by dataset, and how to check and re-import it.
- `manifest.json`: format, export date, schema revisions, row counts, the versions and the
  sha256 of every other file, which `import-all` checks before touching anything.

Secrets never leave: the columns `formats.is_secret` names (password and API-token hashes
today) are not written, and neither are the files of the data folder that are not versions
(the session key `secret_key`, the pseudonymisation keys under `keys/`, caches).

Rows are streamed table by table from one read transaction (a consistent snapshot; version
files are immutable), so memory stays bounded whatever the size of the instance. The folder
is written under a temporary name next to DIR and renamed at the end: an interrupted export
leaves no half-written DIR.
"""

from __future__ import annotations

import csv
import json
import os
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from alembic.runtime.migration import MigrationContext
from sqlalchemy import Connection, func, select
from sqlalchemy.orm import Session

import patrimoine
from patrimoine.core.db import Database
from patrimoine.core.errors import Conflict, PatrimoineError
from patrimoine.core.settings import Settings
from patrimoine.inventory.licences import licence
from patrimoine.reversibility import formats as f
from patrimoine.reversibility.progress import ProgressSink, Silent
from patrimoine.storage.schema import metadata

CSV_DIALECT = {"delimiter": ",", "quoteChar": '"', "doubleQuote": True,
               "lineTerminator": "\r\n", "header": True}
VERSION_TYPES = {"string": "string", "integer": "integer", "number": "number",
                 "boolean": "boolean", "date": "date", "datetime": "datetime",
                 "geometry": "geojson"}


@dataclass
class ExportReport:
    folder: Path
    tables: dict[str, int] = field(default_factory=dict)
    versions: int = 0
    files: int = 0
    bytes: int = 0
    excluded: list[dict[str, str]] = field(default_factory=list)


def excluded_columns() -> list[dict[str, str]]:
    return [{"table": t.name, "column": c.name, "reason": f.secret_reason(c)}
            for t in metadata.sorted_tables for c in t.columns if f.is_secret(c)]


def export_all(settings: Settings, db: Database, folder: Path,
               progress: ProgressSink | None = None) -> ExportReport:
    """Write the whole instance into `folder` (which must not exist or be empty)."""
    progress = progress or Silent()
    folder = Path(folder)
    if folder.exists() and (not folder.is_dir() or any(folder.iterdir())):
        raise Conflict(f"Le dossier « {folder} » existe et n'est pas vide : choisissez un "
                       "dossier nouveau ou vide pour l'export.")
    folder.parent.mkdir(parents=True, exist_ok=True)
    work = folder.with_name(f".{folder.name}.export-en-cours-{os.getpid()}")
    if work.exists():
        shutil.rmtree(work)
    work.mkdir(mode=0o700)  # closed and personal data inside: owner only
    try:
        report = _write(settings, db, work, progress)
        if folder.exists():
            folder.rmdir()
        os.replace(work, folder)
    except BaseException:
        shutil.rmtree(work, ignore_errors=True)
        raise
    report.folder = folder
    return report


@contextmanager
def _snapshot(db: Database) -> Iterator[Connection]:
    """One read transaction for the whole export: every table as of the same moment."""
    with db.engine.connect() as conn:
        if conn.dialect.name == "postgresql":
            conn.execution_options(isolation_level="REPEATABLE READ", postgresql_readonly=True)
        with conn.begin():
            if conn.dialect.name == "sqlite":
                # pysqlite opens a transaction only before a write: begin one now, so that
                # every read below sees the same snapshot of the WAL.
                driver = conn.connection.driver_connection
                if driver is not None and not driver.in_transaction:
                    conn.exec_driver_sql("BEGIN")
            yield conn


def _write(settings: Settings, db: Database, root: Path, progress: ProgressSink) -> ExportReport:
    report = ExportReport(root, excluded=excluded_columns())
    with _snapshot(db) as conn:
        revisions = sorted(MigrationContext.configure(conn).get_current_heads())
        plans = f.insertion_plan(list(metadata.sorted_tables))
        counts = {p.table.name: conn.scalar(select(func.count()).select_from(p.table)) or 0
                  for p in plans}
        progress.start("Tables de la base", sum(counts.values()))
        resources = []
        (root / f.TABLES_DIR).mkdir()
        for plan in plans:
            resources.append(_write_table(conn, plan.table, root, counts[plan.table.name],
                                          progress))
        report.tables = counts
        with Session(bind=conn) as session:
            versions = _write_datasets(settings, session, root, progress)
            report.versions = len(versions)
            progress.start("Catalogue DCAT", 1)
            _write_catalog(settings, session, root)
            progress.advance()
            data_files = _write_data_files(settings, conn, root)
            document_files = _write_documents(settings, conn, root)
    exported_at = datetime.now(UTC).isoformat(timespec="seconds")
    _write_json(root / f.DATAPACKAGE, {
        "profile": "tabular-data-package",
        "name": "patrimoine-export",
        "title": "Export complet de l'instance Patrimoine",
        "description": "Toutes les tables de la base de métadonnées, en CSV décrits par des "
                       "Table Schema. Les versions publiées sont dans datasets/, le catalogue "
                       "DCAT-AP dans catalog.ttl, les empreintes dans manifest.json. Colonnes "
                       "secrètes exclues : voir « patrimoine:excluded ».",
        "created": exported_at,
        "resources": resources,
        "patrimoine:excluded": report.excluded,
    })
    _write_readme(root, resources, versions, data_files, document_files, report, exported_at)
    files: dict[str, dict[str, Any]] = {}
    paths = sorted(p for p in root.rglob("*") if p.is_file())
    progress.start("Empreintes", len(paths))
    for path in paths:
        relative = path.relative_to(root).as_posix()
        files[relative] = {"sha256": f.sha256_file(path), "bytes": path.stat().st_size}
        progress.advance()
    report.files = len(files) + 1
    report.bytes = sum(v["bytes"] for v in files.values())
    _write_json(root / f.MANIFEST, {
        "format": f.FORMAT,
        "format_version": f.FORMAT_VERSION,
        "patrimoine_version": patrimoine.__version__,
        "exported_at": exported_at,
        "database": db.engine.dialect.name,
        "schema_revisions": revisions,
        "tables": report.tables,
        "versions": versions,
        "data_files": data_files,
        "documents": sorted(document_files),
        "excluded": report.excluded,
        "files": files,
    })
    return report


def _write_json(path: Path, data: Any) -> None:
    path.write_text(json.dumps(data, ensure_ascii=False, indent=2, default=str) + "\n",
                    encoding="utf-8")


def _write_table(conn: Connection, table: Any, root: Path, count: int,
                 progress: ProgressSink) -> dict[str, Any]:
    columns = f.exported_columns(table)
    relative = f"{f.TABLES_DIR}/{table.name}.csv"
    json_columns = [c for c in columns if f.field_type(c)[0] == "any"]
    json_kinds: dict[str, set[str]] = {c.name: set() for c in json_columns}
    order = list(table.primary_key.columns) or columns
    stmt = select(*columns).order_by(*order)
    with (root / relative).open("w", encoding="utf-8", newline="") as fh:
        writer = csv.writer(fh, lineterminator="\r\n")
        writer.writerow([c.name for c in columns])
        result = conn.execute(stmt, execution_options={"yield_per": f.BATCH})
        for rows in result.partitions():
            for row in rows:
                writer.writerow([f.to_text(c, v) for c, v in zip(columns, row, strict=True)])
                for c in json_columns:
                    value = row._mapping[c.name]
                    if value is not None:
                        json_kinds[c.name].add(f.json_kind(value))
            progress.advance(len(rows))
    return {
        "profile": "tabular-data-resource",
        "name": table.name,
        "path": relative,
        "format": "csv",
        "mediatype": "text/csv",
        "encoding": "utf-8",
        "dialect": CSV_DIALECT,
        "schema": f.table_schema(table, json_kinds),
        "patrimoine:rows": count,
    }


# --------------------------------------------------------------------------- datasets


def _write_datasets(settings: Settings, session: Session, root: Path,
                    progress: ProgressSink) -> list[dict[str, Any]]:
    from patrimoine.datastore.models import DatasetVersion
    from patrimoine.inventory.models import Dataset

    versions = list(session.scalars(select(DatasetVersion).order_by(
        DatasetVersion.dataset_id, DatasetVersion.number)))
    progress.start("Versions des jeux de données", len(versions))
    by_dataset: dict[int, list[Any]] = {}
    for version in versions:
        by_dataset.setdefault(version.dataset_id, []).append(version)
    listed = []
    for dataset_id, dataset_versions in by_dataset.items():
        dataset = session.get(Dataset, dataset_id)
        assert dataset is not None  # the foreign key says so
        folder = root / f.DATASETS_DIR / dataset.slug
        folder.mkdir(parents=True)
        resources = []
        for version in dataset_versions:
            resources.extend(_write_version(settings, version, folder))
            listed.append({
                "id": version.id, "dataset": dataset.slug, "number": version.number,
                "path": version.path, "sha256": version.content_hash,
                "file": f"{f.DATASETS_DIR}/{dataset.slug}/v{version.number}.parquet",
            })
            progress.advance()
        _write_json(folder / f.DATAPACKAGE, _dataset_package(settings, dataset, resources))
    return listed


def _write_version(settings: Settings, version: Any, folder: Path) -> list[dict[str, Any]]:
    from patrimoine.datastore import engine
    from patrimoine.datastore import export as datastore_export
    from patrimoine.datastore.query import Query
    from patrimoine.datastore.versions import version_path

    source = version_path(settings, version)
    if not source.is_file():
        raise PatrimoineError(f"Le fichier de la version {version.number} du jeu de données "
                              f"n°{version.dataset_id} est introuvable ({version.path}) : "
                              "export impossible.")
    name = f"v{version.number}"
    target = folder / f"{name}.parquet"
    shutil.copyfile(source, target)
    if f.sha256_file(target) != version.content_hash:
        raise PatrimoineError(f"Le fichier de la version {version.number} ({version.path}) ne "
                              "correspond plus à son empreinte : il a été modifié ou abîmé.")
    table = engine.open_version(settings, version)
    records = datastore_export.export(table, Query(), datastore_export.ExportRequest("csv"),
                                      name)
    csv_path = folder / f"{name}.csv"
    with csv_path.open("wb") as fh:
        for chunk in records.chunks:
            fh.write(chunk)
    about = {
        "patrimoine:version": version.number,
        "patrimoine:created": version.created_at.isoformat(),
        "patrimoine:source": {"filename": version.source_filename,
                              "format": version.source_format},
        "patrimoine:rows": version.row_count,
    }
    if version.positions:
        about["patrimoine:positions"] = version.positions
    return [
        # A file resource: validators check its size and hash without reading Parquet.
        {"profile": "data-resource", "type": "file", "name": f"{name}-parquet",
         "path": f"{name}.parquet", "format": "parquet",
         "mediatype": "application/vnd.apache.parquet",
         "title": f"Version {version.number} (Parquet, copie stockée par Patrimoine)",
         "description": "Le fichier que Patrimoine interroge, copié octet pour octet ; la "
                        "colonne _row numérote les enregistrements.",
         "hash": f"sha256:{version.content_hash}", "bytes": version.size_bytes,
         "schema": {"fields": [{"name": "_row", "type": "integer"},
                               *_version_fields(version.columns, None)],
                    "primaryKey": ["_row"]}, **about},
        {"profile": "tabular-data-resource", "name": f"{name}-csv", "path": f"{name}.csv",
         "format": "csv", "mediatype": "text/csv", "encoding": "utf-8",
         "title": f"Version {version.number} (CSV)",
         "description": "Les enregistrements dans l'ordre de la version, tels que l'export CSV "
                        "du portail les donne (un texte commençant par =, +, -, @ y est précédé "
                        "d'une apostrophe pour les tableurs ; le Parquet est la copie exacte).",
         "hash": f"sha256:{f.sha256_file(csv_path)}", "bytes": csv_path.stat().st_size,
         "schema": {"fields": _version_fields(version.columns, _csv_header(csv_path))},
         **about},
    ]


def _csv_header(path: Path) -> list[str]:
    with path.open(encoding="utf-8", newline="") as fh:
        return next(csv.reader(fh), [])


def _version_fields(columns: list[dict[str, Any]], header: list[str] | None
                    ) -> list[dict[str, Any]]:
    """Table Schema fields of a version's columns, named as `header` names them (the CSV
    export may write the technical or the source name of each column), else technically."""
    fields = []
    for i, column in enumerate(columns):
        written = header[i] if header is not None and i < len(header) else column["name"]
        if written not in (column["name"], column.get("source_name")):
            raise PatrimoineError(f"L'export CSV de la version ne suit pas ses colonnes : "
                                  f"« {written} » à la place de « {column['name']} ».")
        other = column.get("source_name") if written == column["name"] else column["name"]
        fields.append({"name": written, "type": VERSION_TYPES.get(column["type"], "string"),
                       **({"title": other} if other and other != written else {})})
    if header is not None and len(header) != len(columns):
        raise PatrimoineError("L'export CSV de la version n'a pas autant de colonnes que "
                              f"la version ({len(header)} au lieu de {len(columns)}).")
    return fields


def _dataset_package(settings: Settings, dataset: Any, resources: list[dict[str, Any]]
                     ) -> dict[str, Any]:
    inventory = {c.name: json.loads(json.dumps(getattr(dataset, c.key, None), default=str))
                 for c in dataset.__table__.columns if c.name != "search_text"}
    package: dict[str, Any] = {
        "profile": "data-package",
        "id": dataset.uid,
        "name": dataset.slug,
        "title": dataset.title,
        "description": dataset.description or "",
        "keywords": list(dataset.keywords or []),
        "created": dataset.created_at.isoformat(),
        "resources": resources,
        "patrimoine:inventory": inventory,
    }
    known = licence(dataset.licence)
    if known is not None and known.url:  # a free text is no licence id: inventory only
        package["licenses"] = [{"name": known.id, "path": known.url, "title": known.title}]
    return package


def _write_data_files(settings: Settings, conn: Connection, root: Path) -> dict[str, str]:
    """The state files of the data folder (formats.DATA_FILES) that match the snapshot: the
    audit anchor only if the entry it names is in the exported log, with the same hash."""
    from patrimoine.access import audit
    from patrimoine.access.models import AuditEvent

    carried = {}
    for name, relative in f.DATA_FILES.items():
        source = settings.data_dir / name
        if not source.is_file():
            continue
        if name == audit.ANCHOR_FILE:
            anchor = audit.read_anchor(settings.data_dir)
            events = AuditEvent.__table__
            stored = conn.scalar(select(events.c.hash).where(events.c.id == anchor.last_id)) \
                if anchor else None
            if anchor is None or stored != anchor.last_hash:
                continue  # anchored after the snapshot began: the next verify anchors again
        target = root / relative
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(source, target)
        carried[name] = relative
    return carried


def _write_documents(settings: Settings, conn: Connection, root: Path
                     ) -> dict[str, list[str]]:
    """The files kept for register entries (stored_document), under the same relative path
    as in the data folder (documents/<sha256[:2]>/<sha256>), with the names they were sent
    under."""
    from patrimoine.documents.models import Document

    table = Document.__table__
    written: dict[str, list[str]] = {}
    for sha, filename in conn.execute(select(table.c.sha256, table.c.filename)
                                      .order_by(table.c.sha256, table.c.filename)):
        relative = f"{f.DOCUMENTS_DIR}/{sha[:2]}/{sha}"
        if relative not in written:
            target = root / relative
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(settings.data_dir / relative, target)
        written.setdefault(relative, []).append(filename)
    return written


def _write_catalog(settings: Settings, session: Session, root: Path) -> None:
    from patrimoine.interop import dcat

    data, _ = dcat.serialize(dcat.full_catalog(session, settings.public_url), "ttl")
    (root / f.CATALOG).write_bytes(data)


# --------------------------------------------------------------------------- README


def _write_readme(root: Path, tables: list[dict[str, Any]], versions: list[dict[str, Any]],
                  data_files: dict[str, str], document_files: dict[str, list[str]],
                  report: ExportReport, exported_at: str) -> None:
    """A French guide to the folder for whoever opens it: every file, what it holds."""
    lines = [
        "# Export complet de l'instance Patrimoine",
        "",
        f"Exporté le {exported_at} par Patrimoine {patrimoine.__version__}. Ce dossier contient "
        "tout ce que l'instance détient, en formats ouverts : il suffit à reconstruire une "
        "instance équivalente (`patrimoine import-all DOSSIER`, dans une base vide) ou à "
        "reprendre les données dans un autre outil.",
        "",
        "Il contient des données fermées et personnelles : gardez-le en lieu sûr, accessible "
        "aux seules personnes habilitées.",
        "",
        "## Vérifier l'export",
        "",
        f"- `{f.MANIFEST}` donne l'empreinte SHA-256 et la taille de chaque autre fichier ; "
        "`patrimoine import-all` les vérifie toutes avant d'écrire quoi que ce soit.",
        f"- Chaque `{f.DATAPACKAGE}` est un Data Package (Frictionless) : "
        f"`frictionless validate {f.DATAPACKAGE}` en contrôle les fichiers (colonnes, types, "
        "tailles, empreintes).",
        "",
        "## Les fichiers",
        "",
        f"- `{f.README}` : ce guide.",
        f"- `{f.MANIFEST}` : format de l'export, date, version de Patrimoine, révisions du "
        "schéma de la base, nombre de lignes par table, liste des versions de jeux de données "
        "et empreinte de chaque fichier.",
        f"- `{f.DATAPACKAGE}` : le Data Package des tables de la base ; chaque table y est "
        "décrite (colonnes, types, clés primaires et étrangères).",
        f"- `{f.CATALOG}` : le catalogue public au format DCAT-AP (Turtle), tel que les "
        "moissonneurs le lisent.",
    ]
    for name, relative in sorted(data_files.items()):
        meaning = "l'ancre du journal d'audit (dernière entrée vérifiée et son empreinte)" \
            if name == "audit-anchor" else "un fichier d'état du dossier de données"
        lines.append(f"- `{relative}` : {meaning}.")
    lines += [
        "",
        f"### `{f.TABLES_DIR}/` : la base de métadonnées, une table par fichier CSV",
        "",
        "CSV en UTF-8, séparés par des virgules, une ligne d'en-tête. La valeur SQL NULL est "
        f"écrite `{f.NULL}` (une cellule vide est un texte vide). Dates et heures en ISO 8601, "
        "en temps universel ; colonnes JSON en texte JSON ; un texte commençant par =, +, - ou "
        "@ est précédé d'une apostrophe pour qu'un tableur ne l'exécute pas (l'import la "
        "retire).",
        "",
    ]
    for resource in tables:
        lines.append(f"- `{resource['path']}` : table `{resource['name']}`, "
                     f"{_count(resource['patrimoine:rows'], 'ligne')}.")
    if report.excluded:
        lines += ["", "Colonnes jamais exportées (secrets) :", ""]
        lines += [f"- `{e['table']}.{e['column']}` : {e['reason']}." for e in report.excluded]
    lines += [
        "",
        f"### `{f.DATASETS_DIR}/` : les données, un dossier par jeu de données",
        "",
        f"Chaque dossier a son `{f.DATAPACKAGE}` (fiche d'inventaire sous "
        "« patrimoine:inventory », licence, mots-clés) et, pour chaque version N :",
        "",
        "- `vN.parquet` : le fichier que Patrimoine interroge, copié octet pour octet (la "
        "colonne `_row` numérote les enregistrements) ;",
        "- `vN.csv` : les mêmes enregistrements en CSV UTF-8, tels que le portail les "
        "télécharge.",
        "",
    ]
    by_slug: dict[str, list[int]] = {}
    for entry in versions:
        by_slug.setdefault(entry["dataset"], []).append(entry["number"])
    for slug, numbers in sorted(by_slug.items()):
        package = json.loads((root / f.DATASETS_DIR / slug / f.DATAPACKAGE)
                             .read_text(encoding="utf-8"))
        names = [f.DATAPACKAGE, *(f"v{n}.{ext}" for n in numbers for ext in ("parquet", "csv"))]
        lines.append(f"- `{f.DATASETS_DIR}/{slug}/` : « {package['title']} », "
                     f"{_count(len(numbers), 'version')} : "
                     + ", ".join(f"`{name}`" for name in names) + ".")
    if not by_slug:
        lines.append("(Aucun jeu de données n'a de version.)")
    if document_files:
        lines += ["", f"### `{f.DOCUMENTS_DIR}/` : les documents joints aux registres", "",
                  "Un fichier par contenu, nommé par son empreinte SHA-256 ; la table "
                  "`stored_document` dit à quelle organisation il appartient et sous quel nom "
                  "il a été envoyé.", ""]
        lines += [f"- `{relative}` : « " + " », « ".join(names) + " »."
                  for relative, names in sorted(document_files.items())]
    (root / f.README).write_text("\n".join(lines) + "\n", encoding="utf-8")


def _count(n: int, word: str) -> str:
    return f"{n} {word}{'s' if n > 1 else ''}"
