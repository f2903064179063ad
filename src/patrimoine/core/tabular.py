"""One reader of the spreadsheets and CSV files people hand in, for every import.

- Workbooks (XLSX, XLS, ODS) are read with python-calamine, once `core/filelimits` has checked
  that they cannot exhaust memory; a merged cell gives its value to every cell it covers.
- CSV: the encoding is found from the byte-order mark (UTF-8, UTF-16), else UTF-8, else the
  Western code page charset-normalizer guesses (cp1252, as Windows exports French files, by
  default). A UTF-8 file with a few invalid bytes is not a cp1252 file (`Utf8Scan`): read as
  cp1252 every accented letter would silently change, so it is refused with the lines to fix
  (the datastore reads it and reports them instead). The delimiter (`;`, `,`, tab or `|`)
  comes from the shape of the first records, or from Excel's `sep=` line. Quoted cells may
  span lines.
- The header row is found below title rows with the names the caller looks for
  (`HeaderNames`); without any, it is the first row with several filled cells.
- Rows keep their number in the file (the row number a spreadsheet shows, 1-based), and
  tables the name of their sheet.

Files that cannot be read raise `Invalid` with a French message. No database, no capability:
the callers decide what the columns mean.
"""

from __future__ import annotations

import codecs
import csv
import io
import re
import zipfile
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, datetime, time
from functools import lru_cache
from typing import Any, NamedTuple

from patrimoine.core.errors import Invalid
from patrimoine.core.filelimits import check_workbook
from patrimoine.core.text import key

HEADER_SCAN_ROWS = 30  # the header row is looked for among the first rows only
DELIMITERS = (";", ",", "\t", "|")
DELIMITER_NAMES = {";": "point-virgule", ",": "virgule", "\t": "tabulation", "|": "barre verticale"}


# ---------------------------------------------------------------------------------------------
# Header names
# ---------------------------------------------------------------------------------------------

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


class HeaderNames:
    """The columns a caller looks for: each field with its names, the preferred first.

    A header matches a field when their `header_key`s are equal, or when the words before an
    unclosed bracket do ("Coût (en € TTC"). A name shared by two fields goes to the first."""

    def __init__(self, names: Mapping[str, Iterable[str]]) -> None:
        # header key -> (field, rank): the rank prefers "Direction" to "Pôle" in one file.
        self._index: dict[str, tuple[str, int]] = {}
        for field, synonyms in names.items():
            for rank, name in enumerate(synonyms):
                self._index.setdefault(header_key(name), (field, rank))

    def match(self, header: str) -> tuple[str, int] | None:
        """(field, rank of the name) of a header, or None."""
        k = header_key(header)
        if not k:
            return None
        found = self._index.get(k)
        if found is None and "(" in header:
            found = self._index.get(header_key(header.split("(")[0]))
        return found

    def field(self, header: str) -> str | None:
        found = self.match(header)
        return found[0] if found else None


# ---------------------------------------------------------------------------------------------
# Tables
# ---------------------------------------------------------------------------------------------


class Row(NamedTuple):
    line: int  # the row's number in the file or sheet, 1-based
    cells: list[Any]  # aligned on the headers; text, or workbook values when `typed`


@dataclass
class Table:
    """The cells of one sheet (or CSV file) below its header row."""

    headers: list[str]
    rows: list[Row]
    filename: str
    format: str  # "xlsx", "ods", "xls", "csv"
    sheet: str | None = None  # workbooks only
    encoding: str | None = None  # CSV only
    delimiter: str | None = None  # CSV only
    header_line: int = 1
    recognised: int = 0  # how many of the caller's fields the header row names


@dataclass(frozen=True)
class RowError:
    """A problem with one row (or cell) of an imported table; the message is French."""

    line: int
    column: str
    value: str
    message: str

    def __str__(self) -> str:
        where = f"ligne {self.line}" + (f", colonne « {self.column} »" if self.column else "")
        return f"{where[0].upper()}{where[1:]} : {self.message}"


def read_table(data: bytes, filename: str, names: HeaderNames | None = None) -> Table:
    """The table of a file: of a workbook, the sheet whose header row holds most of `names`
    (the first filled sheet on a tie)."""
    tables = read_tables(data, filename, names)
    return max(tables, key=lambda t: t.recognised)


