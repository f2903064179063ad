"""The register as the CNIL's spreadsheet model (XLSX and CSV), and back.

One row per processing activity, one column per field of the CNIL's "registre de base"
(plus legal basis, Art. 9 condition, sources and links, as Madis does). Cells hold French
labels; list fields hold one item per line; an item with several parts separates them by
" | ", the first part plain and the others as "label : valeur":

    Éditeur Solis | contrat : MAR-2024-017 | contact : rgpd@solis.example
    État civil, identité, données d'identification, images | durée : 5 ans
        | à compter de : la clôture du dossier | sort final : Versement aux archives
        (one line in the cell)

A "|", a line break or a backslash inside a value is written "\\|", "\\n", "\\\\". In CSV,
where a row must stay on one physical line, line breaks between items are written "\\n" too.

Importing reads the file with the core reader (core/tabular.read_table, which finds the
header row by this model's column names), matches each row to an entry by organisation and
reference, and writes nothing unless every row is valid; errors name the line and the column,
in French. Export then import gives the same register back.
"""

from __future__ import annotations

import io
from collections.abc import Callable
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from pydantic import ValidationError
from sqlalchemy import select
from sqlalchemy.orm import Session

from patrimoine.access import registers
from patrimoine.access.permissions import can_edit_register, can_read_register, require
from patrimoine.access.principal import Principal
from patrimoine.core import csvcells
from patrimoine.core.errors import Invalid
from patrimoine.core.tabular import HeaderNames, RowError, Table, read_table
from patrimoine.core.text import key
from patrimoine.core.vocabulary import accepted_words, label, parse
from patrimoine.inventory.models import Dataset, Organisation
from patrimoine.inventory.service import find_organisation
from patrimoine.protection import dpia
from patrimoine.protection.register import service
from patrimoine.protection.register.models import ProcessingActivity
from patrimoine.protection.register.service import ActivityInput
from patrimoine.protection.register.vocabulary import (
    ActivityStatus,
    Art9Condition,
    DataCategory,
    DataSource,
    DpiaCriterion,
    DurationUnit,
    FinalFate,
    LegalBasis,
    RecipientKind,
    SecurityMeasure,
    SpecialCategory,
    StartEvent,
    TransferSafeguard,
)

ALL_CATEGORIES = "Toutes les données"


class _CellError(Exception):
    """A cell that cannot be read; the message is French."""


# ---------------------------------------------------------------------------------------------
# Escaping of parts and items
# ---------------------------------------------------------------------------------------------


def _escape(text: str) -> str:
    return text.replace("\\", "\\\\").replace("|", "\\|").replace("\r\n", "\n").replace(
        "\n", "\\n")


def _split(text: str, separator: str) -> list[str]:
    """Split on `separator` ("|" or a line break) outside escapes; unescape each part."""
    parts, current, i = [], [], 0
    while i < len(text):
        c = text[i]
        if c == "\\" and i + 1 < len(text):
            nxt = text[i + 1]
            current.append({"n": "\n", "|": "|", "\\": "\\"}.get(nxt, "\\" + nxt))
            i += 2
            continue
        if c == separator:
            parts.append("".join(current))
            current = []
        else:
            current.append(c)
        i += 1
    parts.append("".join(current))
    return [p.strip() for p in parts]


def _unescape(text: str) -> str:
    return _split(text, "\n")[0] if "\\" in text else text.strip()


def _lines(cell: str) -> list[str]:
    """The items of a cell, still escaped: real line breaks always separate items."""
    return [line.strip() for line in cell.replace("\r\n", "\n").split("\n") if line.strip()]


# ---------------------------------------------------------------------------------------------
# Columns
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Part:
    """One labelled part of a structured item: "contrat : MAR-2024-017"."""

    field: str
    label: str
    enum: type[StrEnum] | None = None


@dataclass(frozen=True)
class ItemSpec:
    first: str  # the plain first part
    first_enum: type[StrEnum] | None
    parts: tuple[Part, ...]


