"""Delimited text files: encoding, delimiter, title rows above the header, ragged rows.

The header is the first record with at least half the usual number of values; when its
cells look like data (a date, a decimal number, a long sentence, or mostly numbers) the file
has no header and its columns are named colonne_1…, which the plan says. A header written
with another delimiter than its rows is refused: splitting rows by the header's delimiter
would invent columns. dBase type suffixes in header cells (`Nom,C,254`) are removed.

A file in UTF-8 except for a few invalid bytes (a stray byte is common in a city's export)
is read as UTF-8, each invalid byte becoming « � », and its lines are reported with the
version; reading it as cp1252 would silently change every accented letter. A file mixing
UTF-8 and many invalid bytes (two encodings) is refused with the lines, unless the user
names the encoding.

A file whose lines end some with CRLF and some with LF (an export appended to by hand, a
blank CRLF line at the end of an LF file), or with a lone CR among them, is read through a
copy whose line ends are all made LF, as Python's `csv` reads it: DuckDB refuses such a
file without naming a line, and its lenient mode would silently drop the fields of rows too
long. The sniffed start of the file is checked; the rest only when DuckDB stops on it (no
extra pass over ordinary files).
"""

from __future__ import annotations

import codecs
import csv
import io
import re
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from patrimoine.core.errors import Invalid
from patrimoine.core.tabular import Utf8Scan

SNIFF_BYTES = 1024 * 1024
DELIMITER_SAMPLE_CHARS = 64 * 1024
CHUNK_BYTES = 4 * 1024 * 1024
DELIMITER_CANDIDATES = (";", ",", "\t", "|")
DELIMITER_LABELS = {";": "point-virgule", ",": "virgule", "\t": "tabulation",
                    "|": "barre verticale"}
# Encodings DuckDB reads directly; anything else is re-encoded to a temporary UTF-8 file.
NATIVE_ENCODINGS = ("utf-8", "utf-8-sig")

csv.field_size_limit(64 * 1024 * 1024)


def read_head(path: Path, size: int = SNIFF_BYTES) -> bytes:
    with open(path, "rb") as f:
        return f.read(size)


def detect_encoding(head: bytes) -> str:
    """UTF-8 (with or without BOM, even with a few invalid bytes), UTF-16 with BOM, else
    cp1252 (or latin-1 when not cp1252)."""
    if head.startswith(codecs.BOM_UTF8):
        return "utf-8-sig"
    if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return "utf-16"
    scan = Utf8Scan()
    scan.feed(head, final=len(head) < SNIFF_BYTES)
    if scan.is_utf8 or scan.has_stray_bytes or scan.mixed:
        return "utf-8"
    try:
        head.decode("cp1252")
        return "cp1252"
    except UnicodeDecodeError:
        return "latin-1"


def check_encoding(name: str) -> str:
    try:
        return codecs.lookup(name).name
    except LookupError:
        raise Invalid(f"Encodage inconnu : « {name} ».") from None


def scan_utf8(path: Path, limit: int | None = None) -> Utf8Scan:
    """The UTF-8 validity of the file (of its first `limit` bytes), chunk by chunk."""
    scan = Utf8Scan()
    done = 0
    with open(path, "rb") as f:
        if f.read(3) != codecs.BOM_UTF8:
            f.seek(0)
        while limit is None or done < limit:
            chunk = f.read(CHUNK_BYTES if limit is None else min(CHUNK_BYTES, limit - done))
            if not chunk:
                break
            done += len(chunk)
            scan.feed(chunk)
            if scan.invalid > scan.STRAY and scan.invalid > scan.multibyte:
                return scan  # clearly not UTF-8
    scan.feed(b"", final=limit is None or done < limit)
    return scan


def mixed_line_ends(path: Path, limit: int | None = None) -> int | None:
    """The first line ending otherwise than the file's first line, when the file (its first
    `limit` bytes) mixes two kinds of line ends among LF, CRLF and a lone CR; None when it
    does not. Counted on bytes chunk by chunk; lines are walked only in a file that mixes
    them."""
    crlf = lf = cr = 0
    for chunk, previous in _chunks(path, limit):
        lf += chunk.count(b"\n")
        if b"\r" in chunk or previous == b"\r":
            cr += chunk.count(b"\r")
            crlf += chunk.count(b"\r\n") + (previous == b"\r" and chunk[:1] == b"\n")
    if sum(1 for kind in (lf - crlf, crlf, cr - crlf) if kind) < 2:
        return None
    first: bytes | None = None
    lines = 0
    for chunk, _previous in _chunks(path, limit):
        for end in _LINE_END.finditer(chunk):
            if first is None:
                first = end.group(0)
            elif end.group(0) != first:
                return lines + 1
            lines += 1
    return None


