"""Import of the audit spreadsheet as Troyes built it: one row per dataset.

Three steps, each usable alone:

- `read_spreadsheet` turns XLSX, ODS or CSV bytes (any common encoding and delimiter) into a
  `SpreadsheetTable`, finding the header row even below title rows;
- `plan_import` matches headers, parses French values and compares each row with the
  inventory by a natural key (organisation + department + folded title); it writes nothing;
- `apply_import` writes a valid plan through the inventory service, so history and audit are
  kept; nothing is written unless the whole file is valid.
"""

from __future__ import annotations

import csv
import io
import re
import zipfile
from functools import lru_cache
from dataclasses import dataclass, field
from datetime import date, datetime, time
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from enum import StrEnum
from typing import Any

from pydantic import ValidationError
from sqlalchemy import select
from sqlalchemy.orm import Session

from patrimoine.access import audit
from patrimoine.access.permissions import (
    can_create_organisations,
    can_edit_dataset,
    can_edit_in,
    can_import_inventory,
    require,
)
from patrimoine.access.principal import Principal
from patrimoine.core.errors import Invalid
from patrimoine.core.text import key, slugify
from patrimoine.core.values import plain
from patrimoine.core.vocabulary import accepted_words, parse
from patrimoine.inventory import service
from patrimoine.inventory.models import (
    AccessLevel,
    Dataset,
    Department,
    LifecycleStage,
    Organisation,
    OrganisationKind,
    Source,
    UpdateFrequency,
    YesNoUndefined,
)
from patrimoine.inventory.service import DatasetInput

# ---------------------------------------------------------------------------------------------
# Reading files
# ---------------------------------------------------------------------------------------------

HEADER_SCAN_ROWS = 30
_DELIMITERS = (";", ",", "\t", "|")
DELIMITER_NAMES = {";": "point-virgule", ",": "virgule", "\t": "tabulation", "|": "barre verticale"}


@dataclass
class SpreadsheetTable:
    """The cells of a spreadsheet below its header row, as text."""

    headers: list[str]
    # (line number in the spreadsheet, 1-based; cell texts aligned on headers)
    rows: list[tuple[int, list[str]]]
    filename: str
    format: str  # "xlsx", "ods", "xls", "csv"
    encoding: str | None = None  # CSV only
    delimiter: str | None = None  # CSV only
    header_line: int = 1


def read_spreadsheet(data: bytes, filename: str) -> SpreadsheetTable:
    """Read an XLSX, ODS or CSV file; raise Invalid with a French message if unreadable."""
    if not data or not data.strip():
        raise Invalid(f"Le fichier « {filename} » est vide.")
    fmt = _sniff_format(data, filename)
    encoding = delimiter = None
    if fmt == "csv":
        text, encoding = _decode(data, filename)
        cells, delimiter = _parse_csv(text)
    else:
        cells = _read_workbook(data, filename, fmt)
    cells = [[c.strip() for c in row] for row in cells]
    if not any(any(row) for row in cells):
        raise Invalid(f"Le fichier « {filename} » ne contient aucune donnée.")
    header_index = _find_header_row(cells)
    width = max(len(row) for row in cells)
    headers = [" ".join(h.split()) for h in _pad(cells[header_index], width)]
    # Trailing columns without a header and without values are spreadsheet noise.
    while headers and not headers[-1] and not any(
        len(r) >= len(headers) and r[len(headers) - 1] for r in cells[header_index + 1:]
    ):
        headers.pop()
    width = len(headers)
    rows = [
        (i + 1, _pad(row, width)[:width])
        for i, row in enumerate(cells)
        if i > header_index and any(row)
    ]
    return SpreadsheetTable(headers=headers, rows=rows, filename=filename, format=fmt,
                            encoding=encoding, delimiter=delimiter, header_line=header_index + 1)


def _pad(row: list[str], width: int) -> list[str]:
    return row + [""] * (width - len(row)) if len(row) < width else row


def _sniff_format(data: bytes, filename: str) -> str:
    name = filename.lower()
    if data[:4] == b"PK\x03\x04":
        try:
            with zipfile.ZipFile(io.BytesIO(data)) as archive:
                names = set(archive.namelist())
                if "mimetype" in names:
                    mimetype = archive.read("mimetype").decode("ascii", "replace")
                    if "opendocument.spreadsheet" in mimetype:
                        return "ods"
                    raise Invalid(f"« {filename} » est un document OpenDocument qui n'est pas "
                                  "un classeur (attendu : .ods, .xlsx ou .csv).")
                if "xl/workbook.xml" in names or "xl/workbook.bin" in names:
                    return "xlsx"
        except zipfile.BadZipFile:
            raise Invalid(f"Le classeur « {filename} » est endommagé (archive illisible).") from None
        raise Invalid(f"« {filename} » est une archive ZIP, pas un classeur "
                      "(attendu : .xlsx, .ods ou .csv).")
    if data[:8] == b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1":
        return "xls"
    if name.endswith((".xlsx", ".xlsm", ".ods", ".xls")):
        raise Invalid(f"Le classeur « {filename} » est endommagé ou n'est pas au format "
                      "annoncé par son extension.")
    return "csv"


def _cell_text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "Oui" if value else "Non"
    if isinstance(value, float):
        if value.is_integer():
            return str(int(value))
        return f"{value:.15g}"
    if isinstance(value, datetime):
        if value.time() == time(0):
            return value.date().isoformat()
        return value.isoformat(sep=" ")
    if isinstance(value, (date, time)):
        return value.isoformat()
    return str(value)


