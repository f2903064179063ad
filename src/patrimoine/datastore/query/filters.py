"""Which rows a query selects (filters, full-text search, positions) and their compilation
to parameterised SQL: the part of the datastore an injection audit reads.

Queries are built from parameters only, never from user SQL. Identifiers are checked against
the version's columns and quoted (`engine.quote`); every value is a bound parameter,
converted to its column's type first. The other modules of this package add to the WHERE
clause built here nothing but checked, quoted identifiers and integers.

Filters, as they arrive from a URL:
- `where=colonne:op:valeur` (repeatable; every condition must hold);
- `or=colonne:op:valeur` (repeatable; at least one of them must hold);
- `filter=<JSON tree>` for any nesting: {"and": [...]}, {"or": [...]},
  {"column": "commune", "op": "eq", "value": "Lyon"}.
Operators: eq, ne, lt, lte, gt, gte, in (values separated by `,` in a URL, a list in JSON),
contains, startswith (both ignore accents and case), null, notnull.
"""

from __future__ import annotations

import hashlib
import json
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any

from patrimoine.core.errors import Invalid
from patrimoine.core.text import fold
from patrimoine.datastore.engine import (
    Column,
    VersionTable,
    check_identifier,
    fold_sql,
    postings_condition,
    quote,
)

OPERATORS = {
    "eq": "égal à",
    "ne": "différent de",
    "lt": "inférieur à",
    "lte": "inférieur ou égal à",
    "gt": "supérieur à",
    "gte": "supérieur ou égal à",
    "in": "parmi",
    "contains": "contient",
    "startswith": "commence par",
    "null": "est vide",
    "notnull": "n'est pas vide",
}
COMPARISONS = {"eq": "=", "lt": "<", "lte": "<=", "gt": ">", "gte": ">="}
TEXT_OPERATORS = ("contains", "startswith")
MAX_IN_VALUES = 1_000
MAX_FILTER_NODES = 200
MAX_SEARCH_TERMS = 10
EARTH_RADIUS_M = 6_371_008.8
TRUE_WORDS = {"true", "vrai", "oui", "1", "t", "o", "yes"}
FALSE_WORDS = {"false", "faux", "non", "0", "f", "n", "no"}


# ------------------------------------------------------------------------------- model


@dataclass(frozen=True)
class Condition:
    column: str
    op: str
    value: Any = None


@dataclass(frozen=True)
class Group:
    kind: str  # "and" | "or"
    items: tuple[Condition | Group, ...]


Filter = Condition | Group


@dataclass(frozen=True)
class BoundingBox:
    min_lon: float
    min_lat: float
    max_lon: float
    max_lat: float


@dataclass(frozen=True)
class Near:
    lat: float
    lon: float
    radius_m: float


@dataclass(frozen=True)
class Query:
    """Which rows: filters, text search, positions. Shared by records, facets, aggregates
    and exports."""

    filter: Group = Group("and", ())
    search: str = ""
    bbox: BoundingBox | None = None
    near: Near | None = None


# --------------------------------------------------------------------------- parsing


def parse_condition(text: str) -> Condition:
    """`colonne:op:valeur` (the value may itself contain `:`)."""
    parts = text.split(":", 2)
    if len(parts) < 2 or not parts[0] or not parts[1]:
        raise Invalid(
            f"Filtre « {text} » mal formé.",
            errors=["Forme attendue : colonne:opérateur:valeur, par exemple commune:eq:Lyon."],
        )
    column, op = parts[0], parts[1].lower()
    value: Any = parts[2] if len(parts) == 3 else None
    if op == "in" and value is not None:
        value = value.split(",")
    return Condition(column, op, value)


def _tree(node: Any, budget: list[int]) -> Filter:
    budget[0] -= 1
    if budget[0] < 0:
        raise Invalid(f"Le filtre est trop complexe (plus de {MAX_FILTER_NODES} éléments).")
    if isinstance(node, dict):
        for kind in ("and", "or"):
            if kind in node:
                if len(node) != 1 or not isinstance(node[kind], list):
                    raise Invalid(f"« {kind} » attend une liste de filtres et rien d'autre.")
                return Group(kind, tuple(_tree(n, budget) for n in node[kind]))
        if "column" in node and "op" in node:
            extra = set(node) - {"column", "op", "value"}
            if extra or not isinstance(node["column"], str) or not isinstance(node["op"], str):
                raise Invalid("Une condition s'écrit {\"column\": …, \"op\": …, \"value\": …}.")
            return Condition(node["column"], node["op"].lower(), node.get("value"))
    raise Invalid(
        "Filtre JSON mal formé.",
        errors=[('Forme attendue : {"and": [...]}, {"or": [...]} ou '
                 '{"column": "commune", "op": "eq", "value": "Lyon"}.')],
    )


