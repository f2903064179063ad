"""Schemas declared on datasets, their validation on versions, and the conformity badge.

- Declarations: a dataset, or one of its versions, declares a schema (`declare_schema`);
  results are kept per version and schema digest, since versions never change.
- `download_spellings`: how downloads write a version's columns (the loaded file's headers;
  the declared schema's booleans, dates and decimals), for reading/service.py to serve.
- `validate_version` validates a published version on the files people download: its CSV
  and XLSX exports, written with those spellings (`validate_downloads`), then validated by
  standards/tableschema.py.
- `conformity`: the badge a dataset's latest version earns, validating when no result is
  kept yet (`standards.queries.conformities` reads the kept results for many datasets).
"""

from __future__ import annotations

import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from patrimoine.access import audit
from patrimoine.access.permissions import can_edit_dataset, require
from patrimoine.access.principal import Principal
from patrimoine.core.errors import Invalid, NotFound
from patrimoine.core.settings import Settings
from patrimoine.datastore import export as exports
from patrimoine.datastore import versions
from patrimoine.datastore.engine import open_version
from patrimoine.datastore.models import DatasetVersion
from patrimoine.datastore.query import Query
from patrimoine.inventory.models import Dataset
from patrimoine.standards import schemas
from patrimoine.standards.models import SchemaDeclaration, SchemaValidation
from patrimoine.standards.queries import (
    CONFORM,
    NO_DATA,
    NO_SCHEMA,
    NOT_CHECKED,
    NOT_CONFORM,
    Conformity,
)
from patrimoine.standards.schemas import schema_digest
from patrimoine.standards.tableschema import (
    ValidationReport,
    combine_reports,
    load_table_schema,
    schema_title,
    validate_file,
)

# Pages and declarations validate a version by themselves up to this size; larger ones are
# validated on request (the validation endpoint, or the page's button). Both downloads are
# written and validated (frictionless reads XLSX through openpyxl, about three times as slow
# as the CSV): 20,000 rows of SCDL subventions took 42 s (CSV 7 s, XLSX 24 s, writing both
# the rest) on 2 cores under a load average of 10, about a fifth of that on an idle machine.
AUTO_VALIDATE_ROWS = 20_000


# ---------------------------------------------------------------------------------------------
# Versions
# ---------------------------------------------------------------------------------------------


_TRUE_WORDS = ("oui", "vrai", "true", "1", "o", "yes")
_FALSE_WORDS = ("non", "faux", "false", "0", "n", "no")


def _boolean_words(spec: dict[str, Any]) -> tuple[str, str]:
    """How the schema spells true and false for this field."""
    if spec.get("type") == "boolean":
        trues, falses = spec.get("trueValues") or ["true"], spec.get("falseValues") or ["false"]
        return str(trues[0]), str(falses[0])
    enum = [str(v) for v in (spec.get("constraints") or {}).get("enum") or []]
    true = next((v for v in enum if v.strip().lower() in _TRUE_WORDS), "true")
    false = next((v for v in enum if v.strip().lower() in _FALSE_WORDS), "false")
    return true, false


def _spelling(header: str, spec: dict[str, Any]) -> exports.Spelling:
    """A column written for the schema field `spec` (its booleans' words, its date format,
    its decimal character), under `header`."""
    true, false = _boolean_words(spec)
    fmt = str(spec.get("format") or "default")
    return exports.Spelling(
        header=header, field_type=str(spec.get("type") or "string"), true=true, false=false,
        date_format=fmt if fmt not in ("default", "any") and "%" in fmt else None,
        decimal_char=str(spec.get("decimalChar") or "."))


def download_spellings(session: Session, dataset: Dataset, version: DatasetVersion,
                       names: str = "source") -> exports.Spellings:
    """How the downloads of `version` write its columns: under the headers of the loaded
    file (`names="source"`) or the technical names (`"technical"`); and the columns the
    declared schema describes (matched by source header, else technical name) with their
    values as its fields read them; under a schema, the columns ingest derived are left out.
    reading/service.py serves these; the badge checks them."""
    sources = exports.source_headers(version.columns)
    declared = declared_schema(session, dataset, version)
    specs = {str(f.get("name")): f for f in (declared.descriptor if declared else {})
             .get("fields", []) if isinstance(f, dict)}
    spellings = {}
    seen: set[str] = set()
    for column in version.columns:
        name, source = column["name"], str(column.get("source_name") or "")
        header = sources[name] if names == "source" else name
        spec = specs.get(sources[name]) or specs.get(name)
        if spec is not None:
            spellings[name] = _spelling(header, spec)
        else:
            # Under a schema, the file served has the loaded file's columns, not the
            # positions ingest derived from one of them (they share its source name).
            derived = bool(source) and source in seen
            spellings[name] = exports.Spelling(header, omitted=bool(specs) and derived)
        seen.add(source)
    return spellings