def _read_workbook(data: bytes, filename: str, fmt: str) -> list[list[str]]:
    from python_calamine import CalamineWorkbook

    try:
        workbook = CalamineWorkbook.from_filelike(io.BytesIO(data))
        for name in workbook.sheet_names:
            sheet = workbook.get_sheet_by_name(name)
            rows = [[_cell_text(v) for v in row] for row in sheet.to_python(skip_empty_area=False)]
            if any(any(c.strip() for c in row) for row in rows):
                _fill_merged(rows, sheet.merged_cell_ranges or [])
                return rows
    except Invalid:
        raise
    except Exception as exc:  # calamine raises several error types for broken files
        raise Invalid(f"Le classeur « {filename} » ({fmt.upper()}) est illisible : "
                      "fichier endommagé, protégé par mot de passe ou d'un format inconnu.") from exc
    raise Invalid(f"Le classeur « {filename} » ne contient aucune feuille remplie.")


def _fill_merged(rows: list[list[str]], ranges: list[Any]) -> None:
    """A merged cell (a Collectivité spanning its rows) gives its value to each row."""
    for (r0, c0), (r1, c1) in ranges:
        if r0 >= len(rows) or c0 >= len(rows[r0]):
            continue
        value = rows[r0][c0]
        for r in range(r0, min(r1, len(rows) - 1) + 1):
            row = rows[r]
            if len(row) <= c1:
                row.extend([""] * (c1 + 1 - len(row)))
            for c in range(c0, c1 + 1):
                row[c] = value


# Encodings tried when the bytes are not UTF-8: Western European ones, as French files are.
_WESTERN = ("cp1252", "latin_1", "iso8859_15", "mac_roman")


def _decode(data: bytes, filename: str) -> tuple[str, str]:
    if data.startswith(b"\xef\xbb\xbf"):
        return data[3:].decode("utf-8", errors="replace"), "utf-8-sig"
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        try:
            return data.decode("utf-16"), "utf-16"
        except UnicodeDecodeError:
            raise Invalid(f"Le fichier « {filename} » est illisible (UTF-16 invalide).") from None
    if b"\x00" in data[:4096]:
        raise Invalid(f"Le fichier « {filename} » n'est ni un classeur (XLSX, ODS) ni un "
                      "fichier texte CSV lisible.")
    try:
        return data.decode("utf-8"), "utf-8"
    except UnicodeDecodeError:
        pass
    guess = None
    try:
        from charset_normalizer import from_bytes

        best = from_bytes(data[:200_000], cp_isolation=list(_WESTERN)).best()
        guess = best.encoding if best is not None else None
    except Exception:  # the guess is only a hint; the fallback below always decides
        guess = None
    # Windows exports of French spreadsheets are cp1252; it is the safest Western default
    # (it differs from latin-1 only on 0x80-0x9f, where latin-1 has control characters).
    for encoding in ([guess] if guess in ("cp1252", "iso8859_15") else []) + ["cp1252"]:
        try:
            return data.decode(encoding), encoding
        except UnicodeDecodeError:
            continue
    return data.decode("latin_1"), "latin_1"


def _parse_csv(text: str) -> tuple[list[list[str]], str]:
    first, _, rest = text.partition("\n")
    if re.fullmatch(r"sep=.\r?", first):  # Excel's hint; the line keeps its number
        delimiter = first[4]
        rows = [[]] + list(csv.reader(io.StringIO(rest, newline=""), delimiter=delimiter))
        return rows, delimiter
    sample_lines = [line for line in text.splitlines()[:60] if line.strip()]
    best, best_score = ";", (-1, -1)
    for delim in _DELIMITERS:
        counts = [len(r) for r in csv.reader(io.StringIO("\n".join(sample_lines)), delimiter=delim)]
        wide = [c for c in counts if c > 1]
        if not wide:
            continue
        mode = max(set(wide), key=wide.count)
        score = (sum(1 for c in wide if c == mode), mode)
        if score > best_score:
            best, best_score = delim, score
    try:
        rows = list(csv.reader(io.StringIO(text, newline=""), delimiter=best))
    except csv.Error as exc:
        raise Invalid(f"Fichier CSV illisible : {exc}.") from exc
    return rows, best


# ---------------------------------------------------------------------------------------------
# Columns
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Column:
    field: str
    label: str  # French name shown in errors
    synonyms: tuple[str, ...]
    required: bool = False