_LINE_END = re.compile(rb"\r\n|\n|\r")


def _chunks(path: Path, limit: int | None) -> Iterator[tuple[bytes, bytes]]:
    """(chunk, last byte of the chunk before) of the file's first `limit` bytes."""
    done = 0
    previous = b""
    with open(path, "rb") as f:
        while limit is None or done < limit:
            chunk = f.read(CHUNK_BYTES if limit is None else min(CHUNK_BYTES, limit - done))
            if not chunk:
                return
            done += len(chunk)
            yield chunk, previous
            previous = chunk[-1:]


def decode_head(head: bytes, encoding: str) -> str:
    """The sample as text, cut after its last complete line."""
    text = codecs.getincrementaldecoder(encoding)(errors="replace").decode(head, final=False)
    if len(head) >= SNIFF_BYTES and "\n" in text:
        text = text[: text.rindex("\n") + 1]
    return text


def transcode(
    source: Path,
    target: Path,
    encoding: str,
    *,
    limit: int | None = None,
    progress: Callable[[float], None] | None = None,
    errors: str = "strict",
    lf_line_ends: bool = False,
) -> None:
    """Re-encode to UTF-8 chunk by chunk (bounded memory); `limit` stops after that many bytes
    at a line boundary (for samples); errors="replace" writes « � » for invalid bytes;
    `lf_line_ends` turns CRLF and a lone CR into LF (as Python's `csv` ends lines)."""
    decoder = codecs.getincrementaldecoder(encoding)(errors=errors)
    total = source.stat().st_size or 1
    done = 0
    lines_before = 0
    held = ""  # a CR at the end of a chunk, whose LF may start the next one

    def ends(text: str, final: bool) -> str:
        nonlocal held
        if not lf_line_ends:
            return text
        text = (held + text).replace("\r\n", "\n")
        held = "" if final or not text.endswith("\r") else "\r"
        return (text[:-1] if held else text).replace("\r", "\n")  # a lone CR ends a line too

    with open(source, "rb") as src, open(target, "wb") as out:
        while True:
            chunk = src.read(CHUNK_BYTES if limit is None else min(CHUNK_BYTES, limit - done))
            if not chunk:
                break
            try:
                text = decoder.decode(chunk, final=False)
            except UnicodeDecodeError as exc:
                line = lines_before + chunk[: exc.start].count(b"\n") + 1
                raise Invalid(
                    f"{source.name}, ligne {line} : octet 0x{chunk[exc.start]:02x} impossible à "
                    f"lire dans l'encodage {encoding}. Précisez le bon encodage."
                ) from None
            lines_before += chunk.count(b"\n")
            done += len(chunk)
            if limit is not None and done >= limit:
                text = ends(text, True)
                text = text[: text.rindex("\n") + 1] if "\n" in text else text
                out.write(text.encode("utf-8"))
                return
            out.write(ends(text, False).encode("utf-8"))
            if progress is not None:
                progress(done / total)
        out.write(ends(decoder.decode(b"", final=True), True).encode("utf-8"))


@dataclass
class Dialect:
    delimiter: str
    header_row: int  # 1-based physical line of the header; 0 = no header
    skip_lines: int  # physical lines before the first data row
    # Records (blank lines count as one) before the first data row: DuckDB's `skip` counts
    # records, so a header whose cells hold quoted line breaks is one record, not several.
    skip_records: int
    header: list[str]
    column_count: int
    title_rows: list[str] = field(default_factory=list)
    short_rows: list[int] = field(default_factory=list)  # line numbers (sample only)
    long_rows: list[tuple[int, int]] = field(default_factory=list)  # (line, fields)
    headerless: bool = False  # the first record held data: columns are colonne_1…
    # (line, cells) of a second header row under the header (codes, then labels).
    second_header: tuple[int, list[str]] | None = None


def _rows(text: str, delimiter: str) -> list[tuple[int, int, list[str], int]]:
    """(first line, last line, fields, records up to this one) of each non-blank record of
    the sample."""
    reader = csv.reader(io.StringIO(text), delimiter=delimiter, quotechar='"', doublequote=True)
    rows: list[tuple[int, int, list[str], int]] = []
    last = 0
    try:
        for n, row in enumerate(reader, 1):
            if row and "".join(row).strip():
                rows.append((last + 1, reader.line_num, row, n))
            last = reader.line_num
    except csv.Error:
        pass  # a quoted field cut by the end of the sample
    return rows


def _nonempty(row: list[str]) -> int:
    return sum(1 for c in row if c.strip())