ITEM_SPECS: dict[str, ItemSpec] = {
    "joint_controllers": ItemSpec("name", None, (Part("contact", "contact"),)),
    "processors": ItemSpec("name", None, (Part("contract_reference", "contrat"),
                                          Part("contact", "contact"))),
    "data_categories": ItemSpec("category", DataCategory, (Part("details", "détail"),)),
    "recipients": ItemSpec("name", None, (Part("kind", "type", RecipientKind),)),
    "transfers": ItemSpec("recipient", None, (
        Part("country", "pays"), Part("safeguard", "garantie", TransferSafeguard),
        Part("details", "détail"))),
    "retention_rules": ItemSpec("data_category", DataCategory, (
        Part("duration", "durée"), Part("start_event", "à compter de", StartEvent),
        Part("final_fate", "sort final", FinalFate), Part("legal_reference", "référence"))),
    "security_measures": ItemSpec("measure", SecurityMeasure, (Part("details", "détail"),)),
}


@dataclass(frozen=True)
class Column:
    field: str
    header: str
    kind: str  # text, int, bool, enum, enum_list, text_list, items, organisation, computed
    enum: type[StrEnum] | None = None
    required: bool = False
    synonyms: tuple[str, ...] = ()


COLUMNS: tuple[Column, ...] = (
    Column("organisation", "Organisation (responsable du traitement)", "organisation",
           required=True, synonyms=("Organisation", "Responsable du traitement", "Collectivité",
                                    "Organisme")),
    Column("reference", "Référence", "text", synonyms=("Identifiant", "N°", "Numéro")),
    Column("name", "Nom du traitement", "text", required=True,
           synonyms=("Traitement", "Activité de traitement", "Nom de l'activité", "Intitulé")),
    Column("status", "Statut", "enum", ActivityStatus, synonyms=("État",)),
    Column("department", "Service ou direction", "text", synonyms=("Service", "Direction")),
    Column("description", "Description", "text"),
    Column("controller_representative", "Représentant du responsable", "text"),
    Column("joint_controllers", "Responsables conjoints", "items",
           synonyms=("Responsable conjoint", "Responsables conjoints de traitement")),
    Column("processors", "Sous-traitants", "items", synonyms=("Sous-traitant",)),
    Column("dpo_name", "Délégué à la protection des données", "text",
           synonyms=("DPO", "Délégué", "DPD")),
    Column("dpo_contact", "Contact du délégué", "text", synonyms=("Contact du DPO",)),
    Column("purpose", "Finalité principale", "text", synonyms=("Finalité", "Objectif")),
    Column("sub_purposes", "Sous-finalités", "text_list", synonyms=("Sous-finalité",)),
    Column("legal_basis", "Base légale (article 6)", "enum", LegalBasis,
           synonyms=("Base légale", "Base juridique", "Fondement juridique")),
    Column("legal_basis_details", "Précisions sur la base légale", "text",
           synonyms=("Texte de référence",)),
    Column("art9_condition", "Condition de l'article 9", "enum", Art9Condition,
           synonyms=("Exception de l'article 9",)),
    Column("data_subjects", "Catégories de personnes concernées", "text_list",
           synonyms=("Personnes concernées",)),
    Column("estimated_data_subjects", "Nombre estimé de personnes concernées", "int",
           synonyms=("Nombre de personnes concernées",)),
    Column("data_categories", "Catégories de données personnelles", "items",
           synonyms=("Catégories de données", "Données traitées")),
    Column("special_categories", "Données sensibles", "enum_list", SpecialCategory,
           synonyms=("Données sensibles traitées",)),
    Column("recipients", "Destinataires", "items", synonyms=("Catégories de destinataires",)),
    Column("transfers", "Transferts hors Union européenne", "items",
           synonyms=("Transferts hors UE", "Transferts")),
    Column("retention_rules", "Durées de conservation", "items",
           synonyms=("Durée de conservation", "Durées de conservation des données")),
    Column("security_measures", "Mesures de sécurité", "items", synonyms=("Sécurité",)),
    Column("data_sources", "Source des données", "enum_list", DataSource,
           synonyms=("Sources des données", "Origine des données")),
    Column("source_details", "Précisions sur la source", "text"),
    Column("linked_datasets", "Jeux de données liés", "text_list",
           synonyms=("Jeux de données",)),
    Column("linked_applications", "Applications liées", "text_list",
           synonyms=("Logiciels", "Applications", "Logiciels et supports")),
    Column("dpia_criteria", "Critères d'analyse d'impact (AIPD)", "enum_list", DpiaCriterion,
           synonyms=("Critères AIPD", "Critères d'AIPD")),
    Column("dpia_exemption", "Motif d'exemption d'AIPD", "text",
           synonyms=("Exemption d'AIPD",)),
    Column("public", "Publié dans le registre public", "bool",
           synonyms=("Public", "Publié", "Registre public")),
    # Computed on export, ignored on import.
    Column("dpia_required", "AIPD requise", "computed"),
    Column("dpia_state", "État de l'AIPD", "computed"),
    Column("created_at", "Date de création", "computed"),
    Column("updated_at", "Date de mise à jour", "computed"),
)
COLUMN_BY_FIELD = {c.field: c for c in COLUMNS}
# The names the reader looks for to find the header row, and that importing matches.
HEADERS = HeaderNames({c.field: (c.header, *c.synonyms) for c in COLUMNS})