COLUMNS: tuple[Column, ...] = (
    Column("organisation", "Collectivité", (
        "Collectivité", "Organisation", "Entité", "Structure", "Organisme", "Établissement",
        "Collectivité productrice", "Nom de la collectivité"), required=True),
    Column("department", "Direction", (
        "Direction", "Service", "Direction / Service", "Pôle", "Direction ou service",
        "Service producteur", "Direction productrice", "Département")),
    Column("title", "Nom du tableau de suivi", (
        "Nom du tableau de suivi", "Nom", "Titre", "Jeu de données", "Intitulé",
        "Tableau de suivi", "Nom du jeu de données", "Titre du jeu de données",
        "Libellé", "Nom du fichier", "Donnée", "Données", "Tableau de bord",
        "Nom du tableau de bord"), required=True),
    Column("description", "Description", (
        "Description", "Commentaire", "Commentaires", "Observations", "Remarques",
        "Détail", "Objet", "Contenu")),
    Column("theme", "Thématique", ("Thématique", "Thème", "Domaine", "Catégorie")),
    Column("source", "Source des données", (
        "Source des données", "Source", "Origine des données", "Origine",
        "Source de la donnée", "Interne / Externe")),
    Column("producer", "Producteur", (
        "Producteur", "Fournisseur", "Prestataire", "Producteur externe",
        "Source externe", "Fournisseur des données", "Détail de la source")),
    Column("sharing", "Partage des données", (
        "Partage des données", "Partage", "Partageable", "Données partagées",
        "Partage de la donnée", "Données partageables")),
    Column("confidentiality", "Confidentialité des données", (
        "Confidentialité des données", "Confidentialité", "Confidentiel",
        "Données confidentielles", "Confidentialité de la donnée")),
    Column("cost_per_year", "Coût", (
        "Coût", "Coût annuel", "Coût par an", "Coût annuel en euros", "Coût en euros",
        "Coût des données", "Budget", "Montant", "Coût de la donnée")),
    Column("update_frequency", "Fréquence de mise à jour", (
        "Fréquence de mise à jour", "Fréquence", "Mise à jour", "Périodicité",
        "Fréquence de MAJ", "Fréquence d'actualisation", "Périodicité de mise à jour",
        "Actualisation")),
    Column("access_level", "Niveau d'accès", (
        "Niveau d'accès", "Accès", "Niveau d'ouverture", "Ouverture", "Statut d'accès")),
    Column("contains_personal_data", "Données personnelles", (
        "Données personnelles", "Contient des données personnelles",
        "Données à caractère personnel", "DCP", "RGPD", "Présence de données personnelles")),
    Column("licence", "Licence", ("Licence", "License", "Licence de réutilisation")),
    Column("keywords", "Mots-clés", ("Mots-clés", "Mots clefs", "Mot-clé", "Tags", "Étiquettes")),
    Column("spatial_coverage", "Couverture géographique", (
        "Couverture géographique", "Couverture spatiale", "Territoire", "Emprise",
        "Périmètre géographique", "Zone géographique")),
    Column("temporal_start", "Début de couverture", (
        "Début de couverture", "Date de début", "Couverture temporelle début", "Début")),
    Column("temporal_end", "Fin de couverture", (
        "Fin de couverture", "Date de fin", "Couverture temporelle fin", "Fin")),
    Column("contact_name", "Contact", (
        "Contact", "Référent", "Responsable", "Interlocuteur", "Personne à contacter",
        "Nom du contact", "Référent de la donnée")),
    Column("contact_email", "Courriel du contact", (
        "Courriel du contact", "Courriel", "E-mail", "Email", "Mail", "Adresse électronique",
        "Email du contact", "Mail du contact")),
    Column("lifecycle_stage", "Cycle de vie", (
        "Cycle de vie", "Étape du cycle de vie", "Stade", "Statut", "État")),
)
COLUMN_BY_FIELD = {c.field: c for c in COLUMNS}

_STOP_WORDS = {"de", "des", "du", "la", "le", "les", "d", "l", "en", "a", "au", "aux", "et",
               "par", "nb", "n"}
_PARENTHESES = re.compile(r"\([^)]*\)|\[[^\]]*\]")


@lru_cache(maxsize=4096)
def header_key(text: str) -> str:
    """Headers compared without case, accents, spacing, punctuation, articles or plurals."""
    words = []
    for word in key(_PARENTHESES.sub(" ", text)).split():
        if word in _STOP_WORDS:
            continue
        if len(word) > 3 and word[-1] in "sx":
            word = word[:-1]
        words.append(word)
    return " ".join(words)


# header key -> (field, rank): the rank prefers "Direction" to "Pôle" when a file has both.
_HEADER_INDEX: dict[str, tuple[str, int]] = {}
for _column in COLUMNS:
    for _rank, _synonym in enumerate((*_column.synonyms, _column.field.replace("_", " "))):
        _HEADER_INDEX.setdefault(header_key(_synonym), (_column.field, _rank))


def _match(text: str) -> tuple[str, int] | None:
    k = header_key(text)
    if not k:
        return None
    found = _HEADER_INDEX.get(k)
    if found is None and "(" in text:  # "Coût (en € TTC)": the words before the brackets
        found = _HEADER_INDEX.get(header_key(text.split("(")[0]))
    return found


def match_header(text: str) -> str | None:
    """The inventory field a header names, or None."""
    found = _match(text)
    return found[0] if found else None


def _find_header_row(cells: list[list[str]]) -> int:
    best, best_score = None, 1
    for i, row in enumerate(cells[:HEADER_SCAN_ROWS]):
        score = len({f for c in row if c and (f := match_header(c)) is not None})
        if score > best_score:
            best, best_score = i, score
    if best is not None:
        return best
    # No recognised headers: the first row with several filled cells; planning reports
    # the missing columns.
    for i, row in enumerate(cells):
        if sum(1 for c in row if c) > 1:
            return i
    return next(i for i, row in enumerate(cells) if any(row))


# ---------------------------------------------------------------------------------------------
# Values
# ---------------------------------------------------------------------------------------------


class _CellError(Exception):
    """A cell whose value cannot be read; its message is French."""