def parse_filter_json(text: str) -> Filter:
    try:
        node = json.loads(text)
    except json.JSONDecodeError as exc:
        raise Invalid(f"Le paramètre filter n'est pas du JSON valide : {exc.msg}.") from exc
    return _tree(node, [MAX_FILTER_NODES])


def build_filter(where: list[str], any_of: list[str], tree: str | None) -> Group:
    items: list[Filter] = [parse_condition(w) for w in where]
    if any_of:
        items.append(Group("or", tuple(parse_condition(o) for o in any_of)))
    if tree:
        items.append(parse_filter_json(tree))
    return Group("and", tuple(items))


def _floats(text: str, count: int, what: str, example: str) -> list[float]:
    try:
        values = [float(v) for v in text.split(",")]
    except ValueError:
        values = []
    if len(values) != count or not all(math.isfinite(v) for v in values):
        raise Invalid(f"Paramètre {what} mal formé : « {text} ».",
                      errors=[f"Forme attendue : {example}."])
    return values


def parse_bbox(text: str | None) -> BoundingBox | None:
    if not text:
        return None
    lon1, lat1, lon2, lat2 = _floats(text, 4, "bbox", "lon_min,lat_min,lon_max,lat_max")
    if not (-90 <= lat1 <= lat2 <= 90 and -180 <= lon1 <= lon2 <= 180):
        raise Invalid("Le rectangle bbox est incohérent (longitudes entre -180 et 180, latitudes "
                      "entre -90 et 90, minimums avant maximums).")
    return BoundingBox(lon1, lat1, lon2, lat2)


def parse_near(text: str | None) -> Near | None:
    if not text:
        return None
    lat, lon, radius = _floats(text, 3, "near", "latitude,longitude,rayon_en_mètres")
    if not (-90 <= lat <= 90 and -180 <= lon <= 180) or not 0 < radius <= 20_000_000:
        raise Invalid("Le paramètre near est incohérent (latitude, longitude, rayon positif en "
                      "mètres).")
    return Near(lat, lon, radius)


# --------------------------------------------------------------------- value handling


def convert_value(column: Column, value: Any) -> Any:
    """A filter value converted to the column's type (French error when it cannot be)."""
    if value is None:
        raise Invalid(f"Une valeur est attendue pour filtrer la colonne « {column.name} ».")
    converter = _CONVERTERS.get(column.type)
    if converter is None:  # text
        if isinstance(value, (dict, list)):
            raise Invalid(f"Valeur invalide pour la colonne « {column.name} » : un texte est "
                          "attendu.")
        return str(value)
    try:
        return converter(value)
    except (ValueError, TypeError, OverflowError) as exc:
        raise Invalid(
            f"Valeur « {value} » invalide pour la colonne « {column.name} » : "
            f"{_EXPECTED[column.type]} est attendu."
        ) from exc


def _to_integer(value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, str)):
        raise TypeError
    return int(value.strip().replace(" ", "").replace("\u202f", "")) \
        if isinstance(value, str) else value


def _to_number(value: Any) -> float:
    if isinstance(value, bool):
        raise TypeError
    number = float(value.strip().replace(" ", "").replace("\u202f", "").replace(",", ".")) \
        if isinstance(value, str) else float(value)
    if not math.isfinite(number):
        raise ValueError
    return number


