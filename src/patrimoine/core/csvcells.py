"""One owner of the cells of every CSV the platform writes: a text a spreadsheet would run as
a formula (starting with =, +, -, @, or a tab or carriage return before one) is prefixed with
an apostrophe, which spreadsheets show as text.

The prefix is reversible, for the importers that read the platform's own exports back (the
register, reversibility): a text already starting with apostrophes before such a character
gets one more, so `restore(neutralise(v)) == v` for every v. Numbers, dates and booleans are
written as they are (a negative number is data, not a formula).
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterable
from typing import Any

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
_NEUTRALISED = re.compile(r"'*[=+\-@\t\r]")


def neutralise(value: str) -> str:
    """`value` as a CSV cell: prefixed with an apostrophe if a spreadsheet would run it."""
    return "'" + value if _NEUTRALISED.match(value) else value


def restore(cell: str) -> str:
    """The text neutralise() was given, from the cell it wrote."""
    return cell[1:] if cell.startswith("'") and _NEUTRALISED.match(cell, 1) else cell


def cell(value: Any) -> Any:
    return neutralise(value) if isinstance(value, str) else value


class Writer:
    """csv.writer whose text cells (header included) are neutralised, and whose cells holding
    a carriage return or a line feed are always quoted (csv.writer quotes only the
    characters of its line terminator: an unquoted CR would start a new row, where a formula
    could begin)."""

    def __init__(self, fh: Any, lineterminator: str = "\r\n", **fmtparams: Any) -> None:
        self._fh = fh
        self._end = lineterminator
        self._line = io.StringIO()
        self._writer = csv.writer(self._line, lineterminator="\r\n", **fmtparams)

    def writerow(self, row: Iterable[Any]) -> Any:
        self._line.seek(0)
        self._line.truncate()
        self._writer.writerow([cell(v) for v in row])
        return self._fh.write(self._line.getvalue()[:-2] + self._end)

    def writerows(self, rows: Iterable[Iterable[Any]]) -> None:
        for row in rows:
            self.writerow(row)


def writer(fh: Any, **fmtparams: Any) -> Writer:
    return Writer(fh, **fmtparams)