@lru_cache(maxsize=4096)  # audit files repeat the same few values
def _enum_value(enum: type[StrEnum], raw: str) -> Any:
    found = parse(enum, raw)
    if found is None and "(" in raw:  # "Oui (avec l'ADEME)"
        found = parse(enum, raw.split("(")[0])
    if found is None:
        raise _CellError(f"Valeur « {raw} » non reconnue ; valeurs acceptées : "
                          f"{accepted_words(enum)}.")
    return found


@lru_cache(maxsize=4096)  # audit files repeat the same few values
def _source(raw: str) -> tuple[Source | None, str | None]:
    """'Interne/Externe', or 'Externe (Ecovélo)' / 'Externe - Ecovélo' with its producer."""
    if not raw:
        return None, None
    found = parse(Source, raw)
    if found is not None:
        return found, None
    for sep in ("(", " - ", " – ", ":", "→", "->"):
        if sep in raw:
            head, tail = raw.split(sep, 1)
            found = parse(Source, head)
            if found is not None:
                return found, tail.strip(" )") or None
    raise _CellError(f"Source « {raw} » non reconnue ; valeurs acceptées : "
                      f"{accepted_words(Source)}.")


_FREQUENCY_STEMS: tuple[tuple[str, UpdateFrequency], ...] = (
    ("temps reel", UpdateFrequency.CONTINUOUS),
    ("continu", UpdateFrequency.CONTINUOUS),
    ("quotidien", UpdateFrequency.DAILY),
    ("journalier", UpdateFrequency.DAILY),
    ("par jour", UpdateFrequency.DAILY),
    ("chaque jour", UpdateFrequency.DAILY),
    ("hebdo", UpdateFrequency.WEEKLY),
    ("semaine", UpdateFrequency.WEEKLY),
    ("bimensuel", UpdateFrequency.MONTHLY),
    ("mensuel", UpdateFrequency.MONTHLY),
    ("mois", UpdateFrequency.MONTHLY),
    ("trimest", UpdateFrequency.QUARTERLY),
    ("semest", UpdateFrequency.SEMIANNUAL),
    ("annuel", UpdateFrequency.ANNUAL),
    ("annee", UpdateFrequency.ANNUAL),
    ("an", UpdateFrequency.ANNUAL),
    ("irregulier", UpdateFrequency.IRREGULAR),
    ("demande", UpdateFrequency.IRREGULAR),
    ("besoin", UpdateFrequency.IRREGULAR),
    ("ponctuel", UpdateFrequency.PUNCTUAL),
)


@lru_cache(maxsize=4096)  # audit files repeat the same few values
def _frequency(raw: str) -> UpdateFrequency:
    found = parse(UpdateFrequency, raw)
    if found is not None:
        return found
    words = key(raw).split()
    for stem, value in _FREQUENCY_STEMS:
        if any(w.startswith(stem) if len(stem) > 3 else w == stem for w in words) or (
            " " in stem and stem in " ".join(words)
        ):
            return value
    raise _CellError(f"Fréquence « {raw} » non reconnue ; valeurs acceptées : "
                      f"{accepted_words(UpdateFrequency)}.")


_FREE = {"gratuit", "gratuite", "aucun", "neant", "nul", "0"}
_UNKNOWN_COST = {"", "nc", "n c", "na", "n a", "ne sait pas", "nsp", "inconnu", "a definir",
                 "a determiner", "a preciser", "non renseigne", "sans objet", "so"}
_NUMBER = re.compile(r"[-+]?\d[\d\s.,'’]*")
_CENT = Decimal("0.01")


@lru_cache(maxsize=4096)  # audit files repeat the same few values
def _cost(raw: str) -> Decimal | None:
    """'1 200 €', '1200,50', '1.200,50 € HT', '12 k€', 'Gratuit' -> Decimal, '' -> None."""
    k = key(raw)
    if k in _UNKNOWN_COST or raw.strip() in {"-", "–", "?"}:
        return None
    if k in _FREE:
        return Decimal("0.00")
    text = raw.replace("\u00a0", " ").replace("\u202f", " ")
    match = _NUMBER.search(text)
    rest = (text[:match.start()] + text[match.end():]) if match else text
    if match is None or re.search(r"[0-9]", rest):
        raise _CellError(f"Coût « {raw} » illisible ; écrivez un montant en euros, "
                          "par exemple « 1 200 € » ou « 1200,50 ».")
    number = re.sub(r"[\s'’]", "", match.group()).rstrip(".,")
    if "," in number and "." in number:
        # The last separator is the decimal one: 1.200,50 or 1,200.50
        if number.rfind(",") > number.rfind("."):
            number = number.replace(".", "").replace(",", ".")
        else:
            number = number.replace(",", "")
    elif "," in number:
        parts = number.split(",")
        number = number.replace(",", "") if len(parts) > 2 else number.replace(",", ".")
    elif number.count(".") > 1 or re.fullmatch(r"[-+]?\d{1,3}\.\d{3}", number):
        number = number.replace(".", "")  # 1.200 or 1.200.000: French thousands
    try:
        value = Decimal(number)
    except InvalidOperation:
        raise _CellError(f"Coût « {raw} » illisible ; écrivez un montant en euros, "
                          "par exemple « 1 200 € » ou « 1200,50 ».") from None
    lowered = rest.lower()
    if re.search(r"\bk\s*€|\bk\s*eur|\bk\b", lowered):
        value *= 1000
    if value < 0:
        raise _CellError(f"Coût « {raw} » négatif.")
    value = value.quantize(_CENT, rounding=ROUND_HALF_UP)
    if value >= Decimal("1e12"):
        raise _CellError(f"Coût « {raw} » trop élevé.")
    return value