def match_column(header: str) -> Column | None:
    found = HEADERS.field(header)
    return COLUMN_BY_FIELD[found] if found else None


# ---------------------------------------------------------------------------------------------
# Writing cells
# ---------------------------------------------------------------------------------------------


def _retention_duration(rule: dict[str, Any]) -> str:
    return f"{rule['duration']} {label(DurationUnit(rule['unit']))}"


def _item_text(spec: ItemSpec, item: dict[str, Any], column: str) -> str:
    first = item.get(spec.first)
    if spec.first_enum is not None:
        text = label(spec.first_enum(first)) if first is not None else ALL_CATEGORIES
    else:
        text = _escape(str(first))
    parts = [text]
    for part in spec.parts:
        if column == "retention_rules" and part.field == "duration":
            parts.append(f"{part.label} : {_retention_duration(item)}")
            continue
        value = item.get(part.field)
        if value is None or value == "":
            continue
        if part.enum is not None and value in set(part.enum):
            shown = label(part.enum(value))
        else:  # free text, or a starting event written before it was a fixed list
            shown = _escape(str(value))
        parts.append(f"{part.label} : {shown}")
    return " | ".join(parts)


def cell_text(activity: ProcessingActivity, column: Column, organisation: Organisation) -> str:
    if column.kind == "organisation":
        return organisation.name
    if column.kind == "computed":
        if column.field in ("created_at", "updated_at"):
            return getattr(activity, column.field).strftime("%d/%m/%Y")
        assessment = dpia.assess(activity)
        return ("Oui" if assessment.required else "Non") if column.field == "dpia_required" \
            else assessment.label
    value = getattr(activity, column.field)
    if value is None:
        return ""
    if column.kind == "enum":
        return label(value)
    if column.kind == "int":
        return str(value)
    if column.kind == "bool":
        return "Oui" if value else "Non"
    if column.kind == "enum_list":
        assert column.enum is not None
        return "\n".join(label(column.enum(v)) for v in value)
    if column.kind == "text_list":
        return "\n".join(_escape(v) for v in value)
    if column.kind == "items":
        spec = ITEM_SPECS[column.field]
        return "\n".join(_item_text(spec, item, column.field) for item in value)
    return str(value)


def export_rows(session: Session, principal: Principal, organisation: Organisation
                ) -> tuple[list[str], list[list[str]]]:
    require(can_read_register(principal, organisation.id), principal,
            "consulter le registre de cette organisation")
    activities = service.list_activities(session, principal, organisation_id=organisation.id)
    headers = [c.header for c in COLUMNS]
    return headers, [[cell_text(a, c, organisation) for c in COLUMNS] for a in activities]