_DATE = re.compile(r"\d{1,2}[/.-]\d{1,2}[/.-]\d{2,4}|\d{4}-\d{2}-\d{2}([ T].*)?")
_DECIMAL = re.compile(r"[+-]?\d[\d \u00a0\u202f]*[.,]\d+")
_NUMBER = re.compile(r"[+-]?\d[\d \u00a0\u202f.,]*")
_DBASE = re.compile(r"(.*\S)\s*,\s*[CNDLFMI]\s*,\s*\d+(?:\s*,\s*\d+)?")
LONG_CELL = 60


def looks_like_data(cells: list[str]) -> bool:
    """Header cells that are values: a date, a decimal number, a long sentence, or numbers
    in most cells (a header may name columns after years: « 2023 » alone is a name)."""
    values = [c.strip() for c in cells if c.strip()]
    if not values:
        return False
    if any(_DATE.fullmatch(v) or _DECIMAL.fullmatch(v) or len(v) > LONG_CELL for v in values):
        return True
    return len(values) > 1 and sum(1 for v in values if _NUMBER.fullmatch(v)) * 2 > len(values)


_CODE = re.compile(r"[A-Za-z_][\w.]{0,39}")  # a variable code: REG, NbMen, code_insee
SECOND_HEADER_LOOKAHEAD = 50


def is_code(cell: str) -> bool:
    return _CODE.fullmatch(cell) is not None