def read_tables(data: bytes, filename: str, names: HeaderNames | None = None, *,
                typed: bool = False) -> list[Table]:
    """Every filled sheet of a workbook (one table for a CSV file).

    Cells are stripped text; with `typed`, workbook cells keep their values (numbers, dates,
    booleans, "" when empty) for callers that read them as such."""
    if not data or not data.strip():
        raise Invalid(f"Le fichier « {filename} » est vide : aucune colonne à lire.")
    fmt = _sniff_format(data, filename)
    if fmt == "csv":
        text, encoding = decode_text(data, filename)
        cells, delimiter = _parse_csv(text, filename)
        table = _table(None, cells, cells, names)
        if table is None:
            raise Invalid(f"Le fichier « {filename} » ne contient aucune donnée.")
        table.encoding, table.delimiter = encoding, delimiter
        tables = [table]
    else:
        tables = []
        for sheet, values in _read_workbook(data, filename, fmt):
            texts = [[_cell_text(v).strip() for v in row] for row in values]
            table = _table(sheet, texts, values if typed else texts, names)
            if table is not None:
                tables.append(table)
        if not tables:
            raise Invalid(f"Le classeur « {filename} » ne contient aucune feuille remplie.")
    for table in tables:
        table.filename, table.format = filename, fmt
    return tables


def _table(sheet: str | None, texts: list[list[str]], values: list[list[Any]],
           names: HeaderNames | None) -> Table | None:
    """The table of one grid, `texts` deciding what is filled; None when nothing is."""
    filled = [i for i, row in enumerate(texts) if any(row)]
    if not filled:
        return None
    header_index = _find_header_row(texts, filled, names)
    below = [i for i in filled if i > header_index]
    width = max(len(texts[i]) for i in [header_index, *below])
    headers = [" ".join(h.split()) for h in _pad(texts[header_index], width)]
    # A column with neither a header nor a value below it is spreadsheet noise.
    kept = [c for c in range(width)
            if headers[c] or any(c < len(texts[i]) and texts[i][c] for i in below)]
    every = kept == list(range(width))
    rows = []
    for i in below:
        row = values[i]
        if not every or len(row) != width:  # most rows are already right
            row = _pad(row, width)
            row = row[:width] if every else [row[c] for c in kept]
        rows.append(Row(i + 1, row))
    recognised = _recognised(headers, names)
    return Table(headers=[headers[c] for c in kept], rows=rows, filename="", format="",
                 sheet=sheet, header_line=header_index + 1, recognised=recognised)


def _pad(row: list[Any], width: int) -> list[Any]:
    return row + [""] * (width - len(row)) if len(row) < width else row


def _recognised(row: list[str], names: HeaderNames | None) -> int:
    if names is None:
        return 0
    return len({f for c in row if c and (f := names.field(c)) is not None})


def _find_header_row(texts: list[list[str]], filled: list[int],
                     names: HeaderNames | None) -> int:
    best, best_score = None, 1
    for i in filled:
        if i >= HEADER_SCAN_ROWS:
            break
        score = _recognised(texts[i], names)
        if score > best_score:
            best, best_score = i, score
    if best is not None:
        return best
    # No recognised headers: the first row with several filled cells (a title row above it
    # has one); the callers report the columns they miss.
    return next((i for i in filled if sum(1 for c in texts[i] if c) > 1), filled[0])


# ---------------------------------------------------------------------------------------------
# Workbooks
# ---------------------------------------------------------------------------------------------


def _sniff_format(data: bytes, filename: str) -> str:
    if data[:4] == b"PK\x03\x04":
        return _zip_format(data, filename)
    if data[:8] == b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1":
        return "xls"
    if filename.lower().endswith((".xlsx", ".xlsm", ".ods", ".xls")):
        raise Invalid(f"Lecture impossible du classeur « {filename} » : fichier endommagé ou "
                      "d'un autre format que celui annoncé par son extension.")
    return "csv"