def validate_downloads(settings: Settings, version: DatasetVersion, descriptor: dict[str, Any],
                       spellings: exports.Spellings) -> ValidationReport:
    """Validate the files a download of the whole version gives, CSV and XLSX (produced by
    the same export, from the same spellings and date stamp, so the same bytes; the CSV is
    the one kept for downloads), against `descriptor`. Each error names its file."""
    load_table_schema(descriptor)  # refuse a non-Table Schema before any work
    if not versions.version_path(settings, version).is_file():
        raise NotFound(f"Le fichier de la version {version.number} est introuvable.")
    table = open_version(settings, version)
    formats = ["csv"] + (["xlsx"] if version.row_count <= exports.XLSX_MAX_ROWS else [])
    workdir = Path(tempfile.mkdtemp(prefix="patrimoine-validation-"))
    reports = []
    try:
        for fmt in formats:
            served = exports.export(table, Query(), exports.ExportRequest(
                fmt, published=versions.published_at(version)), f"version-{version.number}",
                spellings)
            path = workdir / served.filename
            with open(path, "wb") as out:
                for chunk in served.chunks:
                    out.write(chunk)
            reports.append((fmt, validate_file(path, descriptor)))
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    return combine_reports(reports)


# ---------------------------------------------------------------------------------------------
# Declarations
# ---------------------------------------------------------------------------------------------


@dataclass
class DeclaredSchema:
    declaration: SchemaDeclaration
    descriptor: dict[str, Any]
    title: str
    shipped: schemas.ShippedSchema | None

    def as_dict(self) -> dict[str, Any]:
        return {
            "schema": self.declaration.schema_name, "uploaded": self.shipped is None,
            "title": self.title,
            "version": self.declaration.version_id is not None,
            "declared_at": self.declaration.declared_at.isoformat(),
        }


def declare_schema(session: Session, principal: Principal, dataset: Dataset, *,
                   name: str | None = None, descriptor: dict[str, Any] | None = None,
                   version: DatasetVersion | None = None) -> SchemaDeclaration:
    """Declare the Table Schema of a dataset (or of one version): a shipped schema by name,
    or an uploaded descriptor. Replaces the previous declaration at the same level."""
    require(can_edit_dataset(principal, dataset), principal,
            f"déclarer le schéma de « {dataset.title} »")
    if (name is None) == (descriptor is None):
        raise Invalid("Indiquez soit le nom d'un schéma disponible, soit un schéma à déposer.")
    if version is not None and version.dataset_id != dataset.id:
        raise Invalid("Cette version n'appartient pas à ce jeu de données.")
    if name is not None:
        shipped = schemas.get_schema(name)
        document = shipped.descriptor()
        load_table_schema(document)
        title = schema_title(document, shipped.title)
        stored: dict[str, Any] | None = None
        schema_name: str | None = shipped.name
    else:
        assert descriptor is not None
        load_table_schema(descriptor)
        title, stored, schema_name = schema_title(descriptor), descriptor, None
    existing = _declaration(session, dataset, version, exact=True)
    if existing is not None:
        session.delete(existing)
        session.flush()
    declaration = SchemaDeclaration(
        dataset_id=dataset.id, version_id=version.id if version else None,
        schema_name=schema_name, descriptor=stored, title=title[:500],
        declared_by=principal.account_id,
    )
    session.add(declaration)
    audit.record(session, principal, "standards.schema_declared", f"dataset:{dataset.uid}",
                 {"schema": schema_name or "déposé", "title": title,
                  "version": version.number if version else None})
    session.flush()
    return declaration


def remove_declaration(session: Session, principal: Principal, dataset: Dataset,
                       version: DatasetVersion | None = None) -> bool:
    require(can_edit_dataset(principal, dataset), principal,
            f"retirer le schéma de « {dataset.title} »")
    existing = _declaration(session, dataset, version, exact=True)
    if existing is None:
        return False
    session.delete(existing)
    audit.record(session, principal, "standards.schema_removed", f"dataset:{dataset.uid}",
                 {"version": version.number if version else None})
    session.flush()
    return True


