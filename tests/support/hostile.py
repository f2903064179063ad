"""Hostile workbooks, small on disk: a shared string inflating to hundreds of megabytes, cells
far apart, repeated ODS cells, an archive lying about its sizes."""

from __future__ import annotations

import io
import struct
import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import IO

import xlsxwriter


def real_xlsx(rows: list[list[object]] | None = None) -> bytes:
    """A workbook as Excel writes it (shared strings), through xlsxwriter."""
    out = io.BytesIO()
    book = xlsxwriter.Workbook(out, {"in_memory": True})
    sheet = book.add_worksheet("Données")
    for r, row in enumerate(rows or [["nom", "valeur"], ["piscine", 1]]):
        for c, value in enumerate(row):
            sheet.write(r, c, value)
    book.close()
    return out.getvalue()


def _rewrite(data: bytes, parts: dict[str, Callable[[IO[bytes]], None]]) -> bytes:
    """The archive with some parts written anew (streamed: nothing large in memory)."""
    source = zipfile.ZipFile(io.BytesIO(data))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as archive:
        for info in source.infolist():
            if info.filename in parts:
                with archive.open(info.filename, "w", force_zip64=True) as f:
                    parts[info.filename](f)
            else:
                archive.writestr(info, source.read(info.filename))
    return out.getvalue()


def shared_string_bomb(megabytes: int = 400) -> bytes:
    """A real XLSX whose first shared string is `megabytes` MB of one letter (~0.1 % of that
    on disk): the header cell « nom » becomes that string."""
    def write(f: IO[bytes]) -> None:
        f.write(b'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n<sst xmlns='
                b'"http://schemas.openxmlformats.org/spreadsheetml/2006/main" count="3" '
                b'uniqueCount="3"><si><t>')
        block = b"A" * (1 << 20)
        for _ in range(megabytes):
            f.write(block)
        f.write(b"</t></si><si><t>valeur</t></si><si><t>piscine</t></si></sst>")
    return _rewrite(real_xlsx(), {"xl/sharedStrings.xml": write})


def far_cells_xlsx(last_cell: str) -> bytes:
    """A real XLSX with one more cell at `last_cell` (e.g. XFD1048576): the reader lays out
    the whole rectangle from A1."""
    data = real_xlsx()
    sheet = zipfile.ZipFile(io.BytesIO(data)).read("xl/worksheets/sheet1.xml")
    row = "".join(ch for ch in last_cell if ch.isdigit())
    far = f'<row r="{row}"><c r="{last_cell}"><v>1</v></c></row></sheetData>'.encode()
    sheet = sheet.replace(b"</sheetData>", far)
    return _rewrite(data, {"xl/worksheets/sheet1.xml": lambda f: f.write(sheet)})


def with_part(data: bytes, name: str, content: bytes) -> bytes:
    return _rewrite(data, {name: lambda f: f.write(content)})


def lying_sizes(data: bytes, member: str) -> bytes:
    """The archive with `member`'s declared uncompressed size (central directory) set to 10."""
    patched = bytearray(data)
    start = 0
    while True:  # central directory entries: signature, ..., size at 24, name length at 28
        at = data.index(b"PK\x01\x02", start)
        name_length = struct.unpack("<H", data[at + 28:at + 30])[0]
        if data[at + 46:at + 46 + name_length].decode() == member:
            patched[at + 24:at + 28] = struct.pack("<I", 10)
            return bytes(patched)
        start = at + 4


def ods_repeated(rows: int, columns: int) -> bytes:
    """An ODS whose second row is one filled cell repeated `columns` times, that row repeated
    `rows` times (a few hundred bytes)."""
    from odf.opendocument import OpenDocumentSpreadsheet
    from odf.table import Table, TableCell, TableRow
    from odf.text import P

    doc = OpenDocumentSpreadsheet()
    table = Table(name="Feuille")
    header = TableRow()
    for name in ("nom", "valeur"):
        cell = TableCell(valuetype="string")
        cell.addElement(P(text=name))
        header.addElement(cell)
    table.addElement(header)
    row = TableRow(numberrowsrepeated=rows)
    cell = TableCell(valuetype="string", numbercolumnsrepeated=columns)
    cell.addElement(P(text="x"))
    row.addElement(cell)
    table.addElement(row)
    # What LibreOffice writes after the data: empty rows to the sheet's end.
    tail = TableRow(numberrowsrepeated=1_048_000)
    tail.addElement(TableCell(numbercolumnsrepeated=1024))
    table.addElement(tail)
    doc.spreadsheet.addElement(table)
    out = io.BytesIO()
    doc.save(out)
    return out.getvalue()


def save(folder: Path, name: str, data: bytes) -> Path:
    path = folder / name
    path.write_bytes(data)
    return path
