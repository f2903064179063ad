"""Column types: inferred from sample text values, then applied as typed casts in DuckDB SQL.

Inference looks at every non-empty value of the sample; a column gets a type only when all
of them fit it. The SQL expressions accept exactly the same spellings and stop the ingest
with a marked error (see BAD_VALUE) on any non-empty value that does not fit.

Accounting amounts are the exception: `-` (or ` - `, an en or em dash) means nothing and
is null in number columns; and a column of at least MIN_TOLERANT distinct values of which
at most 1 in 100 do not read as numbers (a corrupted cell such as `N   82 584,28`) is a
number column with parse option `rejects`: those cells become null and are listed by the
ingest as rejected cells (the load is refused unless the user accepts them). A column in
which a value has a leading zero is never such a column: it holds codes (« 021 » among
account numbers), which stay text.
"""

from __future__ import annotations

import re
from datetime import date
from typing import Any

from patrimoine.datastore.models import COLUMN_TYPES

BAD_VALUE = "PATRIMOINE_BAD_VALUE"
MAX_DISTINCT = 5000  # distinct values looked at per column
SEP = "\x1f"

SPACES = " \u00a0\u202f"  # space, no-break space, narrow no-break space
# "Nothing" in a number column: dashes in accounting exports, NA / N/A / n.d. in statistical
# ones (R, spreadsheets; Nantes' canteen attendance writes NA for days without a count).
NOTHING = ("-", "\u2013", "\u2014", "NA", "N/A", "n/a", "N.A.", "nd", "n.d.", "ND")
MIN_TOLERANT = 20
TRUE_WORDS = ("oui", "vrai", "true")
FALSE_WORDS = ("non", "faux", "false")
_SP = "[ \u00a0\u202f]"

_INT = re.compile(rf"[+-]?(?:\d{{1,3}}(?:{_SP}\d{{3}})+|\d+)")
_NUM_COMMA = re.compile(rf"[+-]?(?:\d{{1,3}}(?:(?:{_SP}|\.)\d{{3}})+|\d+)(?:,\d+)?")
_NUM_DOT = re.compile(rf"[+-]?(?:\d{{1,3}}(?:{_SP}\d{{3}})+|\d+)?(?:\.\d+)?")
_INT_DOTS = re.compile(r"[+-]?\d{1,3}(?:\.\d{3})+")
_LEADING_ZERO = re.compile(r"[+-]?0\d")
_DMY = re.compile(r"(\d{1,2})([/.-])(\d{1,2})\2(\d{4})")
_DMY_TIME = re.compile(r"(\d{1,2})([/.-])(\d{1,2})\2(\d{4})[ T](\d{1,2}):(\d{2})(?::(\d{2}))?")
_ISO = re.compile(r"\d{4}-\d{2}-\d{2}")
_ISO_TIME = re.compile(
    r"\d{4}-\d{2}-\d{2}[ T]\d{2}:\d{2}(?::\d{2}(?:\.\d{1,6})?)?(Z|[+-]\d{2}:?\d{2})?"
)


def infer(values: list[str]) -> tuple[str, dict[str, Any]]:
    """The type of a column of text values, with how to read them."""
    # The first MAX_DISTINCT distinct non-blank values, stripped, in order of appearance
    # (deterministic, so the same file always gets the same types and the same content hash).
    distinct: dict[str, None] = {}
    for value in dict.fromkeys(values):
        if value is not None and (stripped := value.strip()) and stripped not in distinct:
            distinct[stripped] = None
            if len(distinct) >= MAX_DISTINCT:
                break
    vals = list(distinct)
    if not vals:
        return "string", {}
    lowered = {v.lower() for v in vals}
    if lowered <= set(TRUE_WORDS + FALSE_WORDS):
        return "boolean", {}
    number = _infer_number(vals)
    if number is not None:
        return number
    moment = _infer_moment(vals)
    if moment is not None:
        return moment
    return "string", {}


def _infer_number(vals: list[str]) -> tuple[str, dict[str, Any]] | None:
    vals = [v for v in vals if v not in NOTHING]
    if not vals:
        return None
    found = _strict_number(vals)
    if found is not None or len(vals) < MIN_TOLERANT or any(_LEADING_ZERO.match(v) for v in vals):
        return found  # a leading zero marks a code (« 021 » among account numbers), not a typo
    good = [v for v in vals if _strict_number([v]) is not None]
    if (len(vals) - len(good)) * 100 > len(vals):
        return None
    found = _strict_number(good)
    return None if found is None else (found[0], {**found[1], "rejects": True})


