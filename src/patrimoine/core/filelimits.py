"""Bounds on the files people hand in, checked before any parser sees them.

A workbook (XLSX, ODS) is a ZIP archive of XML parts: a few hundred kilobytes can inflate to
gigabytes (one shared string of 400 MB), and two cells far apart (A1 and XFD1048576) make the
spreadsheet reader allocate the whole rectangle between them, which aborts the process. So,
before a workbook is opened:

- an archive declaring more than `max_unpacked_bytes` in all is refused at once; then every
  member is inflated here, as a stream, counting the bytes it really gives (not the
  sizes the archive declares, which may lie); the archive is refused when a member or the
  total passes `max_unpacked_bytes`, when a member inflates more than
  `max_compression_ratio` times, or when its real size differs from the declared one;
- XML parts declaring a DTD (entity expansion) are refused;
- the extent of each sheet (last row x last column holding a cell, as the reader lays it
  out) is measured from the sheet's XML and refused past `max_spreadsheet_rows` or
  `max_spreadsheet_cells`.

JSON parsed whole in Python (`load_json`) is refused past `max_json_bytes` or nested deeper
than `max_json_depth`, measured before `json.loads` (which would otherwise raise
RecursionError); GeoJSON loads are streamed a feature at a time (datastore.ingest.jsonstream)
under the same depth limit. Every refusal is an `Invalid` with a French message naming the limit.
"""

from __future__ import annotations

import io
import json
import re
import struct
import xml.etree.ElementTree as ET
import zipfile
import zlib
from abc import ABC, abstractmethod
from dataclasses import dataclass
from itertools import accumulate
from pathlib import Path
from typing import Any, BinaryIO

from patrimoine.core.errors import Invalid
from patrimoine.core.settings import Settings

MAX_MEMBERS = 10_000
CHUNK = 1 << 20
# Small members compress far (a sheet of empty styled cells): the ratio is judged from this.
RATIO_FROM_BYTES = 1 << 20


@dataclass(frozen=True)
class FileLimits:
    max_unpacked_bytes: int
    max_compression_ratio: int
    max_spreadsheet_cells: int
    max_spreadsheet_rows: int
    max_json_bytes: int
    max_json_depth: int
    max_csv_line_bytes: int

    @classmethod
    def of(cls, settings: Settings | None = None) -> FileLimits:
        """The operator's limits (from the environment when no settings are given)."""
        s = settings or Settings()
        return cls(s.max_unpacked_bytes, s.max_compression_ratio, s.max_spreadsheet_cells,
                   s.max_spreadsheet_rows, s.max_json_bytes, s.max_json_depth,
                   s.max_csv_line_bytes)


def megabytes(n: int) -> str:
    return f"{n / 1_000_000:.0f} Mo" if n >= 10_000_000 else f"{n / 1_000_000:.1f} Mo"


def _number(n: int) -> str:
    return f"{n:,}".replace(",", "\u202f")


# ---------------------------------------------------------------------------------------------
# Workbooks
# ---------------------------------------------------------------------------------------------


def check_workbook(source: bytes | Path, filename: str, limits: FileLimits | None = None) -> None:
    """Refuse (Invalid) a ZIP workbook that would exhaust memory; a file that is not a ZIP
    archive is left to its reader."""
    limits = limits or FileLimits.of()
    with (open(source, "rb") if isinstance(source, Path) else io.BytesIO(source)) as f:
        if f.read(4) != b"PK\x03\x04":
            return
        f.seek(0)
        try:
            archive = zipfile.ZipFile(f)
        except (zipfile.BadZipFile, OSError):
            raise Invalid(f"Lecture impossible du classeur « {filename} » : fichier endommagé "
                          "(archive illisible).") from None
        with archive:
            members = archive.infolist()
            if len(members) > MAX_MEMBERS:
                raise Invalid(f"Le classeur « {filename} » contient {_number(len(members))} "
                              f"parties (au plus {_number(MAX_MEMBERS)}) : refusé.")
            # A workbook declaring more than the limit is refused before any inflating: its
            # real sizes must equal the declared ones (checked below), so it is too large or
            # damaged either way.
            if sum(info.file_size for info in members) > limits.max_unpacked_bytes:
                raise _refuse_size(filename, limits)
            total = 0
            for info in members:
                extent = _extent_scanner(info.filename)
                total += _inflate(f, info, filename, limits, total, extent)
                if extent is not None:
                    _check_extent(extent, info.filename, filename, limits)