def _zip_format(data: bytes, filename: str) -> str:
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
        raise Invalid(f"Lecture impossible du classeur « {filename} » : fichier endommagé "
                      "(archive illisible).") from None
    raise Invalid(f"« {filename} » est une archive ZIP, pas un classeur "
                  "(attendu : .xlsx, .ods ou .csv).")


def _read_workbook(data: bytes, filename: str, fmt: str) -> list[tuple[str, list[list[Any]]]]:
    from python_calamine import CalamineWorkbook

    check_workbook(data, filename)
    try:
        workbook = CalamineWorkbook.from_filelike(io.BytesIO(data))
        sheets = []
        for name in workbook.sheet_names:
            sheet = workbook.get_sheet_by_name(name)
            # The whole area from A1, so that row numbers and merged ranges are the sheet's.
            values = [list(row) for row in sheet.to_python(skip_empty_area=False)]
            _fill_merged(values, sheet.merged_cell_ranges or [])
            sheets.append((name, values))
    except Exception as exc:  # calamine raises several error types for broken files
        raise Invalid(f"Lecture impossible du classeur « {filename} » ({fmt.upper()}) : "
                      "fichier endommagé, protégé par mot de passe ou d'un format inconnu."
                      ) from exc
    return sheets


def _fill_merged(rows: list[list[Any]], ranges: list[Any]) -> None:
    """A merged cell (a Collectivité spanning its rows) gives its value to each cell."""
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


def _cell_text(value: Any) -> str:
    """A workbook value as people read it: 1200 not 1200.0, dates in ISO 8601."""
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


# ---------------------------------------------------------------------------------------------
# CSV
# ---------------------------------------------------------------------------------------------

# Encodings charset-normalizer may choose among when the bytes are not UTF-8: Western ones,
# as French files are.
_WESTERN = ("cp1252", "latin_1", "iso8859_15", "mac_roman")


@dataclass
class Utf8Scan:
    """What the bytes of a file say about UTF-8: how many valid non-ASCII characters and
    invalid sequences it holds, and the lines of the first invalid ones."""

    multibyte: int = 0
    invalid: int = 0
    invalid_lines: list[int] | None = None
    lines: int = 0  # line breaks seen so far
    _carry: bytes = b""

    REPORTED = 20  # lines of invalid bytes kept for messages
    STRAY = 100  # invalid sequences a UTF-8 file may hold and still be UTF-8 with stray bytes

    def feed(self, chunk: bytes, final: bool = False) -> None:
        data = self._carry + chunk
        end = len(data)
        if not final:  # a character cut by the chunk's end waits for the next chunk
            back = 0
            while back < min(3, end) and data[end - 1 - back] & 0xC0 == 0x80:
                back += 1
            if back < end and data[end - 1 - back] >= 0xC0:
                end -= back + 1
        view, pos = memoryview(data), 0
        lines = self.invalid_lines if self.invalid_lines is not None else []
        while pos < end:
            try:
                text, _ = codecs.utf_8_decode(view[pos:end], "strict", True)
                self.multibyte += end - pos - len(text)
                break
            except UnicodeDecodeError as exc:
                good, _ = codecs.utf_8_decode(view[pos:pos + exc.start], "strict", True)
                self.multibyte += exc.start - len(good)
                self.invalid += 1
                if len(lines) < self.REPORTED:
                    line = self.lines + data.count(b"\n", 0, pos + exc.start) + 1
                    if line not in lines:
                        lines.append(line)
                pos += exc.end
                if self.invalid > self.STRAY and self.invalid > self.multibyte:
                    break  # not UTF-8: no need to look further
        self.invalid_lines = lines
        self.lines += data.count(b"\n", 0, end)
        self._carry = data[end:]

    @property
    def is_utf8(self) -> bool:
        return self.invalid == 0

    @property
    def has_stray_bytes(self) -> bool:
        """UTF-8 text (accented letters written as UTF-8) with a few invalid bytes."""
        return 0 < self.invalid <= self.STRAY and self.multibyte > self.invalid

    @property
    def mixed(self) -> bool:
        """Both UTF-8 characters and many invalid bytes: two encodings in one file."""
        return self.multibyte > 0 and self.invalid > 0 and not self.has_stray_bytes

    def where(self) -> str:
        lines = self.invalid_lines or []
        shown = ", ".join(str(n) for n in lines[:10])
        return f"ligne{'s' if len(lines) > 1 else ''} {shown}" + (" …" if len(lines) > 10 else "")