def _strict_number(vals: list[str]) -> tuple[str, dict[str, Any]] | None:
    if any(_LEADING_ZERO.match(v) for v in vals):
        return None  # codes (postal, INSEE, SIRET…) keep their leading zeros
    if all(_INT.fullmatch(v) for v in vals):
        if max(len(v) for v in vals) > 18 + 6:
            return None
        if all(abs(int(_strip_spaces(v))) < 2**63 for v in vals):
            return "integer", {}
        return None
    if all(_INT.fullmatch(v) or _INT_DOTS.fullmatch(v) for v in vals) and (
        any(v.count(".") > 1 for v in vals) or any(any(c in v for c in SPACES) for v in vals)
    ):
        # "1.234" next to "41 248" or "1.234.567": the dot groups thousands.
        return "integer", {"thousands_dot": True}
    if any("," in v for v in vals):
        if all(_NUM_COMMA.fullmatch(v) for v in vals):
            return "number", {"decimal": ","}
        return None
    if all(_NUM_DOT.fullmatch(v) and any(c.isdigit() for c in v) for v in vals):
        return "number", {"decimal": "."}
    return None


def _strip_spaces(v: str) -> str:
    for c in SPACES:
        v = v.replace(c, "")
    return v


def _valid_dmy(m: re.Match[str]) -> bool:
    day, month = int(m.group(1)), int(m.group(3))
    return 1 <= month <= 12 and 1 <= day <= _MONTH_DAYS[month - 1]


_MONTH_DAYS = (31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31)


def _infer_moment(vals: list[str]) -> tuple[str, dict[str, Any]] | None:
    if all(_ISO.fullmatch(v) for v in vals):
        try:
            for v in vals:
                date.fromisoformat(v)
        except ValueError:
            return None
        return "date", {"formats": ["iso"]}
    if all(_ISO.fullmatch(v) or _ISO_TIME.fullmatch(v) for v in vals):
        utc = any((m := _ISO_TIME.fullmatch(v)) is not None and m.group(1) for v in vals)
        return "datetime", {"formats": ["iso"], "utc": utc}
    seps = set()
    for v in vals:
        m = _DMY.fullmatch(v) or _DMY_TIME.fullmatch(v)
        if m is None or not _valid_dmy(m):
            return None
        seps.add(m.group(2))
    if len(seps) != 1:
        return None
    sep = seps.pop()
    day = f"%d{sep}%m{sep}%Y"
    if all(_DMY.fullmatch(v) for v in vals):
        return "date", {"formats": [day]}
    return "datetime", {"formats": [f"{day} %H:%M:%S", f"{day} %H:%M", f"{day}T%H:%M:%S",
                                    f"{day}T%H:%M", day]}


def parse_for(type_: str, values: list[str]) -> dict[str, Any]:
    """Reading options when the user imposes `type_` on text values."""
    inferred, parse = infer(values)
    if inferred == type_:
        return parse
    vals = [v for v in values if v]
    if type_ == "number":
        return {"decimal": "," if any("," in v for v in vals) else "."}
    if type_ in ("date", "datetime"):
        if inferred in ("date", "datetime"):
            formats = parse.get("formats", ["iso"])
            if type_ == "datetime" and formats != ["iso"]:
                day = formats[0].split(" ")[0]
                formats = [f"{day} %H:%M:%S", f"{day} %H:%M", day]
            return {"formats": formats, "utc": parse.get("utc", False)}
        if any(_DMY.match(v.strip()) for v in vals):
            return {"formats": ["%d/%m/%Y"] if type_ == "date" else
                    ["%d/%m/%Y %H:%M:%S", "%d/%m/%Y %H:%M", "%d/%m/%Y"]}
        return {"formats": ["iso"]}
    return {}


# SQL