def _refuse_size(filename: str, limits: FileLimits) -> Invalid:
    return Invalid(
        f"Le classeur « {filename} » occupe plus de {megabytes(limits.max_unpacked_bytes)} une "
        f"fois décompressé (limite réglée par PATRIMOINE_MAX_UNPACKED_BYTES) : refusé. "
        "Enregistrez-le en CSV ou découpez-le.")


def _damaged(filename: str) -> Invalid:
    return Invalid(f"Lecture impossible du classeur « {filename} » : fichier endommagé "
                   "(archive incohérente).")


def _inflate(f: BinaryIO, info: zipfile.ZipInfo, filename: str, limits: FileLimits,
             before: int, extent: _Extent | None) -> int:
    """The member's real inflated size, checked against the limits while inflating."""
    if info.flag_bits & 0x1:
        raise Invalid(f"Le classeur « {filename} » est protégé par un mot de passe : "
                      "enregistrez-le sans protection.")
    if info.compress_type not in (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED):
        raise Invalid(f"Le classeur « {filename} » utilise une compression non prise en "
                      "charge : enregistrez-le de nouveau avec votre tableur.")
    f.seek(info.header_offset)
    header = f.read(30)
    if len(header) < 30 or header[:4] != b"PK\x03\x04":
        raise _damaged(filename)
    name_length, extra_length = struct.unpack("<HH", header[26:30])
    f.seek(info.header_offset + 30 + name_length + extra_length)
    inflater = zlib.decompressobj(-15) if info.compress_type == zipfile.ZIP_DEFLATED else None
    xml = info.filename.endswith((".xml", ".rels"))
    left, size, head = info.compress_size, 0, b""
    while left > 0 or (inflater is not None and inflater.unconsumed_tail):
        if inflater is not None and inflater.unconsumed_tail:
            chunk = inflater.decompress(inflater.unconsumed_tail, CHUNK)
        else:
            data = f.read(min(CHUNK, left))
            if not data:
                raise _damaged(filename)
            left -= len(data)
            chunk = inflater.decompress(data, CHUNK) if inflater is not None else data
        size += len(chunk)
        if before + size > limits.max_unpacked_bytes:
            raise _refuse_size(filename, limits)
        if size > RATIO_FROM_BYTES and size > limits.max_compression_ratio * max(
                info.compress_size, 1):
            raise Invalid(
                f"Le classeur « {filename} » est anormalement compressé (une partie grossit "
                f"plus de {limits.max_compression_ratio} fois à la décompression, limite "
                "réglée par PATRIMOINE_MAX_COMPRESSION_RATIO) : refusé, par précaution.")
        if xml:
            # A DTD may define entities that expand without bound: no workbook needs one.
            window = head[-16:] + chunk
            if b"<!DOCTYPE" in window or b"<!ENTITY" in window:
                raise Invalid(f"Le classeur « {filename} » contient une déclaration XML "
                              "(DTD) refusée par précaution.")
            head = chunk
        if extent is not None:
            extent.feed(chunk)
        if inflater is not None and inflater.eof:
            break
    if inflater is not None and (not inflater.eof or left > 0):
        raise _damaged(filename)
    if size != info.file_size:
        raise _damaged(filename)
    return size


class _Extent(ABC):
    """Last row and last column a sheet's reader lays out, and how many cells it declares
    (one scanner per workbook kind: XLSX, ODS)."""

    rows = 0
    columns = 0
    cells = 0

    @abstractmethod
    def feed(self, chunk: bytes) -> None:
        """Scan the next chunk of the sheet's XML."""

    def close(self) -> None:  # noqa: B027 - most scanners have nothing left to finish
        """Finish the scan (the ODS scanner flushes its parser)."""


def _extent_scanner(member: str) -> _Extent | None:
    if re.fullmatch(r"xl/worksheets/[^/]+\.xml", member):
        return _XlsxExtent()
    if member == "content.xml":
        return _OdsExtent()
    return None