def _csv_cell(text: str) -> str:
    """One physical line per row: CSV readers guess the delimiter line by line, so line
    breaks inside a cell are written "\\n" (and a backslash "\\\\")."""
    return text.replace("\\", "\\\\").replace("\r\n", "\n").replace("\n", "\\n")


def _csv_uncell(text: str) -> str:
    out, i = [], 0
    while i < len(text):
        if text[i] == "\\" and i + 1 < len(text) and text[i + 1] in "\\n":
            out.append("\n" if text[i + 1] == "n" else "\\")
            i += 2
        else:
            out.append(text[i])
            i += 1
    return "".join(out)


def to_csv(headers: list[str], rows: list[list[str]]) -> bytes:
    """UTF-8 with a byte-order mark and semicolons, as French spreadsheets open them."""
    out = io.StringIO()
    writer = csvcells.writer(out, delimiter=";", lineterminator="\r\n")
    writer.writerow(headers)
    writer.writerows([[_csv_cell(c) for c in row] for row in rows])
    return ("\ufeff" + out.getvalue()).encode("utf-8")


def to_xlsx(headers: list[str], rows: list[list[str]], organisation: Organisation) -> bytes:
    import xlsxwriter

    buffer = io.BytesIO()
    workbook = xlsxwriter.Workbook(buffer, {"in_memory": True, "strings_to_numbers": False,
                                            "strings_to_formulas": False,
                                            "strings_to_urls": False})
    head = workbook.add_format({"bold": True, "text_wrap": True, "valign": "top",
                                "bg_color": "#DCE6F1", "border": 1})
    wrap = workbook.add_format({"text_wrap": True, "valign": "top"})
    sheet = workbook.add_worksheet("Registre")
    sheet.write_row(0, 0, headers, head)
    for r, row in enumerate(rows, start=1):
        for c, value in enumerate(row):
            sheet.write_string(r, c, value, wrap)
    for c, column in enumerate(COLUMNS):
        width = 48 if column.kind == "items" else 28 if column.kind != "computed" else 16
        sheet.set_column(c, c, width)
    sheet.freeze_panes(1, 3)
    if rows:
        sheet.autofilter(0, 0, len(rows), len(headers) - 1)

    guide = workbook.add_worksheet("Mode d'emploi")
    guide.set_column(0, 0, 40)
    guide.set_column(1, 1, 110)
    lines: list[tuple[str, str]] = [
        ("Registre des activités de traitement", f"{organisation.name} — article 30 du RGPD, "
                                                 "modèle de la CNIL"),
        ("Une ligne", "un traitement ; la référence identifie le traitement lors d'un import."),
        ("Listes", "un élément par ligne de la cellule (Alt+Entrée dans le tableur)."),
        ("Éléments structurés", "parties séparées par « | » : la première telle quelle, les "
                                "suivantes sous la forme « libellé : valeur »."),
        ("Caractères réservés", "écrire « \\| » pour une barre verticale, « \\n » pour un "
                                "retour à la ligne, « \\\\ » pour une barre oblique inverse."),
    ]
    for column in COLUMNS:
        if column.kind == "items":
            spec = ITEM_SPECS[column.field]
            parts = " | ".join(f"{p.label} : …" for p in spec.parts)
            first = ("catégorie ou « " + ALL_CATEGORIES + " »"
                     if column.field == "retention_rules" else
                     "libellé" if spec.first_enum else "nom")
            lines.append((column.header, f"{first} | {parts}"))
            for part in spec.parts:
                if part.enum is not None:
                    lines.append((f"  {part.label}", accepted_words(part.enum)))
            if spec.first_enum is not None:
                lines.append(("  première partie", accepted_words(spec.first_enum)))
            if column.field == "retention_rules":
                lines.append(("  durée", "un nombre et une unité : "
                                         + accepted_words(DurationUnit)))
        elif column.enum is not None:
            lines.append((column.header, accepted_words(column.enum)))
        elif column.kind == "computed":
            lines.append((column.header, "calculé par Patrimoine, ignoré à l'import"))
        elif column.kind == "bool":
            lines.append((column.header, "« Oui » ou « Non »"))
    for r, (a, b) in enumerate(lines):
        guide.write_string(r, 0, a, head if r == 0 else wrap)
        guide.write_string(r, 1, b, wrap)
    workbook.close()
    return buffer.getvalue()