def quote_ident(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def quote_literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def _strip_sql(expr: str, chars: str) -> str:
    for c in chars:
        expr = f"replace({expr}, {quote_literal(c)}, '')"
    return expr


def _integer_cast(raw: str, thousands_dot: bool) -> str:
    """`raw` as BIGINT: the plain spelling first, then without group separators.

    DuckDB rounds "1.5" to 2 when casting text to BIGINT: decimals and exponents are refused.
    The separator-stripped text appears once only: DuckDB computes a repeated subexpression
    for every row, which would defeat the lazy `coalesce`."""
    stripped = _strip_sql(raw, SPACES + ("." if thousands_dot else ""))
    if thousands_dot:  # dots group thousands: "1.234" is read once they are removed
        body = (f"coalesce(CASE WHEN NOT contains({raw}, '.') THEN TRY_CAST({raw} AS BIGINT) END, "
                f"TRY_CAST({stripped} AS BIGINT))")
    else:
        body = (f"CASE WHEN NOT contains({raw}, '.') THEN coalesce(TRY_CAST({raw} AS BIGINT), "
                f"TRY_CAST({stripped} AS BIGINT)) END")
    return f"CASE WHEN NOT (contains({raw}, 'e') OR contains({raw}, 'E')) THEN {body} END"


def text_cast(raw: str, type_: str, parse: dict[str, Any]) -> str:
    """DuckDB expression reading the VARCHAR expression `raw` as `type_` (NULL if it does not
    fit)."""
    if type_ in ("string", "geometry"):
        return raw
    trimmed = f"trim({raw})"
    # Each numeric cast tries the plain spelling first ("1234", "12,5") and strips group
    # separators only for the values that need it (coalesce evaluates lazily).
    if type_ == "integer":
        return _integer_cast(raw, bool(parse.get("thousands_dot")))
    if type_ == "number":
        if parse.get("decimal") == ",":
            plain = (f"CASE WHEN NOT contains({raw}, '.') "
                     f"THEN TRY_CAST(replace({raw}, ',', '.') AS DOUBLE) END")
            s = f"replace({_strip_sql(raw, SPACES + '.')}, ',', '.')"
        else:
            plain = f"TRY_CAST({raw} AS DOUBLE)"
            s = _strip_sql(raw, SPACES)
        return f"coalesce({plain}, TRY_CAST({s} AS DOUBLE))"
    if type_ == "boolean":
        whens = " ".join([f"WHEN '{w}' THEN true" for w in TRUE_WORDS]
                         + [f"WHEN '{w}' THEN false" for w in FALSE_WORDS])
        return f"CASE lower({trimmed}) {whens} END"
    # Dates are read as they are first, trimmed only when that fails (DuckDB's readers skip
    # ASCII spaces themselves): trimming every value costs a string copy each.
    formats = parse.get("formats", ["iso"])
    if formats == ["iso"]:
        if type_ == "date":
            return f"coalesce(TRY_CAST({raw} AS DATE), TRY_CAST({trimmed} AS DATE))"
        if parse.get("utc"):
            return (f"timezone('UTC', coalesce(TRY_CAST({raw} AS TIMESTAMPTZ), "
                    f"TRY_CAST({trimmed} AS TIMESTAMPTZ)))")
        return f"coalesce(TRY_CAST({raw} AS TIMESTAMP), TRY_CAST({trimmed} AS TIMESTAMP))"
    fmt = "[" + ", ".join(quote_literal(f) for f in formats) + "]"
    moment = f"coalesce(TRY_STRPTIME({raw}, {fmt}), TRY_STRPTIME({trimmed}, {fmt}))"
    return f"CAST({moment} AS DATE)" if type_ == "date" else moment


def is_nothing(raw: str, type_: str) -> str:
    """SQL: the value is empty, blank, or (in number columns) a dash meaning nothing."""
    # ltrim, not trim: a trim(raw) here would be the same expression as in the cast, which
    # DuckDB would then compute for every row instead of only where needed.
    dash = (f" OR rtrim(ltrim({raw})) IN ({', '.join(quote_literal(d) for d in NOTHING)})"
            if type_ in ("integer", "number") else "")
    return f"({raw} IS NULL OR ltrim({raw}) = ''{dash})"


def checked_text_cast(raw: str, column: str, type_: str, parse: dict[str, Any]) -> str:
    """text_cast that raises a marked error on any non-empty value it cannot read (or leaves
    it null in a column whose parse options accept `rejects`)."""
    if type_ in ("string", "geometry"):
        return raw
    if parse.get("rejects"):
        return text_cast(raw, type_, parse)
    marker = quote_literal(f"{BAD_VALUE}{SEP}{column}{SEP}")
    return (f"coalesce({text_cast(raw, type_, parse)}, CASE WHEN {is_nothing(raw, type_)} "
            f"THEN NULL ELSE error({marker} || {raw}) END)")


def type_of_duckdb(raw_type: str) -> str:
    """Our column type for a DuckDB type coming from a typed source (JSON, Parquet, sheets)."""
    t = raw_type.upper()
    if t in ("BIGINT", "INTEGER", "SMALLINT", "TINYINT", "UBIGINT", "UINTEGER", "USMALLINT",
             "UTINYINT", "HUGEINT", "INT64", "INT32"):
        return "integer"
    if t in ("DOUBLE", "FLOAT", "REAL") or t.startswith("DECIMAL"):
        return "number"
    if t == "BOOLEAN":
        return "boolean"
    if t == "DATE":
        return "date"
    if t.startswith("TIMESTAMP"):
        return "datetime"
    return "string"


def typed_cast(raw: str, raw_type: str, column: str, type_: str, parse: dict[str, Any]) -> str:
    """Expression turning the raw column (any DuckDB type) into the stored type."""
    t = raw_type.upper()
    if t == "VARCHAR":
        return checked_text_cast(raw, column, type_, parse)
    natural = type_of_duckdb(t)
    nested = t.endswith("]") or t.startswith(("STRUCT", "MAP", "JSON", "UNION"))
    if natural == type_:
        if type_ == "datetime" and "TIME ZONE" in t:
            return f"timezone('UTC', {raw})"
        if t == "HUGEINT" or t == "UBIGINT":
            return f"CAST({raw} AS BIGINT)"
        return f"CAST({raw} AS {COLUMN_TYPES[type_]})" if type_ != "string" else (
            f"CAST(to_json({raw}) AS VARCHAR)" if nested else f"CAST({raw} AS VARCHAR)")
    as_text = f"CAST(to_json({raw}) AS VARCHAR)" if nested else f"CAST({raw} AS VARCHAR)"
    if type_ in ("string", "geometry"):
        return as_text
    return checked_text_cast(as_text, column, type_, parse)