def _check_extent(extent: _Extent, member: str, filename: str, limits: FileLimits) -> None:
    extent.close()
    area = extent.rows * extent.columns
    if extent.rows > limits.max_spreadsheet_rows:
        raise Invalid(
            f"Le classeur « {filename} » a une feuille de {_number(extent.rows)} lignes (au plus "
            f"{_number(limits.max_spreadsheet_rows)}, limite réglée par "
            "PATRIMOINE_MAX_SPREADSHEET_ROWS) : refusé. Enregistrez-le en CSV.")
    if max(area, extent.cells) > limits.max_spreadsheet_cells:
        raise Invalid(
            f"Le classeur « {filename} » a une feuille de {_number(extent.rows)} lignes sur "
            f"{_number(extent.columns)} colonnes, soit plus de "
            f"{_number(limits.max_spreadsheet_cells)} cellules (limite réglée par "
            "PATRIMOINE_MAX_SPREADSHEET_CELLS) : refusé. Enregistrez-le en CSV.")


_XLSX_PREFIX = re.compile(rb"<(\w+:)?worksheet[\s>]")


def _column_number(letters: bytes) -> int:
    n = 0
    for byte in letters:
        n = n * 26 + byte - 64
    return n


class _XlsxExtent(_Extent):
    """From the cells' references (`r="XFD1048576"`, usually the first attribute, which is
    the fast path); cells or rows without one are placed after the previous one, as the
    reader does, so they are counted conservatively."""

    def __init__(self) -> None:
        self._tail = b""
        self._patterns: tuple[re.Pattern[bytes], ...] | None = None
        self._unplaced_cells = 0
        self._unplaced_rows = 0
        self._widest_row = 0

    def _compile(self, data: bytes) -> tuple[re.Pattern[bytes], ...]:
        found = _XLSX_PREFIX.search(data)
        p = re.escape(found.group(1) or b"") if found else b""
        return (re.compile(rb'<' + p + rb'c r="([A-Z]{1,3})([0-9]{1,10})"'),
                re.compile(rb'<' + p + rb'c\s[^>]*?\br="([A-Z]{1,3})([0-9]{1,10})"'),
                re.compile(rb"<" + p + rb"c[\s>/]"),
                re.compile(rb'<' + p + rb'row\s[^>]*?\br="([0-9]{1,10})"'),
                re.compile(rb"<" + p + rb"row[\s>/]"))

    def feed(self, chunk: bytes) -> None:
        data = self._tail + chunk
        cut = data.rfind(b"<")  # no tag holds "<": every tag before it is whole
        if cut < 0:
            self._tail = data
            return
        data, self._tail = data[:cut], data[cut:]
        self._scan(data)

    def close(self) -> None:
        self._scan(self._tail)
        self._tail = b""
        self.rows += self._unplaced_rows
        self.columns += self._widest_row if self._unplaced_cells else 0

    def _scan(self, data: bytes) -> None:
        if self._patterns is None:
            self._patterns = self._compile(data)
        first, anywhere, any_cell, row_ref, any_row = self._patterns
        all_cells = len(any_cell.findall(data))
        cells = first.findall(data)
        if len(cells) < all_cells:  # a reference elsewhere than first, or none
            cells = anywhere.findall(data)
        if cells:
            self.columns = max(self.columns, max(map(_column_number, {c for c, _ in cells})))
            self.rows = max(self.rows, max(map(int, {r for _, r in cells})))
        rows = row_ref.findall(data)
        if rows:
            self.rows = max(self.rows, max(map(int, set(rows))))
        self.cells += all_cells
        self._unplaced_rows += len(any_row.findall(data)) - len(rows)
        if all_cells > len(cells):  # rare writers omit references: widest row, by row
            self._unplaced_cells += all_cells - len(cells)
            for row in any_row.split(data):
                self._widest_row = max(self._widest_row, len(any_cell.findall(row)))


_TABLE = "urn:oasis:names:tc:opendocument:xmlns:table:1.0"
_OFFICE = "urn:oasis:names:tc:opendocument:xmlns:office:1.0"