def export_register(session: Session, principal: Principal, organisation: Organisation,
                    fmt: str) -> bytes:
    headers, rows = export_rows(session, principal, organisation)
    if fmt == "csv":
        return to_csv(headers, rows)
    if fmt == "xlsx":
        return to_xlsx(headers, rows, organisation)
    raise Invalid(f"Format « {fmt} » inconnu : choisissez xlsx ou csv.")


# ---------------------------------------------------------------------------------------------
# Reading cells
# ---------------------------------------------------------------------------------------------


def _enum(enum: type[StrEnum], raw: str) -> StrEnum:
    found = parse(enum, raw)
    if found is None:
        raise _CellError(f"valeur « {raw} » non reconnue ; valeurs acceptées : "
                         f"{accepted_words(enum)}.")
    return found


def _duration(raw: str) -> tuple[int, DurationUnit]:
    words = raw.split()
    if len(words) < 2 or not words[0].isdigit():
        raise _CellError(f"durée « {raw} » illisible ; écrivez un nombre et une unité, par "
                         "exemple « 5 ans », « 18 mois » ou « 30 jours ».")
    unit = parse(DurationUnit, " ".join(words[1:]))
    if unit is None:
        raise _CellError(f"unité « {' '.join(words[1:])} » inconnue ; unités acceptées : "
                         f"{accepted_words(DurationUnit)}.")
    return int(words[0]), unit


def _item(spec: ItemSpec, text: str, column: str) -> dict[str, Any]:
    parts = _split(text, "|")
    item: dict[str, Any] = {}
    first = parts[0]
    if spec.first_enum is not None:
        if column == "retention_rules" and key(first) == key(ALL_CATEGORIES):
            item[spec.first] = None
        else:
            item[spec.first] = _enum(spec.first_enum, first).value
    else:
        if not first:
            raise _CellError(f"élément « {text} » sans nom.")
        item[spec.first] = first
    by_label = {key(p.label): p for p in spec.parts}
    for raw in parts[1:]:
        name, sep, value = raw.partition(":")
        part = by_label.get(key(name))
        if not sep or part is None:
            expected = ", ".join(f"« {p.label} »" for p in spec.parts)
            raise _CellError(f"partie « {raw} » non reconnue ; parties acceptées : {expected}.")
        value = value.strip()
        if column == "retention_rules" and part.field == "duration":
            item["duration"], unit = _duration(value)
            item["unit"] = unit.value
        elif part.enum is not None:
            item[part.field] = _enum(part.enum, value).value
        else:
            item[part.field] = value
    if column == "retention_rules":
        missing = [p.label for p in spec.parts
                   if p.field != "legal_reference" and p.field not in item]
        if missing:
            raise _CellError(f"durée de conservation « {text} » incomplète : il manque "
                             f"{', '.join(f'« {m} »' for m in missing)} (une durée se compte "
                             "à partir d'un événement et finit par un sort final).")
    return item


