"""Validation against Table Schemas with frictionless, reported in French.

- `load_table_schema` accepts a descriptor the way the publishers wrote it. When strict
  frictionless refuses it only for its metadata (the `name` of arbres-urbains has a space and
  a capital), the fields and keys are used and a note says so; a descriptor without usable
  fields is refused with a French message. JSON Schemas (DECP, GeoJSON) are not Table Schemas:
  `validate_json_document` checks JSON documents against them instead.
- `validate_file` validates a CSV (or any file frictionless reads) and `validate_version` a
  published version: its Parquet file is written to a temporary CSV under the headers of the
  source file, then validated. Every error comes with its row, its field and the broken
  constraint, in French; at most `MAX_ERRORS` are listed (the count says when more exist).
- `custom_checks` of schema.data.gouv.fr descriptors (run there by Validata): the SIRET and
  SIREN checks are applied; any other is named in the report's notes as not checked.
- Declarations: a dataset, or one of its versions, declares a schema (`declare_schema`);
  results are kept per version and schema digest, since versions never change.
"""

from __future__ import annotations

import json
import re
import shutil
import tempfile
import time
from dataclasses import asdict, dataclass, field
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
from patrimoine.datastore import versions
from patrimoine.datastore.models import DatasetVersion
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

MAX_ERRORS = 1000
# Pages and declarations validate a version by themselves up to this size (about 7 s);
# larger ones are validated on request (the validation endpoint, or the page's button).
AUTO_VALIDATE_ROWS = 200_000

# Keys of a Table Schema that carry its structure; the rest is metadata.
_STRUCTURE_KEYS = ("fields", "primaryKey", "foreignKeys", "missingValues", "fieldsMatch")

TYPE_LABELS = {
    "string": "texte", "integer": "nombre entier", "number": "nombre", "boolean": "booléen",
    "date": "date", "datetime": "date et heure", "time": "heure", "year": "année",
    "yearmonth": "année-mois", "duration": "durée", "geopoint": "point géographique",
    "geojson": "objet GeoJSON", "object": "objet JSON", "array": "liste JSON", "any": "valeur",
}
_DEFAULT_FORMATS = {
    "date": "AAAA-MM-JJ", "datetime": "AAAA-MM-JJTHH:MM:SS", "time": "HH:MM:SS",
    "yearmonth": "AAAA-MM", "geopoint": "« lat, lon »",
}
CONSTRAINT_LABELS = {
    "required": "valeur obligatoire", "unique": "valeur unique", "pattern": "motif",
    "enum": "liste de valeurs autorisées", "minimum": "minimum", "maximum": "maximum",
    "exclusiveMinimum": "minimum exclu", "exclusiveMaximum": "maximum exclu",
    "minLength": "longueur minimale", "maxLength": "longueur maximale",
    "jsonSchema": "schéma JSON",
}
_NOTE = re.compile(r'constraint "(?P<name>\w+)" is "(?P<value>.*)"\s*$', re.S)
_TYPE_NOTE = re.compile(r'type is "(?P<type>[^/"]+)/(?P<format>[^"]*)"')


# ---------------------------------------------------------------------------------------------
# Reports
# ---------------------------------------------------------------------------------------------