def _to_boolean(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    word = str(value).strip().lower()
    if word in TRUE_WORDS:
        return True
    if word in FALSE_WORDS:
        return False
    raise ValueError


def _to_date(value: Any) -> date:
    if not isinstance(value, str):
        raise TypeError
    text = value.strip()
    if len(text) == 10 and text[2] == "/" and text[5] == "/":
        return date(int(text[6:]), int(text[3:5]), int(text[:2]))
    return date.fromisoformat(text)


def _to_datetime(value: Any) -> datetime:
    if not isinstance(value, str):
        raise TypeError
    text = value.strip()
    if len(text) <= 10:
        return datetime.combine(_to_date(text), datetime.min.time())
    moment = datetime.fromisoformat(text)
    if moment.tzinfo is not None:  # naive wall times are stored: convert to UTC
        moment = moment.astimezone(UTC).replace(tzinfo=None)
    return moment


_CONVERTERS: dict[str, Callable[[Any], Any]] = {
    "integer": _to_integer, "number": _to_number, "boolean": _to_boolean, "date": _to_date,
    "datetime": _to_datetime,
}
_EXPECTED = {"integer": "un nombre entier", "number": "un nombre",
             "boolean": "oui/non (ou true/false)", "date": "une date (AAAA-MM-JJ)",
             "datetime": "une date et heure (AAAA-MM-JJTHH:MM:SS)"}


# -------------------------------------------------------------------------- compiling


@dataclass
class Sql:
    text: str
    params: list[Any] = field(default_factory=list)
    # Set when the condition is nothing but search terms the word index answers exactly:
    # each term's rowid ranges in `search_postings` (records() then needs no scan at all).
    postings: list[tuple[tuple[int, int], ...]] | None = None
    # True when rows may come in another order than `_row` (the condition joins the word
    # index, or the version is read from its Parquet file): an unsorted read must then say
    # ORDER BY _row.
    joins: bool = False

    def order(self, sort_sql: str) -> str:
        """The ORDER BY clause of a read in `sort_sql` order ('' keeps the stored order)."""
        if sort_sql:
            return f" ORDER BY {sort_sql}"
        return " ORDER BY _row" if self.joins else ""


def _condition(columns: Sequence[Column], cond: Condition, params: list[Any]) -> str:
    column = check_identifier(columns, cond.column)
    col = quote(column.name)
    op = cond.op
    if op not in OPERATORS:
        known = ", ".join(f"{k} ({v})" for k, v in OPERATORS.items())
        raise Invalid(f"Opérateur « {op} » inconnu.", errors=[f"Opérateurs : {known}."])
    if op == "null":
        return f"{col} IS NULL"
    if op == "notnull":
        return f"{col} IS NOT NULL"
    if op in TEXT_OPERATORS:
        if column.type not in ("string", "geometry"):
            raise Invalid(f"L'opérateur {op} ({OPERATORS[op]}) ne s'applique qu'aux colonnes de "
                          f"texte ; « {column.name} » n'en est pas une.")
        if not isinstance(cond.value, (str, int, float)) or isinstance(cond.value, bool):
            raise Invalid(f"Une valeur texte est attendue pour {op} sur « {column.name} ».")
        params.append(fold(str(cond.value)))
        func = "contains" if op == "contains" else "starts_with"
        return f"{func}({fold_sql(col)}, ?)"
    if column.type == "geometry":
        raise Invalid(f"La colonne « {column.name} » (géométrie) ne se filtre qu'avec contains, "
                      "null ou notnull.")
    if op == "in":
        values = cond.value if isinstance(cond.value, list) else [cond.value]
        if not values or len(values) > MAX_IN_VALUES:
            raise Invalid(f"L'opérateur in attend entre 1 et {MAX_IN_VALUES} valeurs.")
        params.extend(convert_value(column, v) for v in values)
        return f"{col} IN ({', '.join('?' * len(values))})"
    params.append(convert_value(column, cond.value))
    if op == "ne":
        return f"{col} IS DISTINCT FROM ?"
    return f"{col} {COMPARISONS[op]} ?"


def _compile(columns: Sequence[Column], node: Filter, params: list[Any]) -> str:
    if isinstance(node, Condition):
        return _condition(columns, node, params)
    parts = [_compile(columns, item, params) for item in node.items]
    if not parts:
        return "TRUE" if node.kind == "and" else "FALSE"
    joiner = " AND " if node.kind == "and" else " OR "
    return "(" + joiner.join(parts) + ")"


def where_clause(table: VersionTable, query: Query, *, use_index: bool = True) -> Sql:
    """The WHERE condition of a query ('' when it selects every row). Search terms go
    through the word index when it answers them; `use_index=False` gives the plain form
    (the same rows), which identifies the query in cursors and ETags."""
    params: list[Any] = []
    parts: list[str] = []
    if table.row_scope is not None:  # a restricted view's own rows come first
        parts.append(f"({table.row_scope[0]})")
        params.extend(table.row_scope[1])
    if query.filter.items:
        parts.append(_compile(table.columns, query.filter, params))
    terms = [t for t in fold(query.search).split() if t]
    if len(terms) > MAX_SEARCH_TERMS:
        raise Invalid(f"La recherche est limitée à {MAX_SEARCH_TERMS} mots.")
    searched = _searched_text(table)
    only_search = not parts and not query.bbox and not query.near
    postings: list[tuple[tuple[int, int], ...]] | None = [] if terms and only_search else None
    for term in terms:
        ranges = table.term_ranges(term) if use_index else None
        if ranges is None:
            parts.append(f"contains({searched}, ?)")
            params.append(term)
            postings = None
            continue
        # The word index holds every text column: it narrows the rows, and is the whole
        # answer unless the view searches fewer columns (then the folded text decides).
        parts.append(f"_row IN (SELECT _row FROM search_postings WHERE "
                     f"{postings_condition(ranges)})" if ranges else "FALSE")
        if table.search_columns is not None:
            parts.append(f"contains({searched}, ?)")
            params.append(term)
            postings = None
        elif postings is not None:
            postings.append(ranges)
    if query.bbox or query.near:
        parts.append(_position_condition(table, query, params))
    joins = not table.in_row_order or any(
        p.startswith("_row IN (SELECT _row FROM search_postings") for p in parts)
    return Sql(" AND ".join(parts), params, postings, joins)


def _searched_text(table: VersionTable) -> str:
    """The folded text a search term is looked for in."""
    if table.search_columns is None:
        return quote(table.search_column)
    if table.search_columns:
        # Hidden columns must not be found by search: fold only the visible text.
        return fold_sql("concat_ws(' ', " + ", ".join(
            quote(c) for c in table.search_columns) + ")")
    return "''"


def _position_condition(table: VersionTable, query: Query, params: list[Any]) -> str:
    """The condition of the bbox and near filters (their values appended to `params`)."""
    if not table.positions:
        raise Invalid("Cette version n'a pas de positions : les filtres bbox et near ne "
                      "s'y appliquent pas.")
    lat, lon = quote(table.positions["lat"]), quote(table.positions["lon"])
    parts = []
    if query.bbox:
        b = query.bbox
        parts.append(f"{lat} BETWEEN ? AND ? AND {lon} BETWEEN ? AND ?")
        params += [b.min_lat, b.max_lat, b.min_lon, b.max_lon]
    if query.near:
        n = query.near
        dlat = math.degrees(n.radius_m / EARTH_RADIUS_M)
        coslat = max(math.cos(math.radians(n.lat)), 1e-6)
        dlon = min(180.0, dlat / coslat)
        # The bounding square prunes cheaply; the haversine distance decides.
        parts.append(
            f"{lat} BETWEEN ? AND ? AND ({lon} BETWEEN ? AND ? OR ? >= 180) AND "
            f"2 * {EARTH_RADIUS_M} * asin(sqrt(pow(sin(radians({lat} - ?) / 2), 2) + "
            f"cos(radians(?)) * cos(radians({lat})) * pow(sin(radians({lon} - ?) / 2), 2)"
            ")) <= ?"
        )
        params += [n.lat - dlat, n.lat + dlat, n.lon - dlon, n.lon + dlon, dlon,
                   n.lat, n.lat, n.lon, n.radius_m]
    return " AND ".join(parts)


def fingerprint(table: VersionTable, query: Query, extra: Any = None) -> str:
    """A stable digest of what a query selects (for cursors and ETags)."""
    where = where_clause(table, query, use_index=False)
    body = json.dumps([table.key, where.text, where.params, extra], default=str,
                      ensure_ascii=False)
    return hashlib.sha256(body.encode()).hexdigest()


# ----------------------------------------------------------------- stored filters


def compile_filter(table: VersionTable, node: Filter) -> Sql:
    """A filter (e.g. a grant's rows) compiled to an SQL condition with its parameters."""
    params: list[Any] = []
    return Sql(_compile(table.columns, node, params), params)


def check_filter(columns: list[Column], node: Filter) -> None:
    """Check a filter against a version's columns alone (no data is read): every column
    exists, every operator is known and every value fits its column (French Invalid)."""
    _compile(columns, node, [])


def filter_tree(node: Filter) -> dict[str, Any]:
    """The JSON form of a filter (what parse_filter_json reads back)."""
    if isinstance(node, Condition):
        out: dict[str, Any] = {"column": node.column, "op": node.op}
        if node.value is not None:
            out["value"] = node.value
        return out
    return {node.kind: [filter_tree(i) for i in node.items]}