def _parse_cell(column: Column, raw: str) -> Any:
    if column.kind == "text":
        return raw or None
    if column.kind == "int":
        if not raw:
            return None
        digits = raw.replace(" ", "").replace("\u00a0", "").replace("\u202f", "")
        if not digits.isdigit():
            raise _CellError(f"nombre « {raw} » illisible.")
        return int(digits)
    if column.kind == "bool":
        k = key(raw)
        if k in ("", "non", "n", "no", "faux", "0"):
            return False
        if k in ("oui", "o", "yes", "vrai", "1", "x"):
            return True
        raise _CellError(f"valeur « {raw} » non reconnue ; écrivez « Oui » ou « Non ».")
    if column.kind == "enum":
        assert column.enum is not None
        return _enum(column.enum, raw).value if raw else None
    if column.kind == "enum_list":
        assert column.enum is not None
        enum = column.enum
        words = [w for line in _lines(raw) for w in line.split(";") if w.strip()]
        return [_enum(enum, w.strip()).value for w in words]
    if column.kind == "text_list":
        return [_unescape(line) for line in _lines(raw)]
    if column.kind == "items":
        spec = ITEM_SPECS[column.field]
        return [_item(spec, line, column.field) for line in _lines(raw)]
    raise AssertionError(column.kind)


@dataclass
class PlannedActivity:
    line: int
    action: str  # create, update, unchanged
    organisation: str
    reference: str | None
    name: str
    changes: list[str] = field(default_factory=list)
    data: ActivityInput | None = field(default=None, repr=False)
    activity_id: int | None = field(default=None, repr=False)

    def as_dict(self) -> dict[str, Any]:
        return {"line": self.line, "action": self.action, "organisation": self.organisation,
                "reference": self.reference, "name": self.name, "changes": self.changes}


@dataclass
class RegisterImportPlan:
    filename: str
    format: str
    columns: dict[str, str]
    ignored_columns: list[str]
    rows: list[PlannedActivity]
    errors: list[RowError]

    @property
    def ok(self) -> bool:
        return not self.errors

    @property
    def counts(self) -> dict[str, int]:
        counts = {"create": 0, "update": 0, "unchanged": 0}
        for row in self.rows:
            counts[row.action] += 1
        return counts

    def error_lines(self) -> list[str]:
        return [str(e) for e in self.errors]

    def as_dict(self) -> dict[str, Any]:
        return {"ok": self.ok, "dry_run": True, "filename": self.filename,
                "format": self.format, "columns": self.columns,
                "ignored_columns": self.ignored_columns, "counts": self.counts,
                "rows": [r.as_dict() for r in self.rows],
                "errors": [e.__dict__ for e in self.errors]}


_PYDANTIC_FR: dict[str, Callable[[dict[str, Any]], str]] = {
    "string_too_long": lambda e: f"texte trop long ({e['ctx']['max_length']} caractères au "
                                 "plus).",
    "string_too_short": lambda e: "valeur obligatoire.",
    "greater_than_equal": lambda e: f"la valeur doit être au moins {e['ctx']['ge']}.",
    "less_than_equal": lambda e: f"la valeur doit être au plus {e['ctx']['le']}.",
    "missing": lambda e: "valeur obligatoire.",
}


def _validation_errors(line: int, exc: ValidationError) -> list[RowError]:
    out = []
    for err in exc.errors():
        loc = err.get("loc", ())
        column = COLUMN_BY_FIELD.get(str(loc[0])) if loc else None
        if err["type"] == "value_error":
            message = str(err["msg"]).removeprefix("Value error, ")
        else:
            message = _PYDANTIC_FR.get(err["type"], lambda e: f"valeur invalide ({e['msg']}).")(
                err)
        out.append(RowError(line, column.header if column else "", "", message))
    return out


def plan_register_import(session: Session, principal: Principal, data: bytes, filename: str
                         ) -> RegisterImportPlan:
    table = read_table(data, filename, HEADERS)
    positions, columns, ignored = _map_columns(table)
    planner = _Planner(session, principal)
    for line, cells in table.rows:
        values, row_errors = _row_values(table, positions, line, cells)
        planner.add(line, values, row_errors)
    return RegisterImportPlan(filename=table.filename, format=table.format, columns=columns,
                              ignored_columns=ignored, rows=planner.rows, errors=planner.errors)