@dataclass
class ValidationIssue:
    kind: str  # frictionless error type: type-error, constraint-error, missing-label...
    message: str  # French
    row: int | None = None  # position in the table, the header row being 1
    record: int | None = None  # the data row's number (1 = first row below the header)
    field: str | None = None
    field_number: int | None = None
    constraint: str | None = None  # required, pattern, enum, maximum... or "type"
    expected: str | None = None  # the constraint's value, or the expected type
    value: str | None = None  # the cell or label as written

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class ValidationReport:
    valid: bool
    schema_title: str
    error_count: int
    errors: list[ValidationIssue]
    notes: list[str] = field(default_factory=list)
    rows: int | None = None
    truncated: bool = False  # more errors exist than listed
    seconds: float = 0.0

    @property
    def error_kinds(self) -> dict[str, int]:
        counts: dict[str, int] = {}
        for e in self.errors:
            counts[e.kind] = counts.get(e.kind, 0) + 1
        return counts

    def as_dict(self) -> dict[str, Any]:
        return {
            "valid": self.valid, "schema": self.schema_title, "error_count": self.error_count,
            "listed_errors": len(self.errors), "truncated": self.truncated,
            "error_kinds": self.error_kinds, "rows": self.rows, "notes": self.notes,
            "seconds": round(self.seconds, 3), "errors": [e.as_dict() for e in self.errors],
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> ValidationReport:
        return cls(
            valid=bool(data["valid"]), schema_title=str(data.get("schema", "")),
            error_count=int(data.get("error_count", 0)),
            errors=[ValidationIssue(**e) for e in data.get("errors", [])],
            notes=list(data.get("notes", [])), rows=data.get("rows"),
            truncated=bool(data.get("truncated", False)), seconds=float(data.get("seconds", 0)),
        )


# ---------------------------------------------------------------------------------------------
# Schemas
# ---------------------------------------------------------------------------------------------


def is_table_schema(descriptor: dict[str, Any]) -> bool:
    return isinstance(descriptor.get("fields"), list)


def load_table_schema(descriptor: dict[str, Any]) -> tuple[Any, list[str]]:
    """A frictionless Schema for the descriptor, and notes on any leniency applied."""
    from frictionless import FrictionlessException, Schema

    if not is_table_schema(descriptor):
        if "json-schema.org" in str(descriptor.get("$schema", "")) or "properties" in descriptor:
            raise Invalid("Ce schéma est un JSON Schema (il décrit des documents JSON), pas un "
                          "Table Schema : il ne s'applique pas à un tableau de données.")
        raise Invalid("Ce document n'est pas un Table Schema : la liste « fields » des "
                      "colonnes est absente.")
    try:
        return Schema.from_descriptor(descriptor), []
    except FrictionlessException as strict_error:
        structure = {k: descriptor[k] for k in _STRUCTURE_KEYS if k in descriptor}
        try:
            schema = Schema.from_descriptor(structure)
        except FrictionlessException as exc:
            raise Invalid("Table Schema invalide : " + _schema_error(exc)) from None
        return schema, ["Le descripteur ne respecte pas strictement la norme Table Schema ("
                        + _schema_error(strict_error) + ") ; seules ses colonnes et ses clés "
                        "ont été utilisées."]


_PROPERTY = re.compile(r"'(?P<value>[^']*)' does not match '(?P<pattern>[^']*)' at property "
                       r"'(?P<property>[^']*)'")


def _schema_error(exc: Exception) -> str:
    """frictionless' message, in French where its shape is known."""
    text = str(exc)
    match = _PROPERTY.search(text)
    if match:
        return (f"la propriété « {match['property']} » vaut « {match['value']} », qui ne "
                f"respecte pas le motif {match['pattern']}")
    match = re.search(r"at property '([^']*)'", text)
    if match:
        return f"propriété « {match.group(1)} » invalide"
    text = re.sub(r"^\[[\w-]+\]\s*", "", text)
    return "descripteur invalide : " + text


def schema_title(descriptor: dict[str, Any], fallback: str = "Schéma déposé") -> str:
    title = descriptor.get("title") or descriptor.get("name") or fallback
    version = descriptor.get("version")
    return f"{title} ({version})" if version else str(title)


# ---------------------------------------------------------------------------------------------
# Custom checks of schema.data.gouv.fr (Validata): `custom_checks` in a descriptor
# ---------------------------------------------------------------------------------------------


def siret_is_valid(value: str) -> bool:
    """A SIRET: 14 digits passing the Luhn check (La Poste's establishments, SIREN 356000000,
    use the sum of their digits, a multiple of 5, instead)."""
    if not re.fullmatch(r"\d{14}", value):
        return False
    if value.startswith("356000000"):
        return sum(int(c) for c in value) % 5 == 0
    return _luhn(value)


def siren_is_valid(value: str) -> bool:
    """A SIREN: 9 digits passing the Luhn check."""
    return bool(re.fullmatch(r"\d{9}", value)) and _luhn(value)


def _luhn(value: str) -> bool:
    total = 0
    for i, c in enumerate(reversed(value)):
        d = int(c) * (2 if i % 2 else 1)
        total += d - 9 if d > 9 else d
    return total % 10 == 0


_IDENTIFIER_CHECKS = {
    "french-siret-value": (siret_is_valid, "numéro SIRET valide (14 chiffres dont la clé de "
                                           "contrôle est juste)", 14),
    "french-siren-value": (siren_is_valid, "numéro SIREN valide (9 chiffres dont la clé de "
                                           "contrôle est juste)", 9),
}


def _custom_checks(descriptor: dict[str, Any]) -> tuple[list[Any], list[str]]:
    """frictionless checks for the custom checks we implement, and notes for the others."""
    import attrs
    from frictionless import Check, errors

    @attrs.define(kw_only=True, repr=False)
    class FrenchIdentifierValue(Check):  # type: ignore[misc]
        type = "french-identifier-value"
        Errors = [errors.CellError]
        field_name: str
        check_name: str
        has_pattern: bool = False

        def validate_row(self, row: Any) -> Any:
            if self.field_name in row.error_cells:  # already reported as a type error
                return
            cell = row[self.field_name]
            valid, _label, digits = _IDENTIFIER_CHECKS[self.check_name]
            if cell in (None, ""):
                return
            if self.has_pattern and not re.fullmatch(rf"\d{{{digits}}}", str(cell)):
                return  # the field's own pattern reports a malformed value
            if not valid(str(cell)):
                yield errors.CellError.from_row(row, note=self.check_name,
                                                field_name=self.field_name)

    checks: list[Any] = []
    notes: list[str] = []
    fields = {str(f.get("name")): f for f in descriptor.get("fields", []) if isinstance(f, dict)}
    for check in descriptor.get("custom_checks") or []:
        if not isinstance(check, dict):
            continue
        name = str(check.get("name", ""))
        params = check.get("params") or {}
        if name in _IDENTIFIER_CHECKS and params.get("column") in fields:
            spec = fields[params["column"]]
            checks.append(FrenchIdentifierValue(
                field_name=str(params["column"]), check_name=name,
                has_pattern=bool((spec.get("constraints") or {}).get("pattern"))))
        else:
            notes.append(f"Contrôle complémentaire « {name} » du schéma non vérifié ici.")
    return checks, list(dict.fromkeys(notes))


# ---------------------------------------------------------------------------------------------
# Validating files
# ---------------------------------------------------------------------------------------------


def validate_file(path: Path | str, descriptor: dict[str, Any], *,
                  limit_errors: int = MAX_ERRORS) -> ValidationReport:
    """Validate a tabular file (CSV with any delimiter, XLSX…) against a Table Schema."""
    from frictionless import Checklist, FrictionlessException, Resource

    started = time.monotonic()
    schema, notes = load_table_schema(descriptor)
    path = Path(path)
    if not path.is_file():
        raise NotFound(f"Fichier introuvable : {path.name}")
    checks, check_notes = _custom_checks(descriptor)
    notes = notes + check_notes
    try:
        resource = Resource(path=path.name, basepath=str(path.parent), schema=schema)
        report = resource.validate(Checklist(checks=checks) if checks else None,
                                   limit_errors=limit_errors)
    except FrictionlessException as exc:
        raise Invalid(f"Le fichier « {path.name} » est illisible : {_schema_error(exc)}") \
            from None
    task = report.tasks[0] if report.tasks else None
    errors = [_issue(e) for e in [*report.errors, *(task.errors if task else [])]]
    stats = task.stats if task else {}
    count = len(errors)
    truncated = bool(task and getattr(task, "partial", False)) or count >= limit_errors
    return ValidationReport(
        valid=report.valid, schema_title=schema_title(descriptor), error_count=count,
        errors=errors[:limit_errors], notes=notes, rows=stats.get("rows"),
        truncated=truncated, seconds=time.monotonic() - started,
    )


def _issue(error: Any) -> ValidationIssue:
    kind = str(getattr(error, "type", "error"))
    row = getattr(error, "row_number", None)
    field_name = getattr(error, "field_name", None) or None
    field_number = getattr(error, "field_number", None) or None
    cell = getattr(error, "cell", None)
    label = getattr(error, "label", None)
    note = str(getattr(error, "note", "") or "")
    issue = ValidationIssue(kind=kind, message="", row=row,
                            record=row - 1 if isinstance(row, int) and row > 1 else None,
                            field=field_name, field_number=field_number,
                            value=cell if cell is not None else (label or None))
    where = f"« {field_name} »" if field_name else f"n° {field_number}"
    if kind == "type-error":
        match = _TYPE_NOTE.search(note)
        type_, fmt = (match["type"], match["format"]) if match else ("", "default")
        expected = TYPE_LABELS.get(type_, type_)
        if fmt and fmt not in ("default", "any"):
            expected += f" au format « {fmt} »"
        elif type_ in _DEFAULT_FORMATS:
            expected += f" au format {_DEFAULT_FORMATS[type_]}"
        issue.constraint, issue.expected = "type", expected
        issue.message = f"« {cell} » n'est pas une valeur de type {expected}."
    elif kind == "constraint-error":
        match = _NOTE.search(note)
        name, value = (match["name"], match["value"]) if match else ("", note)
        issue.constraint, issue.expected = name or None, value
        issue.message = _constraint_message(name, value, cell)
    elif kind == "missing-label":
        issue.message = f"La colonne {where} du schéma est absente de l'en-tête."
    elif kind == "incorrect-label":
        issue.message = (f"La colonne n° {field_number} s'appelle « {label} » ; le schéma "
                         f"attend « {field_name} » à cette place.")
    elif kind == "duplicate-label":
        issue.message = f"La colonne « {label} » (n° {field_number}) figure deux fois dans l'en-tête."
    elif kind == "blank-label":
        issue.message = f"La colonne n° {field_number} n'a pas de nom dans l'en-tête."
    elif kind == "extra-label":
        issue.message = f"La colonne « {label} » (n° {field_number}) n'est pas dans le schéma."
    elif kind == "extra-cell":
        issue.message = f"La ligne a une cellule de trop (colonne n° {field_number} : « {cell} »)."
    elif kind == "missing-cell":
        issue.message = f"La ligne n'a pas de cellule pour la colonne {where}."
    elif kind == "blank-row":
        issue.message = "La ligne est vide."
    elif kind == "cell-error" and note in _IDENTIFIER_CHECKS:
        issue.constraint, issue.expected = note, _IDENTIFIER_CHECKS[note][1]
        issue.message = f"« {cell} » n'est pas un {_IDENTIFIER_CHECKS[note][1]}."
    elif kind in ("primary-key", "unique-error"):
        issue.constraint = "unique"
        issue.message = (f"Valeur « {cell} » en double dans la colonne {where} : elle doit être "
                         "unique." if cell is not None else
                         "Cette ligne répète la clé primaire d'une ligne précédente.")
    elif kind == "foreign-key":
        issue.constraint = "foreignKey"
        issue.message = "Cette ligne ne correspond à aucune ligne de la table référencée."
    elif kind in ("encoding-error", "format-error", "source-error", "scheme-error",
                  "compression-error", "hash-count", "byte-count"):
        issue.message = f"Fichier illisible ({kind}) : {note or getattr(error, 'message', '')}"
    else:
        issue.message = f"Erreur « {kind} » : {getattr(error, 'message', note)}"
    return issue


def _constraint_message(name: str, value: str, cell: Any) -> str:
    shown = f"« {cell} »"
    if name == "required":
        return "Valeur obligatoire manquante."
    if name == "enum":
        allowed = value
        try:
            allowed = ", ".join(f"« {v} »" for v in json.loads(value.replace("'", '"')))
        except (ValueError, TypeError):
            pass
        return f"{shown} ne fait pas partie des valeurs autorisées : {allowed}."
    if name == "pattern":
        return f"{shown} ne respecte pas le motif attendu {value}."
    if name in ("minimum", "exclusiveMinimum"):
        return f"{shown} est inférieur au minimum autorisé ({value})."
    if name in ("maximum", "exclusiveMaximum"):
        return f"{shown} dépasse le maximum autorisé ({value})."
    if name == "minLength":
        return f"{shown} est trop court ({value} caractères au moins)."
    if name == "maxLength":
        return f"{shown} est trop long ({value} caractères au plus)."
    if name == "unique":
        return f"{shown} figure déjà plus haut : la valeur doit être unique."
    label = CONSTRAINT_LABELS.get(name, name)
    return f"{shown} ne respecte pas la contrainte « {label} » ({value})."


# ---------------------------------------------------------------------------------------------
# JSON documents against JSON Schemas (DECP, GeoJSON)
# ---------------------------------------------------------------------------------------------


def validate_json_document(schema: dict[str, Any], document: Any,
                           limit_errors: int = MAX_ERRORS) -> ValidationReport:
    """Validate a JSON document; references outside the document cannot be fetched offline:
    they are skipped and a note names them."""
    from jsonschema import validators
    from referencing import Registry, Resource
    from referencing.jsonschema import DRAFT7

    started = time.monotonic()
    skipped: list[str] = []

    def retrieve(uri: str) -> Resource[Any]:
        skipped.append(uri)
        return Resource.from_contents({}, default_specification=DRAFT7)

    cls = validators.validator_for(schema, default=validators.Draft7Validator)
    validator = cls(schema, registry=Registry(retrieve=retrieve))  # type: ignore[call-arg]
    errors: list[ValidationIssue] = []
    count = 0
    for error in validator.iter_errors(document):
        count += 1
        if len(errors) < limit_errors:
            where = "/".join(str(p) for p in error.absolute_path) or "(racine)"
            errors.append(ValidationIssue(
                kind="json-schema-error", field=where, constraint=str(error.validator),
                expected=json.dumps(error.validator_value, ensure_ascii=False)[:200],
                value=json.dumps(error.instance, ensure_ascii=False)[:200],
                message=f"À l'emplacement {where} : la contrainte « {error.validator} » "
                        "n'est pas respectée."))
    notes = [f"Référence externe non vérifiée (hors ligne) : {uri}" for uri in dict.fromkeys(skipped)]
    return ValidationReport(valid=count == 0, schema_title=schema_title(schema, "Schéma JSON"),
                            error_count=count, errors=errors, notes=notes,
                            truncated=count > limit_errors, seconds=time.monotonic() - started)


# ---------------------------------------------------------------------------------------------
# Versions
# ---------------------------------------------------------------------------------------------


def _quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


_TRUE_WORDS = ("oui", "vrai", "true", "1", "o", "yes")
_FALSE_WORDS = ("non", "faux", "false", "0", "n", "no")


def _literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def _boolean_words(spec: dict[str, Any]) -> tuple[str, str]:
    """How the schema spells true and false for this field."""
    if spec.get("type") == "boolean":
        trues, falses = spec.get("trueValues") or ["true"], spec.get("falseValues") or ["false"]
        return str(trues[0]), str(falses[0])
    enum = [str(v) for v in (spec.get("constraints") or {}).get("enum") or []]
    true = next((v for v in enum if v.strip().lower() in _TRUE_WORDS), "true")
    false = next((v for v in enum if v.strip().lower() in _FALSE_WORDS), "false")
    return true, false


def _rendered(name: str, type_: str, spec: dict[str, Any]) -> str:
    """SQL rendering a stored column as text the way the schema field expects it."""
    expr = _quote(name)
    fmt = str(spec.get("format") or "default")
    custom = fmt not in ("default", "any") and "%" in fmt
    if type_ == "boolean":
        true, false = _boolean_words(spec)
        return f"CASE WHEN {expr} THEN {_literal(true)} WHEN NOT {expr} THEN {_literal(false)} END"
    if type_ == "date":
        if custom:
            return f"strftime({expr}, {_literal(fmt)})"
        if spec.get("type") == "datetime":
            return f"strftime({expr}, '%Y-%m-%dT00:00:00')"
        return f"strftime({expr}, '%Y-%m-%d')"
    if type_ == "datetime":
        if custom:
            return f"strftime({expr}, {_literal(fmt)})"
        if spec.get("type") == "date":
            return f"strftime({expr}, '%Y-%m-%d')"
        return f"strftime({expr}, '%Y-%m-%dT%H:%M:%S')"
    if type_ == "number":
        text = (f"CASE WHEN isfinite({expr}) AND {expr} = trunc({expr}) AND abs({expr}) < 1e15 "
                f"THEN CAST(CAST({expr} AS BIGINT) AS VARCHAR) ELSE CAST({expr} AS VARCHAR) END")
        decimal = str(spec.get("decimalChar") or ".")
        return f"replace({text}, '.', {_literal(decimal)})" if decimal != "." else text
    return f"CAST({expr} AS VARCHAR)"


def version_as_csv(settings: Settings, version: DatasetVersion, target: Path,
                   descriptor: dict[str, Any] | None = None) -> None:
    """Write the version as CSV under the source file's headers, in record order.

    The Parquet file keeps typed values, so their spelling in the source is gone: booleans,
    dates and decimals are written the way the schema's field asks (its `trueValues`, an
    `enum` holding oui/non, its date `format`, its `decimalChar`), ISO 8601 otherwise.
    """
    import duckdb

    source = versions.version_path(settings, version)
    if not source.is_file():
        raise NotFound(f"Le fichier de la version {version.number} est introuvable.")
    specs = {str(f.get("name")): f for f in (descriptor or {}).get("fields", [])
             if isinstance(f, dict)}
    selects = []
    for column in version.columns:
        header = str(column.get("source_name") or column["name"])
        spec = specs.get(header) or specs.get(column["name"]) or {}
        selects.append(f"{_rendered(column['name'], column['type'], spec)} AS {_quote(header)}")
    con = duckdb.connect()
    try:
        con.execute("SET threads = 2")
        con.execute(
            f"COPY (SELECT {', '.join(selects)} FROM read_parquet({_literal(str(source))}) "
            f"ORDER BY _row) TO {_literal(str(target))} (HEADER, DELIMITER ',', QUOTE '\"')"
        )
    finally:
        con.close()


def validate_parquet_version(settings: Settings, version: DatasetVersion,
                             descriptor: dict[str, Any]) -> ValidationReport:
    load_table_schema(descriptor)  # refuse a non-Table Schema before any work
    workdir = Path(tempfile.mkdtemp(prefix="patrimoine-validation-"))
    try:
        path = workdir / f"version-{version.number}.csv"
        version_as_csv(settings, version, path, descriptor)
        return validate_file(path, descriptor)
    finally:
        shutil.rmtree(workdir, ignore_errors=True)


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
    report = validate_parquet_version(settings, version, declared.descriptor)
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
