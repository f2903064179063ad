"""`patrimoine import-all DIR`: rebuild an equivalent instance from a full export.

Only into an EMPTY store (no row in any table, no version file). Before anything is written:
the manifest is read, every file it lists is checked against its sha256 (a tampered or
truncated export is refused), and the schema revision of the export must be the one this
code migrates to (an empty store that is behind is upgraded first).

Then, in ONE transaction, the tables are inserted in dependency order with their primary keys
(self references and cycles set in a second pass), PostgreSQL sequences are moved past the
largest ids, and the version Parquet files are copied into the data folder (each through a
temporary file, checked against its hash). Any error rolls the transaction back and removes
the files already copied: the store stays empty.

Secret columns were not exported: restored accounts get an unusable password (to be set
again with `patrimoine user set-password`), restored API tokens an unusable hash.
"""

from __future__ import annotations

import csv
import json
import os
import shutil
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from alembic.util import CommandError
from sqlalchemy import Connection, Table, func, inspect, select, text, update
from sqlalchemy.exc import DBAPIError, StatementError

from patrimoine.core.db import Database
from patrimoine.core.errors import Conflict, Invalid, PatrimoineError, SchemaOutOfDate
from patrimoine.core.settings import Settings
from patrimoine.reversibility import formats as f
from patrimoine.reversibility.progress import ProgressSink, Silent
from patrimoine.storage import migrate
from patrimoine.storage.schema import metadata

csv.field_size_limit(1 << 30)  # JSON columns (audit details, reports) may be long


@dataclass
class ImportReport:
    tables: dict[str, int] = field(default_factory=dict)
    versions: int = 0
    accounts_to_reset: int = 0


class BadExport(Invalid):
    """The folder is not a usable export (missing, altered, other schema)."""


def import_all(settings: Settings, db: Database, folder: Path,
               progress: ProgressSink | None = None) -> ImportReport:
    progress = progress or Silent()
    folder = Path(folder)
    manifest = read_manifest(folder)
    check_empty(settings, db)
    verify_files(folder, manifest, progress)
    prepare_schema(db, manifest)
    check_empty(settings, db)
    return _restore(settings, db, folder, manifest, progress)


# --------------------------------------------------------------------------- checks