def _map_columns(table: Table) -> tuple[dict[str, int], dict[str, str], list[str]]:
    """Field -> column index, header -> field, and the headers left out; Invalid when a
    required column is missing."""
    columns: dict[str, str] = {}
    positions: dict[str, int] = {}
    ignored: list[str] = []
    for i, header in enumerate(table.headers):
        column = match_column(header) if header else None
        if column is None or column.kind == "computed" or column.field in positions:
            if header:
                ignored.append(header)
            continue
        columns[header] = column.field
        positions[column.field] = i
    missing = [c.header for c in COLUMNS if c.required and c.field not in positions]
    if missing:
        raise Invalid("Colonnes obligatoires absentes : " + ", ".join(f"« {m} »" for m in missing)
                      + f" (ligne d'en-tête : {table.header_line}).")
    return positions, columns, ignored


def _row_values(table: Table, positions: dict[str, int], line: int, cells: list[str]
                ) -> tuple[dict[str, Any], list[RowError]]:
    """The values of one row by field (the organisation by name), and its cell errors."""
    values: dict[str, Any] = {}
    errors: list[RowError] = []
    for name, index in positions.items():
        column = COLUMN_BY_FIELD[name]
        raw = cells[index].strip()
        if table.format == "csv":
            raw = _csv_uncell(csvcells.restore(raw))
        if column.kind == "organisation":
            values[name] = raw
            continue
        try:
            values[name] = _parse_cell(column, raw)
        except _CellError as exc:
            errors.append(RowError(line, column.header, raw, str(exc)))
    return values, errors


class _Planner:
    """Matches each row to an entry of its organisation by reference; loads each
    organisation's entries and datasets once."""

    def __init__(self, session: Session, principal: Principal) -> None:
        self.session = session
        self.principal = principal
        self.orgs: dict[str, Organisation | None] = {}
        self.existing: dict[tuple[int, str], ProcessingActivity] = {}
        self.datasets: dict[int, set[str]] = {}
        self.taken: dict[int, set[str]] = {}
        self.seen: dict[tuple[int, str], int] = {}
        self.rows: list[PlannedActivity] = []
        self.errors: list[RowError] = []

    def add(self, line: int, values: dict[str, Any], row_errors: list[RowError]) -> None:
        org = self._organisation(line, values.pop("organisation", ""), row_errors)
        if row_errors or org is None:
            self.errors.extend(row_errors)
            return
        self._load(org)
        error = self._refusal(line, org, values)
        if error is not None:
            self.errors.append(error)
            return
        reference = values.get("reference")
        current = self.existing.get((org.id, reference)) if reference else None
        base = service.current_values(current) if current is not None else {}
        try:
            data = ActivityInput.model_validate({**base, **values, "organisation_id": org.id})
        except ValidationError as exc:
            self.errors.extend(_validation_errors(line, exc))
            return
        self.rows.append(self._planned(line, org, current, data))

    def _organisation(self, line: int, name: str, row_errors: list[RowError]
                      ) -> Organisation | None:
        """The row's organisation, if known and the principal may edit its register."""
        if name not in self.orgs:
            self.orgs[name] = find_organisation(self.session, name) if name else None
        org = self.orgs[name]
        header = COLUMN_BY_FIELD["organisation"].header
        if org is None:
            row_errors.append(RowError(line, header, name, f"organisation « {name} » inconnue."
                                       if name else "organisation obligatoire."))
        elif not can_edit_register(self.principal, org.id):
            row_errors.append(RowError(line, header, name,
                                       f"votre compte n'a pas le droit de modifier le registre "
                                       f"de « {org.name} »."))
        return org

    def _load(self, org: Organisation) -> None:
        if org.id in self.taken:  # loaded already
            return
        for a in self.session.scalars(select(ProcessingActivity).where(
                ProcessingActivity.organisation_id == org.id)):
            self.existing[(org.id, a.reference)] = a
        self.taken[org.id] = {r for (o, r) in self.existing if o == org.id}
        self.datasets[org.id] = set(self.session.scalars(select(Dataset.slug).where(
            Dataset.organisation_id == org.id)))

    def _refusal(self, line: int, org: Organisation, values: dict[str, Any]) -> RowError | None:
        """A reference used twice in the file, or datasets the inventory does not hold."""
        reference = values.get("reference")
        if reference:
            if (org.id, reference) in self.seen:
                first = self.seen[(org.id, reference)]
                return RowError(line, COLUMN_BY_FIELD["reference"].header, reference,
                                f"référence déjà utilisée ligne {first}.")
            self.seen[(org.id, reference)] = line
        unknown = [s for s in values.get("linked_datasets") or []
                   if s not in self.datasets[org.id]]
        if unknown:
            return RowError(line, COLUMN_BY_FIELD["linked_datasets"].header, ", ".join(unknown),
                            f"jeux de données absents de l'inventaire de « {org.name} ».")
        return None

    def _planned(self, line: int, org: Organisation, current: ProcessingActivity | None,
                 data: ActivityInput) -> PlannedActivity:
        if current is None:
            # A reference left blank is drawn when the row is written: the plan shows the
            # one it will be (a dry run draws nothing).
            reference = data.reference or registers.preview_reference(
                self.session, service.ACTIVITIES, org.id, self.taken[org.id])
            self.taken[org.id].add(reference)
            return PlannedActivity(line, "create", org.name, reference, data.name, data=data)
        before = service.current_values(current)
        after = data.model_dump(mode="json")
        changes = [f for f in after if before.get(f) != after[f]]
        return PlannedActivity(line, "update" if changes else "unchanged", org.name,
                               current.reference, data.name, changes, data=data,
                               activity_id=current.id)