_DATE_FORMATS = ("%d/%m/%Y", "%Y-%m-%d", "%d-%m-%Y", "%d.%m.%Y", "%d/%m/%y", "%Y-%m-%d %H:%M:%S")


def _date(raw: str, *, end: bool) -> date:
    text = raw.strip()
    if re.fullmatch(r"\d{4}", text):
        return date(int(text), 12, 31) if end else date(int(text), 1, 1)
    for fmt in _DATE_FORMATS:
        try:
            return datetime.strptime(text, fmt).date()
        except ValueError:
            continue
    raise _CellError(f"Date « {raw} » illisible ; écrivez-la JJ/MM/AAAA ou AAAA.")


_EMAIL = re.compile(r"[^@\s<>]+@[^@\s<>]+\.[^@\s<>]+")


def _keywords(raw: str) -> list[str]:
    return [w.strip() for w in re.split(r"[,;|\n]", raw) if w.strip()]


def _yes_no_bool(raw: str) -> bool | None:
    value = _enum_value(YesNoUndefined, raw)
    return {YesNoUndefined.YES: True, YesNoUndefined.NO: False}.get(value)


def _organisation_kind(name: str) -> OrganisationKind:
    k = key(name)
    compact = k.replace(" ", "")
    if "/" in name or " et " in f" {k} ":
        return OrganisationKind.OTHER
    if "metropole" in k:
        return OrganisationKind.METROPOLE
    if "agglomeration" in k or k.startswith("ca "):
        return OrganisationKind.AGGLOMERATION
    if "ccas" in compact or "cmas" in compact or "action sociale" in k:
        return OrganisationKind.CCAS
    if k.startswith("ville"):
        return OrganisationKind.VILLE
    if k.startswith(("commune", "mairie")):
        return OrganisationKind.COMMUNE
    if k.startswith(("syndicat", "sivu", "sivom")):
        return OrganisationKind.SYNDICAT
    return OrganisationKind.OTHER


@lru_cache(maxsize=4096)
def name_key(name: str) -> str:
    """Organisations and departments: 'C.M.A.S.' and 'CMAS' are one."""
    return key(name).replace(" ", "")


def _clean(text: str) -> str:
    return " ".join(text.split())


# ---------------------------------------------------------------------------------------------
# Planning
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class RowError:
    line: int
    column: str
    value: str
    message: str

    def __str__(self) -> str:
        where = f"ligne {self.line}" + (f", colonne « {self.column} »" if self.column else "")
        return f"{where[0].upper()}{where[1:]} : {self.message}"


@dataclass
class PlannedRow:
    line: int
    action: str  # "create", "update", "unchanged"
    title: str
    organisation: str
    department: str | None
    changes: dict[str, tuple[Any, Any]] = field(default_factory=dict)
    slug: str | None = None  # of the existing entry, for updates
    # What apply needs: the full field values (placement by name) and the entry to change.
    values: dict[str, Any] = field(default_factory=dict, repr=False)
    dataset_id: int | None = field(default=None, repr=False)

    def as_dict(self) -> dict[str, Any]:
        return {
            "line": self.line, "action": self.action, "title": self.title,
            "organisation": self.organisation, "department": self.department, "slug": self.slug,
            "changes": {f: [plain(old), plain(new)] for f, (old, new) in self.changes.items()},
        }


@dataclass
class ImportPlan:
    filename: str
    format: str
    encoding: str | None
    delimiter: str | None
    header_line: int
    columns: dict[str, str]  # header as written -> field
    ignored_columns: list[str]
    rows: list[PlannedRow]
    errors: list[RowError]
    new_organisations: list[str]
    new_departments: list[tuple[str, str]]  # (organisation, department)

    @property
    def counts(self) -> dict[str, int]:
        counts = {"create": 0, "update": 0, "unchanged": 0}
        for row in self.rows:
            counts[row.action] += 1
        return counts

    @property
    def ok(self) -> bool:
        return not self.errors

    def error_lines(self) -> list[str]:
        return [str(e) for e in self.errors]

    def as_dict(self) -> dict[str, Any]:
        return {
            "ok": self.ok,
            "dry_run": True,
            "filename": self.filename,
            "format": self.format,
            "encoding": self.encoding,
            "delimiter": self.delimiter,
            "header_line": self.header_line,
            "columns": self.columns,
            "ignored_columns": self.ignored_columns,
            "counts": self.counts,
            "new_organisations": self.new_organisations,
            "new_departments": [{"organisation": o, "department": d}
                                for o, d in self.new_departments],
            "rows": [r.as_dict() for r in self.rows],
            "errors": [e.__dict__ for e in self.errors],
        }


@dataclass
class ImportResult:
    filename: str
    counts: dict[str, int]
    created: list[str]  # slugs
    updated: list[str]
    new_organisations: list[str]
    new_departments: list[tuple[str, str]]

    @property
    def ok(self) -> bool:
        return True

    def as_dict(self) -> dict[str, Any]:
        return {
            "ok": True, "dry_run": False, "filename": self.filename, "counts": self.counts,
            "created": self.created, "updated": self.updated,
            "new_organisations": self.new_organisations,
            "new_departments": [{"organisation": o, "department": d}
                                for o, d in self.new_departments],
        }