def scan_utf8(data: bytes) -> Utf8Scan:
    scan = Utf8Scan()
    scan.feed(data, final=True)
    return scan


def decode_text(data: bytes, filename: str) -> tuple[str, str]:
    """The text of a file and the encoding it was in (see the module's docstring)."""
    if data.startswith(b"\xef\xbb\xbf"):
        _refuse_stray_bytes(scan_utf8(data[3:]), filename)
        return data[3:].decode("utf-8"), "utf-8-sig"
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        try:
            return data.decode("utf-16"), "utf-16"
        except UnicodeDecodeError:
            raise Invalid(f"Le fichier « {filename} » est illisible (UTF-16 invalide).") from None
    if b"\x00" in data[:4096]:
        raise Invalid(f"Le fichier « {filename} » n'est pas un fichier texte (CSV) lisible, "
                      "ni un classeur (XLSX, ODS).")
    try:
        return data.decode("utf-8"), "utf-8"
    except UnicodeDecodeError:
        _refuse_stray_bytes(scan_utf8(data), filename)
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


def _refuse_stray_bytes(scan: Utf8Scan, filename: str) -> None:
    """A UTF-8 file with invalid bytes is refused with their lines, never read as cp1252."""
    if scan.has_stray_bytes:
        raise Invalid(
            f"Le fichier « {filename} » est en UTF-8 sauf {scan.invalid} octet(s) invalide(s) "
            f"({scan.where()}) : corrigez ces caractères ou enregistrez de nouveau le fichier "
            "en UTF-8.")
    if scan.mixed:
        raise Invalid(
            f"Le fichier « {filename} » mélange deux encodages : des caractères UTF-8 et des "
            f"octets invalides en UTF-8 ({scan.where()}). Enregistrez-le de nouveau dans un "
            "seul encodage (UTF-8).")


_SEP_HINT = re.compile(r"sep=(.)\r?(?:\n|$)")


def _parse_csv(text: str, filename: str) -> tuple[list[list[str]], str]:
    hint = _SEP_HINT.match(text)
    rows: list[list[str]]
    if hint:  # Excel's hint line; it keeps its row number
        delimiter, body, rows = hint.group(1), text[hint.end():], [[]]
    else:
        delimiter, body, rows = _sniff_delimiter(text), text, []
    try:
        rows += [list(map(str.strip, row))
                 for row in csv.reader(io.StringIO(body, newline=""), delimiter=delimiter)]
    except csv.Error as exc:
        if "field larger than field limit" in str(exc):
            raise Invalid(f"Le fichier CSV « {filename} » a une cellule de plus de "
                          f"{csv.field_size_limit():,} caractères (guillemet mal fermé ?)."
                          .replace(",", "\u202f")) from None
        raise Invalid(f"Le fichier CSV « {filename} » est illisible (guillemets ou fins de "
                      "ligne incohérents).") from None
    return rows, delimiter


def _sniff_delimiter(text: str) -> str:
    """The delimiter giving the most records of one same width (above one) among the first
    sixty; records, not lines, so that quoted multi-line cells do not mislead it."""
    head = text[:65_536]
    if len(text) > len(head) and "\n" in head:
        head = head[:head.rindex("\n") + 1]
    best, best_score = ";", (-1, -1)
    for delimiter in DELIMITERS:
        widths = [w for w in _record_widths(head, delimiter) if w > 1]
        if not widths:
            continue
        mode = max(set(widths), key=widths.count)
        score = (widths.count(mode), mode)
        if score > best_score:
            best, best_score = delimiter, score
    return best


def _record_widths(head: str, delimiter: str, records: int = 60) -> list[int]:
    widths: list[int] = []
    reader = csv.reader(io.StringIO(head, newline=""), delimiter=delimiter)
    try:
        for row in reader:
            if row:
                widths.append(len(row))
                if len(widths) >= records:
                    break
    except csv.Error:  # a cell longer than the csv module accepts: judged on what was read
        pass
    return widths