def apply_register_import(session: Session, principal: Principal, plan: RegisterImportPlan
                          ) -> dict[str, Any]:
    if not plan.ok:
        raise Invalid(f"Le fichier « {plan.filename} » contient {len(plan.errors)} erreur(s) ; "
                      "rien n'a été importé.", errors=plan.error_lines())
    created, updated = [], []
    for row in plan.rows:
        assert row.data is not None
        if row.action == "create":
            a = service.create_activity(session, principal, row.data, action="imported")
            created.append(a.reference)
        elif row.action == "update":
            activity = session.get(ProcessingActivity, row.activity_id)
            assert activity is not None
            service.update_activity(session, principal, activity, row.data, action="imported")
            updated.append(activity.reference)
    return {"ok": True, "dry_run": False, "filename": plan.filename, "counts": plan.counts,
            "created": created, "updated": updated}


def import_register(session: Session, principal: Principal, data: bytes, filename: str,
                    dry_run: bool = False) -> dict[str, Any]:
    """Read, plan and (unless dry_run) apply; a plan with errors raises Invalid on apply."""
    require(principal.is_superadmin or not principal.is_anonymous, principal,
            "importer un registre")
    plan = plan_register_import(session, principal, data, filename)
    if dry_run:
        return plan.as_dict()
    return apply_register_import(session, principal, plan)


# ---------------------------------------------------------------------------------------------
# One field at a time (the back-office form uses the spreadsheet's cell syntax)
# ---------------------------------------------------------------------------------------------


def field_text(activity: ProcessingActivity, field_name: str) -> str:
    """A list field of an entry written as in a spreadsheet cell, one item per line."""
    column = COLUMN_BY_FIELD[field_name]
    value = getattr(activity, field_name)
    if column.kind == "text_list":
        return "\n".join(_escape(v) for v in value)
    if column.kind == "items":
        spec = ITEM_SPECS[field_name]
        return "\n".join(_item_text(spec, item, field_name) for item in value)
    raise ValueError(field_name)


def parse_field(field_name: str, raw: str) -> Any:
    """Read one field written as in a spreadsheet cell; ValueError with a French message."""
    try:
        return _parse_cell(COLUMN_BY_FIELD[field_name], raw.strip())
    except _CellError as exc:
        raise ValueError(str(exc)) from None