class _Inventory:
    """Organisations, departments and entries, loaded in a few queries, indexed by key."""

    def __init__(self, session: Session, organisations: set[str], *,
                 with_datasets: bool = True) -> None:
        self.orgs: dict[str, Organisation] = {}
        for org in session.scalars(select(Organisation).order_by(Organisation.id)):
            self.orgs.setdefault(name_key(org.name), org)
            self.orgs.setdefault(name_key(org.slug), org)
        wanted = {o.id for k, o in self.orgs.items() if k in organisations}
        self.deps: dict[tuple[int, str], Department] = {}
        self.datasets: dict[tuple[int, int | None, str], Dataset] = {}
        if not wanted:
            return
        deps_by_id: dict[int, Department] = {}
        for dep in session.scalars(
            select(Department).where(Department.organisation_id.in_(wanted))
            .order_by(Department.id)
        ):
            deps_by_id[dep.id] = dep
            self.deps.setdefault((dep.organisation_id, name_key(dep.name)), dep)
        if not with_datasets:
            return
        for ds in session.scalars(
            select(Dataset).where(Dataset.organisation_id.in_(wanted)).order_by(Dataset.id)
        ):
            dep_key = None
            dep = deps_by_id.get(ds.department_id) if ds.department_id is not None else None
            if dep is not None:  # the first department of that name stands for all of them
                dep_key = self.deps[(dep.organisation_id, name_key(dep.name))].id
            self.datasets.setdefault((ds.organisation_id, dep_key, key(ds.title)), ds)


_FIELDS_OF_INPUT = tuple(DatasetInput.model_fields)


def plan_import(session: Session, principal: Principal, table: SpreadsheetTable) -> ImportPlan:
    """What importing `table` would do, row by row; writes nothing."""
    require(can_import_inventory(principal), principal, "importer un inventaire")
    errors: list[RowError] = []
    mapped: dict[str, str] = {}
    ignored: list[str] = []
    best: dict[str, tuple[int, int]] = {}  # field -> (rank, column index)
    for i, header in enumerate(table.headers):
        found = _match(header)
        if found is not None and (found[0] not in best or found[1] < best[found[0]][0]):
            best[found[0]] = (found[1], i)
    columns = {i: f for f, (_, i) in sorted(best.items(), key=lambda item: item[1][1])}
    for i, header in enumerate(table.headers):
        if i in columns:
            mapped[header] = columns[i]
        elif header:
            ignored.append(header)
    for column in COLUMNS:
        if column.required and column.field not in columns.values():
            errors.append(RowError(
                table.header_line, column.label, "",
                f"Colonne obligatoire introuvable : « {column.label} » (ou "
                f"{', '.join('« ' + s + ' »' for s in column.synonyms[1:4])})."))
    plan = ImportPlan(
        filename=table.filename, format=table.format, encoding=table.encoding,
        delimiter=table.delimiter, header_line=table.header_line, columns=mapped,
        ignored_columns=ignored, rows=[], errors=errors, new_organisations=[],
        new_departments=[],
    )
    if errors:
        return plan
    if not table.rows:
        errors.append(RowError(table.header_line, "", "",
                               "Le fichier ne contient aucune ligne sous les en-têtes."))
        return plan

    parsed: list[tuple[int, dict[str, str], dict[str, Any]]] = []
    for line, cells in table.rows:
        raw = {f: cells[i] for i, f in columns.items()}
        values, row_errors = _parse_row(line, raw)
        if row_errors:  # reported, and left out of the planned rows
            errors.extend(row_errors)
            continue
        parsed.append((line, raw, values))

    inventory = _Inventory(session, {name_key(raw.get("organisation", ""))
                                     for _, raw, _ in parsed})
    new_orgs: dict[str, str] = {}
    new_deps: dict[tuple[str, str], tuple[str, str]] = {}
    seen: dict[tuple[str, str, str], int] = {}
    org_label, dep_label = COLUMN_BY_FIELD["organisation"].label, COLUMN_BY_FIELD["department"].label

    for line, raw, values in parsed:
        org_name = _clean(raw.get("organisation", ""))
        dep_name = _clean(raw.get("department", "")) or None
        title = values.get("title") or _clean(raw.get("title", ""))
        if not org_name:
            errors.append(RowError(line, org_label, "", "La collectivité est obligatoire."))
            continue
        if not title:
            continue  # already reported by _parse_row
        okey, dkey = name_key(org_name), name_key(dep_name) if dep_name else ""
        natural = (okey, dkey, key(title))
        if natural in seen:
            errors.append(RowError(
                line, COLUMN_BY_FIELD["title"].label, title,
                f"Ce jeu de données figure déjà ligne {seen[natural]} (même collectivité, "
                "même direction et même nom) ; fusionnez ou renommez l'une des deux lignes."))
            continue
        seen[natural] = line

        org = inventory.orgs.get(okey)
        if org is None:
            if not can_create_organisations(principal):
                errors.append(RowError(
                    line, org_label, org_name,
                    f"Collectivité inconnue « {org_name} » ; seul un administrateur de "
                    "l'instance peut la créer."))
                continue
            new_orgs.setdefault(okey, org_name)
        dep = inventory.deps.get((org.id, dkey)) if (org is not None and dep_name) else None
        if dep_name and dep is None:
            if org is not None and not can_edit_in(principal, org.id, None):
                errors.append(RowError(
                    line, dep_label, dep_name,
                    f"Direction inconnue « {dep_name} » dans « {org.name} » ; votre compte "
                    "n'a pas le droit de la créer."))
                continue
            new_deps.setdefault((okey, dkey), (new_orgs.get(okey) or org.name, dep_name))  # type: ignore[union-attr]

        existing = None
        if org is not None and (dep is not None or not dep_name):
            existing = inventory.datasets.get((org.id, dep.id if dep else None, key(title)))
        if org is not None and dep is not None and not can_edit_in(principal, org.id, dep.id):
            errors.append(RowError(line, dep_label, dep_name or "",
                                   f"Votre compte n'a pas le droit de modifier l'inventaire de "
                                   f"« {dep.name} » ({org.name})."))
            continue
        if org is not None and dep is None and not can_edit_in(principal, org.id, None):
            errors.append(RowError(line, org_label, org_name,
                                   f"Votre compte n'a pas le droit de modifier l'inventaire de "
                                   f"« {org.name} »."))
            continue
        if existing is not None and not can_edit_dataset(principal, existing):
            errors.append(RowError(line, COLUMN_BY_FIELD["title"].label, title,
                                   "Votre compte n'a pas le droit de modifier ce jeu de données."))
            continue

        shown_org = org.name if org is not None else new_orgs[okey]
        shown_dep = dep.name if dep is not None else (
            new_deps[(okey, dkey)][1] if dep_name else None)
        if existing is None:
            changes = {f: (None, plain(v)) for f, v in values.items()
                       if v not in (None, "", [])}
            changes.setdefault("organisation", (None, shown_org))
            if shown_dep:
                changes.setdefault("department", (None, shown_dep))
            plan.rows.append(PlannedRow(line, "create", title, shown_org, shown_dep, changes,
                                        values=values))
            continue
        merged = {f: getattr(existing, f) for f in _FIELDS_OF_INPUT}
        merged.update(values)
        changes = {}
        for f in _FIELDS_OF_INPUT:
            if f in ("organisation_id", "department_id"):
                continue
            old, new = plain(getattr(existing, f)), plain(merged[f])
            if old != new and not (old in (None, "", []) and new in (None, "", [])):
                changes[f] = (old, new)
        plan.rows.append(PlannedRow(
            line, "update" if changes else "unchanged", title, shown_org, shown_dep,
            changes, slug=existing.slug, values=merged, dataset_id=existing.id))

    plan.new_organisations = list(new_orgs.values())
    plan.new_departments = list(new_deps.values())
    plan.errors.sort(key=lambda e: e.line)
    return plan


