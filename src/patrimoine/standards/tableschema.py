"""Table Schema and JSON Schema validation with frictionless, reported in French: the pure
library, with no database (declarations and versions are in standards/validation.py).

- `load_table_schema` accepts a descriptor the way the publishers wrote it. When strict
  frictionless refuses it only for its metadata (the `name` of arbres-urbains has a space and
  a capital), the fields and keys are used and a note says so; a descriptor without usable
  fields is refused with a French message. JSON Schemas (DECP, GeoJSON) are not Table Schemas:
  `validate_json_document` checks JSON documents against them instead.
- `validate_file` validates a CSV (or any file frictionless reads). Every error comes with
  its row, its field and the broken constraint, in French; at most `MAX_ERRORS` are listed
  (the count says when more exist).
- `custom_checks` of schema.data.gouv.fr descriptors (run there by Validata): the SIRET and
  SIREN checks are applied; any other is named in the report's notes as not checked.
"""

from __future__ import annotations

import json
import re
import time
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any

from stdnum.fr import siren, siret

from patrimoine.core.errors import Invalid, NotFound

MAX_ERRORS = 1000

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
    # The downloaded files it was found in (csv, xlsx), when files were validated together.
    in_files: tuple[str, ...] = ()

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
    # Errors per downloaded file validated ({"csv": 0, "xlsx": 0}), when files were.
    files: dict[str, int] = field(default_factory=dict)

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
            "seconds": round(self.seconds, 3), "files": self.files,
            "errors": [e.as_dict() for e in self.errors],
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> ValidationReport:
        return cls(
            valid=bool(data["valid"]), schema_title=str(data.get("schema", "")),
            error_count=int(data.get("error_count", 0)),
            errors=[ValidationIssue(**{**e, "in_files": tuple(e.get("in_files") or ())})
                    for e in data.get("errors", [])],
            notes=list(data.get("notes", [])), rows=data.get("rows"),
            truncated=bool(data.get("truncated", False)), seconds=float(data.get("seconds", 0)),
            files=dict(data.get("files") or {}),
        )


def combine_reports(reports: list[tuple[str, ValidationReport]]) -> ValidationReport:
    """One report for several files validated against the same schema (the downloads of a
    version, by format): valid when each is. An error found at the same place in several
    files (row, field, constraint) is listed and counted once, naming those files."""
    first = reports[0][1]
    merged: dict[tuple[Any, ...], ValidationIssue] = {}
    extra = 0  # errors beyond those listed, per file, that cannot be matched
    for name, report in reports:
        extra = max(extra, report.error_count - len(report.errors))
        for e in report.errors:
            key = (e.kind, e.row, e.field_number, e.constraint)
            found = merged.get(key)
            merged[key] = replace(found or e, in_files=(*(found.in_files if found else ()),
                                                        name))
    errors = list(merged.values())
    return ValidationReport(
        valid=all(r.valid for _, r in reports), schema_title=first.schema_title,
        error_count=len(errors) + extra, errors=errors[:MAX_ERRORS], notes=first.notes,
        rows=first.rows, truncated=any(r.truncated for _, r in reports) or len(errors) > MAX_ERRORS,
        seconds=sum(r.seconds for _, r in reports),
        files={name: r.error_count for name, r in reports})


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
    """A SIRET: exactly 14 digits whose key python-stdnum accepts (Luhn, or La Poste's rule)."""
    return bool(re.fullmatch(r"\d{14}", value)) and siret.is_valid(value)


def siren_is_valid(value: str) -> bool:
    """A SIREN: exactly 9 digits passing the Luhn check."""
    return bool(re.fullmatch(r"\d{9}", value)) and siren.is_valid(value)


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
    class FrenchIdentifierValue(Check):
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
    rows = task.stats.get("rows") if task else None
    count = len(errors)
    truncated = bool(task and getattr(task, "partial", False)) or count >= limit_errors
    return ValidationReport(
        valid=report.valid, schema_title=schema_title(descriptor), error_count=count,
        errors=errors[:limit_errors], notes=notes, rows=rows,
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
        issue.message = (f"La colonne « {label} » (n° {field_number}) figure deux fois dans "
                         "l'en-tête.")
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
    # `retrieve` is the init name of attrs field `_retrieve` (alias=); mypy's plugin misses it.
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
    notes = [f"Référence externe non vérifiée (hors ligne) : {uri}"
             for uri in dict.fromkeys(skipped)]
    return ValidationReport(valid=count == 0, schema_title=schema_title(schema, "Schéma JSON"),
                            error_count=count, errors=errors, notes=notes,
                            truncated=count > limit_errors, seconds=time.monotonic() - started)