def read_manifest(folder: Path) -> dict[str, Any]:
    path = folder / f.MANIFEST
    if not folder.is_dir():
        raise BadExport(f"Le dossier « {folder} » n'existe pas.")
    if not path.is_file():
        raise BadExport(f"« {folder} » n'est pas un export Patrimoine : {f.MANIFEST} manque.")
    try:
        manifest = json.loads(path.read_text(encoding="utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise BadExport(f"Le manifeste {f.MANIFEST} est illisible : {exc}.") from exc
    if not isinstance(manifest, dict) or manifest.get("format") != f.FORMAT:
        raise BadExport(f"« {folder} » n'est pas un export Patrimoine (format inconnu).")
    if manifest.get("format_version") != f.FORMAT_VERSION:
        raise BadExport(f"Version de format d'export {manifest.get('format_version')} non prise "
                        f"en charge (attendue : {f.FORMAT_VERSION}).")
    for key, kind in (("files", dict), ("tables", dict), ("versions", list),
                      ("schema_revisions", list)):
        if not isinstance(manifest.get(key), kind):
            raise BadExport(f"Le manifeste est incomplet : « {key} » manque ou est mal formé.")
    return manifest


def verify_files(folder: Path, manifest: dict[str, Any], progress: ProgressSink) -> None:
    """Every listed file exists with its size and sha256; the tables and versions used are
    all listed."""
    files: dict[str, Any] = manifest["files"]
    needed = [f.DATAPACKAGE] + [f"{f.TABLES_DIR}/{name}.csv" for name in manifest["tables"]]
    needed += [str(v.get("file")) for v in manifest["versions"]]
    missing = [n for n in needed if n not in files]
    if missing:
        raise BadExport("Le manifeste ne couvre pas tous les fichiers de l'export.",
                        errors=[f"non listé : {n}" for n in missing])
    progress.start("Vérification des empreintes",
                   sum(int(v.get("bytes", 0)) for v in files.values()), in_bytes=True)
    problems = []
    for relative, expected in files.items():
        path = f.safe_relative(folder, relative)
        if not path.is_file():
            problems.append(f"{relative} : fichier manquant")
            continue
        if path.stat().st_size != expected.get("bytes") or \
                f.sha256_file(path) != expected.get("sha256"):
            problems.append(f"{relative} : contenu modifié (empreinte sha256 différente)")
        progress.advance(int(expected.get("bytes", 0)))
    if problems:
        raise BadExport("L'export a été modifié ou abîmé depuis sa création : rien n'a été "
                        "importé.", errors=problems)


def store_rows(db: Database) -> dict[str, int]:
    """Rows per table of the store, for the tables that exist (all zero: empty)."""
    with db.engine.connect() as conn:
        existing = set(inspect(conn).get_table_names())
        return {t.name: conn.scalar(select(func.count()).select_from(t)) or 0
                for t in metadata.sorted_tables if t.name in existing}


def check_empty(settings: Settings, db: Database) -> None:
    filled = {name: n for name, n in store_rows(db).items() if n}
    if filled:
        sample = ", ".join(f"{name} ({n})" for name, n in list(filled.items())[:5])
        raise Conflict("La base de destination n'est pas vide : import-all ne reconstruit une "
                       "instance que dans un entrepôt vide (base neuve, dossier de données "
                       f"sans versions). Tables déjà remplies : {sample}.")
    for name in f.DATA_FILES:
        if (settings.data_dir / name).exists():
            raise Conflict(f"Le dossier de données contient déjà « {name} » : import-all ne "
                           "reconstruit une instance que dans un entrepôt vide.")
    for kept, what in (("versions", "des versions"), (f.DOCUMENTS_DIR, "des documents")):
        folder = settings.data_dir / kept
        if folder.exists() and any(p.is_file() for p in folder.rglob("*")):
            raise Conflict(f"Le dossier de données contient déjà {what} ({folder}) : "
                           "import-all ne reconstruit une instance que dans un entrepôt vide.")


def prepare_schema(db: Database, manifest: dict[str, Any]) -> None:
    # Alembic records only heads (a branch another one depends on is applied unrecorded):
    # schemas are compared as the full sets of revisions applied.
    heads = migrate.head_revisions(db)
    wanted = set(manifest["schema_revisions"])
    try:
        applied = migrate.applied_revisions(db, wanted)
    except CommandError:  # a revision this code does not know
        applied = set()
    if not wanted <= applied or applied != migrate.applied_revisions(db, heads):
        raise BadExport(
            f"L'export a été fait à la révision de schéma {migrate.describe(wanted)} ; cette "
            f"version de Patrimoine est à la révision {migrate.describe(heads)}. Importez-le "
            "avec la même version de Patrimoine que celle qui l'a produit.")
    try:
        migrate.ensure_current(db)
    except SchemaOutOfDate:
        migrate.upgrade(db)  # the store is empty: bring it to the export's revision
    known = {t.name for t in metadata.sorted_tables}
    listed = set(manifest["tables"])
    if listed != known:
        raise BadExport("Les tables de l'export ne sont pas celles de cette version de "
                        "Patrimoine.", errors=[f"en trop : {n}" for n in sorted(listed - known)]
                        + [f"manquante : {n}" for n in sorted(known - listed)])


# --------------------------------------------------------------------------- restore


def _restore(settings: Settings, db: Database, folder: Path, manifest: dict[str, Any],
             progress: ProgressSink) -> ImportReport:
    report = ImportReport()
    plans = f.insertion_plan(list(metadata.sorted_tables))
    copied: list[Path] = []
    created_dirs: list[Path] = []
    try:
        with db.engine.begin() as conn:
            progress.start("Tables de la base", sum(int(n) for n in manifest["tables"].values()))
            for plan in plans:
                report.tables[plan.table.name] = _insert_table(conn, folder, plan, progress)
            for plan in plans:
                if plan.deferred:
                    _set_deferred(conn, folder, plan)
            for plan in plans:
                _check_count(conn, plan.table, manifest)
            if conn.dialect.name == "postgresql":
                _fix_sequences(conn, [p.table for p in plans])
            report.versions = _copy_versions(settings, conn, folder, manifest, copied,
                                             created_dirs, progress)
            _copy_data_files(settings, folder, manifest, copied)
            _copy_documents(settings, conn, folder, manifest, copied, created_dirs)
            report.accounts_to_reset = _accounts_without_password(conn)
    except BaseException:
        for path in copied:
            path.unlink(missing_ok=True)
        for directory in reversed(created_dirs):
            shutil.rmtree(directory, ignore_errors=True)
        raise
    return report


def _rows(folder: Path, table: Table) -> Iterator[tuple[int, dict[str, str]]]:
    relative = f"{f.TABLES_DIR}/{table.name}.csv"
    expected = [c.name for c in f.exported_columns(table)]
    with (folder / relative).open(encoding="utf-8", newline="") as fh:
        reader = csv.reader(fh)
        header = next(reader, None)
        if header != expected:
            raise BadExport(f"{relative} : les colonnes ne sont pas celles de la table "
                            f"« {table.name} ».",
                            errors=[f"attendues : {', '.join(expected)}",
                                    f"lues : {', '.join(header or [])}"])
        for line, cells in enumerate(reader, start=2):
            if len(cells) != len(expected):
                raise BadExport(f"{relative}, ligne {line} : {len(cells)} valeurs au lieu de "
                                f"{len(expected)}.")
            yield line, dict(zip(expected, cells, strict=True))


def _convert(table: Table, line: int, cells: dict[str, str]) -> dict[str, Any]:
    row: dict[str, Any] = {}
    for name, cell in cells.items():
        column = table.columns[name]
        try:
            row[name] = f.from_text(column, cell)
        except (ValueError, TypeError) as exc:
            raise BadExport(f"{f.TABLES_DIR}/{table.name}.csv, ligne {line}, colonne "
                            f"« {name} » : valeur illisible « {cell[:80]} » ({exc}).") from exc
    return row


def _insert_table(conn: Connection, folder: Path, plan: f.TablePlan,
                  progress: ProgressSink) -> int:
    table = plan.table
    secrets_ = [c for c in table.columns if f.is_secret(c)]
    batch: list[dict[str, Any]] = []
    count = 0

    def flush() -> None:
        if not batch:
            return
        try:
            conn.execute(table.insert(), batch)
        except (DBAPIError, StatementError) as exc:
            detail = str(getattr(exc, "orig", exc)).splitlines()[0][:300]
            raise BadExport(f"Les lignes de la table « {table.name} » ne s'insèrent pas : "
                            f"{detail}") from exc
        progress.advance(len(batch))
        batch.clear()

    for line, cells in _rows(folder, table):
        row = _convert(table, line, cells)
        for column in secrets_:
            row[column.name] = f.unusable_value(column)
        for name in plan.deferred:
            row[name] = None
        batch.append(row)
        count += 1
        if len(batch) >= f.BATCH:
            flush()
    flush()
    return count


def _set_deferred(conn: Connection, folder: Path, plan: f.TablePlan) -> None:
    table = plan.table
    pk = list(table.primary_key.columns)
    for line, cells in _rows(folder, table):
        if all(cells[name] == f.NULL for name in plan.deferred):
            continue
        row = _convert(table, line, cells)
        stmt = update(table).where(*(c == row[c.name] for c in pk))
        conn.execute(stmt.values({name: row[name] for name in plan.deferred}))


def _check_count(conn: Connection, table: Table, manifest: dict[str, Any]) -> None:
    stored = conn.scalar(select(func.count()).select_from(table)) or 0
    if stored != int(manifest["tables"][table.name]):
        raise BadExport(f"La table « {table.name} » compte {stored} lignes après import, le "
                        f"manifeste en annonce {manifest['tables'][table.name]}.")


def _fix_sequences(conn: Connection, tables: list[Table]) -> None:
    """Move each serial/identity sequence past the largest restored id."""
    preparer = conn.dialect.identifier_preparer
    for table in tables:
        for column in table.primary_key.columns:
            name = preparer.format_table(table)
            sequence = conn.scalar(text("SELECT pg_get_serial_sequence(:t, :c)"),
                                   {"t": name, "c": column.name})
            if sequence is None:
                continue
            top = conn.scalar(select(func.max(column)))
            if top is None:
                conn.execute(text("SELECT setval(CAST(:s AS regclass), 1, false)"),
                             {"s": sequence})
            else:
                conn.execute(text("SELECT setval(CAST(:s AS regclass), :v, true)"),
                             {"s": sequence, "v": int(top)})


def _copy_versions(settings: Settings, conn: Connection, folder: Path,
                   manifest: dict[str, Any], copied: list[Path], created_dirs: list[Path],
                   progress: ProgressSink) -> int:
    from patrimoine.datastore.models import DatasetVersion

    version_table = DatasetVersion.__table__
    listed = {int(v["id"]): v for v in manifest["versions"]}
    rows = conn.execute(select(version_table.c.id, version_table.c.path,
                               version_table.c.content_hash)
                        .order_by(version_table.c.id)).all()
    if {r.id for r in rows} != set(listed):
        raise BadExport("Les versions du manifeste ne sont pas celles de la table "
                        "dataset_version.")
    progress.start("Fichiers des versions", len(rows))
    data_dir = settings.data_dir
    data_dir.mkdir(parents=True, exist_ok=True)
    for row in rows:
        entry = listed[row.id]
        if entry.get("path") != row.path or entry.get("sha256") != row.content_hash or \
                manifest["files"][entry["file"]]["sha256"] != row.content_hash:
            raise BadExport(f"La version n°{row.id} ne correspond pas à son fichier "
                            f"({entry.get('file')}).")
        if not row.path.startswith("versions/"):
            raise BadExport(f"Chemin de version refusé : « {row.path} ».")
        source = f.safe_relative(folder, entry["file"])
        target = f.safe_relative(data_dir, row.path)
        missing = [p for p in (target.parent, *target.parent.parents)
                   if p.is_relative_to(data_dir.resolve()) and not p.exists()]
        target.parent.mkdir(parents=True, exist_ok=True)
        created_dirs.extend(sorted(missing, key=lambda p: len(p.parts)))
        if target.exists():  # two rows sharing one immutable file (same content)
            progress.advance()
            continue
        tmp = target.with_name(f".{target.name}.{os.getpid()}.tmp")
        shutil.copyfile(source, tmp)
        copied.append(tmp)
        if f.sha256_file(tmp) != row.content_hash:
            raise PatrimoineError(f"La copie de {entry['file']} est abîmée.")
        os.replace(tmp, target)
        copied.append(target)
        progress.advance()
    return len(rows)


def _copy_data_files(settings: Settings, folder: Path, manifest: dict[str, Any],
                     copied: list[Path]) -> None:
    for name, relative in dict(manifest.get("data_files") or {}).items():
        if f.DATA_FILES.get(name) != relative or relative not in manifest["files"]:
            raise BadExport(f"Fichier de données inattendu dans le manifeste : « {name} ».")
        target = f.safe_relative(settings.data_dir, name)
        if target.exists():
            raise Conflict(f"Le dossier de données contient déjà « {name} » : import-all ne "
                           "reconstruit une instance que dans un entrepôt vide.")
        tmp = target.with_name(f".{target.name}.{os.getpid()}.tmp")
        shutil.copyfile(f.safe_relative(folder, relative), tmp)
        copied.append(tmp)
        os.replace(tmp, target)
        copied.append(target)


def _copy_documents(settings: Settings, conn: Connection, folder: Path,
                    manifest: dict[str, Any], copied: list[Path], created_dirs: list[Path]
                    ) -> None:
    """Each stored document's file, checked against the content hash its row names."""
    from patrimoine.documents.models import Document

    for sha in conn.scalars(select(Document.__table__.c.sha256).distinct()):
        relative = f"{f.DOCUMENTS_DIR}/{sha[:2]}/{sha}"
        if (manifest["files"].get(relative) or {}).get("sha256") != sha:
            raise BadExport(f"Le document {relative} manque à l'export ou ne correspond pas "
                            "à son empreinte.")
        target = f.safe_relative(settings.data_dir, relative)
        if not target.parent.exists():
            created_dirs.extend(p for p in (target.parent.parent, target.parent)
                                if not p.exists())
            target.parent.mkdir(parents=True, exist_ok=True)
        tmp = target.with_name(f".{target.name}.{os.getpid()}.tmp")
        shutil.copyfile(f.safe_relative(folder, relative), tmp)
        copied.append(tmp)
        os.replace(tmp, target)
        copied.append(target)


def _accounts_without_password(conn: Connection) -> int:
    from patrimoine.access.models import Account

    return conn.scalar(select(func.count()).select_from(Account.__table__)) or 0