def _parse_row(line: int, raw: dict[str, str]) -> tuple[dict[str, Any], list[RowError]]:
    """The DatasetInput fields a row gives (placement excepted), and its errors."""
    values: dict[str, Any] = {}
    errors: list[RowError] = []
    for f, text in raw.items():
        text = text.strip()
        label = COLUMN_BY_FIELD[f].label
        try:
            if f in ("organisation", "department"):
                continue
            if f == "title":
                values[f] = _clean(text)
                if not text:
                    raise _CellError("Le nom du jeu de données est obligatoire.")
                if len(values[f]) > 500:
                    raise _CellError("Nom trop long (500 caractères au plus).")
            elif f == "source":
                source, producer = _source(text)
                values["source"] = source
                if producer and not raw.get("producer", "").strip():
                    values["producer"] = producer[:300]
            elif f in ("sharing", "confidentiality"):
                values[f] = _enum_value(YesNoUndefined, text)
            elif f == "access_level":
                values[f] = (_enum_value(AccessLevel, text) if text
                             else AccessLevel.INTERNAL)
            elif f == "lifecycle_stage":
                values[f] = (_enum_value(LifecycleStage, text) if text
                             else LifecycleStage.STORED)
            elif f == "update_frequency":
                values[f] = _frequency(text)
            elif f == "contains_personal_data":
                values[f] = _yes_no_bool(text)
            elif f == "cost_per_year":
                values[f] = _cost(text)
            elif f == "keywords":
                values[f] = _keywords(text)
            elif f in ("temporal_start", "temporal_end"):
                values[f] = _date(text, end=f == "temporal_end") if text else None
            elif f == "contact_name":
                email = _EMAIL.search(text)
                if email and not raw.get("contact_email", "").strip():
                    values["contact_email"] = email.group()
                    text = _clean(text.replace(email.group(), "").strip(" <>()[],;"))
                values[f] = text or None
            elif f == "contact_email":
                if text and not _EMAIL.fullmatch(text):
                    raise _CellError(f"Adresse électronique « {text} » invalide.")
                values[f] = text or None
            elif f == "description":
                values[f] = text
            else:
                values[f] = _clean(text) or None
        except _CellError as exc:
            errors.append(RowError(line, label, text, str(exc)))
    if not errors:
        errors.extend(_validate(line, values))
    if not errors and values.get("title"):
        try:  # the service's own rules, so that applying cannot fail on a value
            DatasetInput.model_validate({**values, "organisation_id": 0})
        except ValidationError as exc:
            for err in exc.errors():
                f = str(err["loc"][0]) if err.get("loc") else ""
                column = COLUMN_BY_FIELD.get(f)
                errors.append(RowError(line, column.label if column else f,
                                       raw.get(f, ""), f"Valeur refusée : {err['msg']}."))
    return values, errors