def _declaration(session: Session, dataset: Dataset, version: DatasetVersion | None, *,
                 exact: bool) -> SchemaDeclaration | None:
    query = select(SchemaDeclaration).where(SchemaDeclaration.dataset_id == dataset.id)
    if version is not None:
        found = session.scalar(query.where(SchemaDeclaration.version_id == version.id)
                               .order_by(SchemaDeclaration.id.desc()).limit(1))
        if found is not None or exact:
            return found
    return session.scalar(query.where(SchemaDeclaration.version_id.is_(None))
                          .order_by(SchemaDeclaration.id.desc()).limit(1))


def declared_schema(session: Session, dataset: Dataset,
                    version: DatasetVersion | None = None) -> DeclaredSchema | None:
    """The schema that applies: the version's own declaration, else the dataset's."""
    declaration = _declaration(session, dataset, version, exact=False)
    if declaration is None:
        return None
    shipped = None
    if declaration.schema_name:
        shipped = schemas.get_schema(declaration.schema_name)
        descriptor = shipped.descriptor()
    else:
        descriptor = dict(declaration.descriptor or {})
    return DeclaredSchema(declaration, descriptor, declaration.title, shipped)


def kept_report(session: Session, version: DatasetVersion) -> ValidationReport | None:
    """The kept result for the version and the schema that applies to it, if any."""
    dataset = session.get(Dataset, version.dataset_id)
    assert dataset is not None
    declared = declared_schema(session, dataset, version)
    if declared is None:
        return None
    cached = session.scalar(select(SchemaValidation).where(
        SchemaValidation.version_id == version.id,
        SchemaValidation.schema_digest == schema_digest(declared.descriptor)))
    return ValidationReport.from_dict(cached.report) if cached is not None else None


def validate_version(session: Session, settings: Settings, version: DatasetVersion, *,
                     refresh: bool = False) -> ValidationReport:
    """Validate a version against the schema that applies to it; the result is kept."""
    dataset = session.get(Dataset, version.dataset_id)
    assert dataset is not None
    declared = declared_schema(session, dataset, version)
    if declared is None:
        raise NotFound(f"Aucun schéma n'est déclaré pour « {dataset.title} » : déclarez-en un "
                       "avant de valider ses données.")
    digest = schema_digest(declared.descriptor)
    cached = session.scalar(select(SchemaValidation).where(
        SchemaValidation.version_id == version.id, SchemaValidation.schema_digest == digest))
    if cached is not None and not refresh:
        return ValidationReport.from_dict(cached.report)
    report = validate_downloads(settings, version, declared.descriptor,
                                download_spellings(session, dataset, version))
    report.schema_title = declared.title
    stored = report.as_dict()
    if cached is not None:
        cached.valid, cached.error_count, cached.truncated = (
            report.valid, report.error_count, report.truncated)
        cached.report, cached.schema_title = stored, declared.title[:500]
        session.flush()
        return report
    try:
        with session.begin_nested():
            session.add(SchemaValidation(
                version_id=version.id, schema_digest=digest, schema_title=declared.title[:500],
                valid=report.valid, error_count=report.error_count, truncated=report.truncated,
                report=stored))
    except IntegrityError:  # another process kept the same result meanwhile
        pass
    return report


# ---------------------------------------------------------------------------------------------
# Conformity (the badge; read for many datasets by standards.queries.conformities)
# ---------------------------------------------------------------------------------------------


def conformity(session: Session, dataset: Dataset,
               settings: Settings | None = None) -> Conformity:
    """Whether the latest version conforms to the declared schema (for the portal's badge).

    Reads the kept result; with `settings`, validates when no result is kept yet."""
    declared = declared_schema(session, dataset)
    version = versions.latest_version(session, dataset)
    if version is not None:
        declared = declared_schema(session, dataset, version)
    if declared is None:
        return Conformity(NO_SCHEMA)
    name = declared.declaration.schema_name
    if version is None:
        return Conformity(NO_DATA, declared.title, name)
    digest = schema_digest(declared.descriptor)
    cached = session.scalar(select(SchemaValidation).where(
        SchemaValidation.version_id == version.id, SchemaValidation.schema_digest == digest))
    if cached is None and settings is not None:
        try:
            report = validate_version(session, settings, version)
        except (Invalid, NotFound):
            return Conformity(NOT_CHECKED, declared.title, name, version.number)
        return Conformity(CONFORM if report.valid else NOT_CONFORM, declared.title, name,
                          version.number, report.error_count)
    if cached is None:
        return Conformity(NOT_CHECKED, declared.title, name, version.number)
    return Conformity(CONFORM if cached.valid else NOT_CONFORM, declared.title, name,
                      version.number, cached.error_count)
