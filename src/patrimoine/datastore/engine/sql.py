"""The SQL vocabulary shared by the layout builder, the tables and the queries: column
types, quoted identifiers, the expressions text sorts and searches by."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from patrimoine.core.errors import Invalid
from patrimoine.datastore.models import COLUMN_TYPES

# Types whose values compare in Python exactly as in DuckDB (an equality count can be looked up).
EXACT_TYPES = ("string", "integer", "boolean", "date")
TEXT_TYPES = ("string",)
SORTABLE_TYPES = ("string", "integer", "number", "boolean", "date", "datetime")


@dataclass(frozen=True)
class Column:
    name: str
    type: str

    @property
    def sql_type(self) -> str:
        return COLUMN_TYPES.get(self.type, "VARCHAR")


def check_identifier(columns: Sequence[Column], name: str, what: str = "colonne") -> Column:
    """The column called `name` (a French Invalid when the version has none)."""
    for column in columns:
        if column.name == name:
            return column
    known = ", ".join(c.name for c in columns)
    raise Invalid(f"La {what} « {name} » n'existe pas dans cette version.",
                  errors=[f"Colonnes disponibles : {known}."])


def quote(name: str) -> str:
    """An SQL identifier, double-quoted. Names are validated against the version first."""
    return '"' + name.replace('"', '""') + '"'


def sort_expr(column: Column) -> str:
    """The expression a column sorts and compares by: text ignores accents and case."""
    if column.type in TEXT_TYPES:
        return f"{quote(column.name)} COLLATE noaccent.nocase"
    return quote(column.name)


def fold_sql(expr: str) -> str:
    """SQL twin of core.text.fold: ligatures expanded, accents stripped, lower-cased."""
    for src, dst in (("œ", "oe"), ("Œ", "oe"), ("æ", "ae"), ("Æ", "ae")):
        expr = f"replace({expr}, '{src}', '{dst}')"
    return f"lower(strip_accents({expr}))"


def postings_condition(ranges: Sequence[tuple[int, int]]) -> str:
    """SQL selecting the rowid ranges of `search_postings` (integers from our own index)."""
    return "(" + " OR ".join(f"rowid BETWEEN {int(a)} AND {int(b)}" for a, b in ranges) + ")"