class _OdsExtent(_Extent):
    """From the rows and cells of content.xml, repeats included: the reader lays out every
    repeated cell up to the last one holding a value."""

    def __init__(self) -> None:
        self._parser: ET.XMLPullParser[ET.Element] = ET.XMLPullParser(events=("start", "end"))
        self._row = 0  # rows of the current table so far
        self._column = 0  # columns of the current row so far
        self._row_last = 0  # last filled column of the current row
        self._repeat_rows = 1
        self._cell_repeat = 1
        self._cell_filled = False

    def feed(self, chunk: bytes) -> None:
        try:
            self._parser.feed(chunk)
            self._events()
        except ET.ParseError:
            raise Invalid("Le classeur ODS est endommagé (XML illisible).") from None

    def close(self) -> None:
        try:
            self._parser.close()
            self._events()
        except ET.ParseError:
            raise Invalid("Le classeur ODS est endommagé (XML illisible).") from None

    def _events(self) -> None:
        for item in self._parser.read_events():
            if len(item) != 2 or not isinstance(item[1], ET.Element):
                continue  # only start and end events are asked for
            event, element = item[0], item[1]
            tag = element.tag
            if event == "start":
                if tag == f"{{{_TABLE}}}table":
                    self._row = 0
                elif tag == f"{{{_TABLE}}}table-row":
                    self._column, self._row_last = 0, 0
                    self._repeat_rows = _repeat(element, "number-rows-repeated")
                elif tag in (f"{{{_TABLE}}}table-cell", f"{{{_TABLE}}}covered-table-cell"):
                    self._cell_repeat = _repeat(element, "number-columns-repeated")
                    self._cell_filled = f"{{{_OFFICE}}}value-type" in element.attrib
            elif tag in (f"{{{_TABLE}}}table-cell", f"{{{_TABLE}}}covered-table-cell"):
                filled = self._cell_filled or bool("".join(element.itertext()).strip())
                self._column += self._cell_repeat
                if filled:
                    self._row_last = self._column
                    self.cells += self._cell_repeat * self._repeat_rows
                element.clear()
            elif tag == f"{{{_TABLE}}}table-row":
                self._row += self._repeat_rows
                if self._row_last:
                    self.rows = max(self.rows, self._row)
                    self.columns = max(self.columns, self._row_last)
                element.clear()


def _repeat(element: ET.Element, name: str) -> int:
    try:
        return max(1, int(element.get(f"{{{_TABLE}}}{name}", "1")))
    except ValueError:
        return 1


# ---------------------------------------------------------------------------------------------
# JSON
# ---------------------------------------------------------------------------------------------

_STRING = re.compile(rb'"[^"\\]*(?:\\.[^"\\]*)*"', re.DOTALL)
_NOT_BRACKETS = bytes(b for b in range(256) if b not in b"[]{}")
_STEP = {ord("["): 1, ord("{"): 1, ord("]"): -1, ord("}"): -1}


def json_depth(data: bytes) -> int:
    """How deeply a JSON document nests its arrays and objects (brackets in strings aside)."""
    brackets = _STRING.sub(b"", data).translate(None, _NOT_BRACKETS)
    return max(accumulate(map(_STEP.__getitem__, brackets)), default=0)


def check_json_size(size: int, filename: str, limits: FileLimits, what: str = "JSON") -> None:
    if size > limits.max_json_bytes:
        raise Invalid(
            f"Le fichier {what} « {filename} » dépasse {megabytes(limits.max_json_bytes)} "
            "(limite réglée par PATRIMOINE_MAX_JSON_BYTES) : refusé.")


def load_json(data: bytes | str, filename: str, limits: FileLimits | None = None,
              what: str = "JSON") -> Any:
    """The parsed document, after its size and nesting depth were checked."""
    limits = limits or FileLimits.of()
    raw = data.encode("utf-8") if isinstance(data, str) else data
    check_json_size(len(raw), filename, limits, what)
    depth = json_depth(raw)
    if depth > limits.max_json_depth:
        raise Invalid(
            f"Le fichier {what} « {filename} » imbrique ses valeurs sur {_number(depth)} "
            f"niveaux (au plus {limits.max_json_depth}, limite réglée par "
            "PATRIMOINE_MAX_JSON_DEPTH) : refusé.")
    try:
        if isinstance(data, bytes):
            data = data.decode("utf-8-sig")
        return json.loads(data)
    except UnicodeDecodeError as exc:
        raise Invalid(f"Le fichier {what} « {filename} » n'est pas en UTF-8 (octet "
                      f"0x{raw[exc.start]:02x} à la position {exc.start}).") from None
    except json.JSONDecodeError as exc:
        raise Invalid(f"Le fichier {what} « {filename} » est illisible : JSON invalide "
                      f"ligne {exc.lineno}, colonne {exc.colno}.") from None
    except RecursionError:  # the depth check above should make this unreachable
        raise Invalid(f"Le fichier {what} « {filename} » est trop profondément imbriqué : "
                      "refusé.") from None