def is_second_header(header: list[str], data: list[list[str]]) -> bool:
    """Whether the first record under the header is a second header row: INSEE's CSV files
    write a row of variable codes (`REG`, `NbMen`), then a row of labels (« Ménages fiscaux
    »). One of the two rows holds only codes; the lower one has cells in most columns, all
    distinct, none a number or a date; and below it at least one column holds only numbers
    where it holds text. A first data row of plain words (« Total », « n.c. ») fails one of
    these, so it stays data."""
    if not header or not data:
        return False
    upper = [c.strip() for c in header if c.strip()]
    lower = data[0]
    cells = [c.strip() for c in lower if c.strip()]
    need = 1 if len(header) <= 1 else max(2, (len(header) + 1) // 2)
    if len(cells) < need or len(set(cells)) < len(cells):
        return False
    if any(_NUMBER.fullmatch(c) or _DATE.fullmatch(c) for c in cells):
        return False
    if not (all(map(is_code, upper)) or all(map(is_code, cells))):
        return False
    below = data[1:1 + SECOND_HEADER_LOOKAHEAD]
    for j, cell in enumerate(lower):
        values = [r[j].strip() for r in below if j < len(r) and r[j].strip()]
        if cell.strip() and values and all(_NUMBER.fullmatch(v) for v in values):
            return True
    return False


def header_name(cell: str) -> str:
    """A header cell without spaces around it nor a dBase type suffix (`Nom,C,254`)."""
    cell = cell.strip()
    found = _DBASE.fullmatch(cell)
    return found.group(1) if found else cell


def detect_dialect(text: str, delimiter: str | None = None,
                   header_row: int | None = None) -> Dialect:
    if delimiter is None:
        best: tuple[tuple[bool, float, int], str] | None = None
        head = text[:DELIMITER_SAMPLE_CHARS]
        if len(text) > DELIMITER_SAMPLE_CHARS and "\n" in head:
            head = head[: head.rindex("\n") + 1]
        for candidate in DELIMITER_CANDIDATES:
            rows = _rows(head, candidate)
            if not rows:
                continue
            body = rows[len(rows) // 5:] if len(rows) >= 5 else rows
            counts = Counter(len(r[2]) for r in body)
            mode, hits = counts.most_common(1)[0]
            # Where no candidate splits most rows (titles broken over bare line feeds leave
            # more one-field lines than whole records), the one that splits the most wins.
            share = hits if mode > 1 else sum(n for k, n in counts.items() if k > 1)
            # A delimiter whose fields after the first are empty in most rows does not split
            # them: `a,b,c;;` is a comma-separated record with a `;;` tail.
            filled = sum(1 for r in body if _nonempty(r[2]) > 1) * 2 >= len(body)
            score = (mode > 1 and filled, round(share / len(body), 2), mode)
            if best is None or score > best[0]:
                best = (score, candidate)
        delimiter = best[1] if best else ","
    rows = _rows(text, delimiter)
    if not rows:
        raise Invalid("Le fichier est vide : aucune ligne de données.")
    body = rows[len(rows) // 5:] if len(rows) >= 5 else rows
    mode = Counter(len(r[2]) for r in body).most_common(1)[0][0]
    title_rows: list[str] = []
    headerless = False
    second: tuple[int, list[str]] | None = None
    if header_row is None:
        need = 1 if mode <= 1 else max(2, (mode + 1) // 2)
        index = next((i for i, r in enumerate(rows) if _nonempty(r[2]) >= need), 0)
        _refuse_other_delimiter(rows[:index], delimiter, mode)
        title_rows = [" ".join(c.strip() for c in r[2] if c.strip()) for r in rows[:index]]
        header_line, header_end, header, header_records = rows[index]
        data = rows[index + 1:]
        if looks_like_data(header):
            headerless = True
            header_line, header_end, header = 0, rows[index][0] - 1, []
            header_records = rows[index][3] - 1
            data = rows[index:]
        elif is_second_header(header, [r[2] for r in data]):
            second = (data[0][0], data[0][2])
            header_end, header_records = data[0][1], data[0][3]
            data = data[1:]
    elif header_row == 0:
        header_line, header_end, header, header_records = 0, 0, [], 0
        data = rows
    else:
        found = next((i for i, r in enumerate(rows) if r[0] >= header_row), None)
        if found is None:
            raise Invalid(f"La ligne d'en-tête {header_row} est au-delà des premières lignes "
                          "lues.")
        index = found
        title_rows = [" ".join(c.strip() for c in r[2] if c.strip()) for r in rows[:index]]
        header_line, header_end, header, header_records = rows[index]
        data = rows[index + 1:]
    column_count = max([len(header), mode] if header else [mode])
    short = [r[0] for r in data if len(r[2]) < column_count]
    long = [(r[0], len(r[2])) for r in data if len(r[2]) > column_count]
    return Dialect(
        delimiter=delimiter,
        header_row=header_line,
        skip_lines=header_end,
        skip_records=header_records,
        header=[header_name(h) for h in header] + [""] * (column_count - len(header)),
        column_count=column_count,
        title_rows=title_rows,
        short_rows=short,
        long_rows=long,
        headerless=headerless,
        second_header=second,
    )


def _refuse_other_delimiter(rows: list[tuple[int, int, list[str], int]], delimiter: str,
                            mode: int) -> None:
    """Refuse a header written with another delimiter than the rows (`a;b;c` over `1,2,3`):
    it would be taken for a title row, and the first data row for the header."""
    for line, _end, cells, _n in rows:
        text = delimiter.join(cells)
        for other in DELIMITER_CANDIDATES:
            if other != delimiter and len(text.split(other)) == mode and mode > 1:
                raise Invalid(
                    f"Ligne {line} : l'en-tête est séparé par « {DELIMITER_LABELS[other]} » "
                    f"({mode} champs) mais les lignes de données par "
                    f"« {DELIMITER_LABELS[delimiter]} » ; corrigez le fichier pour qu'il n'utilise "
                    "qu'un séparateur.")


def find_value_line(path: Path, dialect: Dialect, column: int, value: str) -> int | None:
    """The line of the first record whose `column` holds `value` (for error messages)."""
    with open(path, encoding="utf-8-sig", newline="") as f:
        reader = csv.reader(f, delimiter=dialect.delimiter, quotechar='"', doublequote=True)
        last = 0
        try:
            for row in reader:
                start = last + 1
                last = reader.line_num
                if start <= dialect.skip_lines:
                    continue
                if column < len(row) and row[column] == value:
                    return start
        except csv.Error:
            return None
    return None


def count_lines(path: Path, skip_lines: int) -> int:
    """Physical lines after the first `skip_lines`, counted on bytes chunk by chunk (a
    fraction of a second per 100 MB): as many as the records of a file without blank lines
    nor line breaks inside cells (the usual case), so that Python's `csv` reads the file only
    when this count and DuckDB's disagree."""
    lines = 0
    last = b"\n"
    with open(path, "rb") as f:
        while chunk := f.read(CHUNK_BYTES):
            lines += chunk.count(b"\n")
            last = chunk[-1:]
    if last != b"\n":
        lines += 1  # a last line without its line break
    return lines - skip_lines


def records(path: Path, dialect: Dialect) -> Iterator[tuple[int, str]]:
    """(first line, first field) of each record after the header that holds a value, as
    Python's `csv` reads the UTF-8 file with the detected dialect."""
    with open(path, encoding="utf-8-sig", errors="replace", newline="") as f:
        reader = csv.reader(f, delimiter=dialect.delimiter, quotechar='"', doublequote=True)
        last = 0
        for row in reader:
            start, last = last + 1, reader.line_num
            if start > dialect.skip_lines and row and "".join(row).strip():
                yield start, row[0]