_MAX_LENGTHS = {"theme": 200, "producer": 300, "licence": 60, "spatial_coverage": 300,
                "contact_name": 200, "contact_email": 200}


def _validate(line: int, values: dict[str, Any]) -> list[RowError]:
    errors = []
    for f, limit in _MAX_LENGTHS.items():
        value = values.get(f)
        if isinstance(value, str) and len(value) > limit:
            column = COLUMN_BY_FIELD[f]
            errors.append(RowError(line, column.label, value[:60],
                                   f"Texte trop long ({limit} caractères au plus)."))
    start, end = values.get("temporal_start"), values.get("temporal_end")
    if start and end and start > end:
        errors.append(RowError(line, COLUMN_BY_FIELD["temporal_end"].label, end.isoformat(),
                               "La couverture temporelle finit avant de commencer."))
    return errors


# ---------------------------------------------------------------------------------------------
# Applying
# ---------------------------------------------------------------------------------------------


def apply_import(session: Session, principal: Principal, plan: ImportPlan) -> ImportResult:
    """Write a valid plan through the inventory service (history and audit kept).

    Raises Invalid, listing the row errors, when the plan has any: nothing is written then.
    The caller's unit of work makes the whole import one transaction.
    """
    require(can_import_inventory(principal), principal, "importer un inventaire")
    if not plan.ok:
        raise Invalid(
            f"Le fichier « {plan.filename} » contient {len(plan.errors)} erreur(s) ; "
            "rien n'a été importé. Corrigez-les puis recommencez.",
            errors=plan.error_lines(),
        )
    organisations: dict[str, Organisation] = {}
    departments: dict[tuple[int, str], Department] = {}
    wanted = {name_key(r.organisation) for r in plan.rows if r.action != "unchanged"}
    inventory = _Inventory(session, wanted, with_datasets=False)
    organisations.update(inventory.orgs)
    departments.update(inventory.deps)
    new_orgs: list[str] = []
    new_deps: list[tuple[str, str]] = []

    def organisation(name: str) -> Organisation:
        k = name_key(name)
        if k not in organisations:
            organisations[k] = service.create_organisation(
                session, principal, name=name, kind=_organisation_kind(name))
            new_orgs.append(name)
        return organisations[k]

    def department(org: Organisation, name: str | None) -> Department | None:
        if not name:
            return None
        k = (org.id, name_key(name))
        if k not in departments:
            departments[k] = service.create_department(session, principal, org, name)
            new_deps.append((org.name, name))
        return departments[k]

    to_update = [r.dataset_id for r in plan.rows if r.action == "update" and r.dataset_id]
    existing: dict[int, Dataset] = {}
    if to_update:
        existing = {d.id: d for d in session.scalars(
            select(Dataset).where(Dataset.id.in_(to_update)))}
    taken: set[str] = set(session.scalars(select(Dataset.slug)))
    created: list[str] = []
    updated: list[str] = []
    counts = {"create": 0, "update": 0, "unchanged": 0}
    try:
        for row in plan.rows:
            if row.action == "unchanged":
                counts["unchanged"] += 1
                continue
            org = organisation(row.organisation)
            dep = department(org, row.department)
            data = DatasetInput.model_validate({
                **{f: v for f, v in row.values.items() if f in _FIELDS_OF_INPUT},
                "organisation_id": org.id,
                "department_id": dep.id if dep else None,
            })
            if row.action == "create":
                slug = _free_slug(row.title, taken)
                dataset = service.create_dataset(session, principal, data, slug=slug,
                                                 action="imported")
                created.append(dataset.slug)
                counts["create"] += 1
            else:
                target = existing.get(row.dataset_id or -1)
                if target is None:
                    raise Invalid(f"Ligne {row.line} : le jeu de données « {row.title} » a été "
                                  "supprimé entre l'aperçu et l'import ; relancez l'aperçu.")
                changed = service.update_dataset(session, principal, target, data,
                                                 action="import_updated")
                counts["update" if changed else "unchanged"] += 1
                if changed:
                    updated.append(target.slug)
    except ValidationError as exc:  # values were checked while planning; kept as a safeguard
        raise Invalid("Import refusé : une valeur est invalide.",
                      errors=[str(e.get("msg")) for e in exc.errors()]) from exc
    audit.record(session, principal, "inventory.import", f"file:{plan.filename}",
                 {"counts": counts, "new_organisations": new_orgs,
                  "new_departments": [f"{o} / {d}" for o, d in new_deps]})
    session.flush()
    return ImportResult(filename=plan.filename, counts=counts, created=created, updated=updated,
                        new_organisations=new_orgs, new_departments=new_deps)


def _free_slug(title: str, taken: set[str]) -> str:
    base = slugify(title)
    slug, n = base, 2
    while slug in taken:
        slug, n = f"{base[:74]}-{n}", n + 1
    taken.add(slug)
    return slug


def import_spreadsheet(session: Session, principal: Principal, data: bytes, filename: str,
                       dry_run: bool = False) -> ImportPlan | ImportResult:
    """Read, plan and (unless dry_run) apply; a plan with errors raises Invalid when applying."""
    require(can_import_inventory(principal), principal, "importer un inventaire")
    plan = plan_import(session, principal, read_spreadsheet(data, filename))
    if dry_run:
        return plan
    return apply_import(session, principal, plan)
