"""Queries on a version, built from parameters (never from user SQL).

A `Query` says which rows (filters, full-text search, positions), in which order, which
columns and which page. It compiles to parameterised SQL: identifiers are checked against
the version's columns and quoted, values are always bound parameters.

Filters, as they arrive from a URL:
- `where=colonne:op:valeur` (repeatable; every condition must hold);
- `or=colonne:op:valeur` (repeatable; at least one of them must hold);
- `filter=<JSON tree>` for any nesting: {"and": [...]}, {"or": [...]},
  {"column": "commune", "op": "eq", "value": "Lyon"}.
Operators: eq, ne, lt, lte, gt, gte, in (values separated by `,` in a URL, a list in JSON),
contains, startswith (both ignore accents and case), null, notnull.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import math
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc

from patrimoine.core.errors import Invalid
from patrimoine.core.text import fold
from patrimoine.datastore.engine import (
    SORTABLE_TYPES,
    TEXT_TYPES,
    Column,
    RowStore,
    VersionTable,
    check_identifier,
    fold_sql,
    postings_condition,
    quote,
    sort_expr,
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
BUCKETS = {"day": "day", "month": "month", "year": "year",
           "jour": "day", "mois": "month", "annee": "year", "année": "year"}
METRICS = ("count", "sum", "avg", "min", "max", "count_distinct")
NUMERIC_TYPES = ("integer", "number")
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
class SortKey:
    column: str
    descending: bool = False


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


@dataclass(frozen=True)
class Page:
    columns: tuple[str, ...] = ()
    sort: tuple[SortKey, ...] = ()
    limit: int = 100
    offset: int = 0
    cursor: str | None = None
    count: bool = True


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


def parse_sort(text: str | None) -> tuple[SortKey, ...]:
    """`colonne,-autre`: ascending, or descending with a leading minus."""
    keys = []
    for part in (text or "").split(","):
        part = part.strip()
        if not part:
            continue
        desc = part.startswith("-")
        keys.append(SortKey(part[1:] if desc else part, desc))
    return tuple(keys)


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


def _convert(column: Column, value: Any) -> Any:
    """A filter value converted to the column's type (French error when it cannot be)."""
    if value is None:
        raise Invalid(f"Une valeur est attendue pour filtrer la colonne « {column.name} ».")
    t = column.type
    text = value if isinstance(value, str) else None
    try:
        if t == "integer":
            if isinstance(value, bool) or not isinstance(value, (int, str)):
                raise ValueError
            return int(text.strip().replace(" ", "").replace("\u202f", "")) if text else value
        if t == "number":
            if isinstance(value, bool):
                raise ValueError
            number = float(text.strip().replace(" ", "").replace("\u202f", "").replace(",", "."))\
                if text is not None else float(value)
            if not math.isfinite(number):
                raise ValueError
            return number
        if t == "boolean":
            if isinstance(value, bool):
                return value
            word = str(value).strip().lower()
            if word in TRUE_WORDS:
                return True
            if word in FALSE_WORDS:
                return False
            raise ValueError
        if t == "date":
            if text is None:
                raise ValueError
            return _parse_date(text)
        if t == "datetime":
            if text is None:
                raise ValueError
            text = text.strip()
            if len(text) <= 10:
                return datetime.combine(_parse_date(text), datetime.min.time())
            moment = datetime.fromisoformat(text)
            if moment.tzinfo is not None:  # naive wall times are stored: convert to UTC
                moment = moment.astimezone(UTC).replace(tzinfo=None)
            return moment
    except (ValueError, OverflowError) as exc:
        expected = {"integer": "un nombre entier", "number": "un nombre",
                    "boolean": "oui/non (ou true/false)", "date": "une date (AAAA-MM-JJ)",
                    "datetime": "une date et heure (AAAA-MM-JJTHH:MM:SS)"}[t]
        raise Invalid(
            f"Valeur « {value} » invalide pour la colonne « {column.name} » : {expected} "
            "est attendu."
        ) from exc
    if isinstance(value, (dict, list)):
        raise Invalid(f"Valeur invalide pour la colonne « {column.name} » : un texte est attendu.")
    return str(value)


def _parse_date(text: str) -> date:
    text = text.strip()
    if len(text) == 10 and text[2] == "/" and text[5] == "/":
        return date(int(text[6:]), int(text[3:5]), int(text[:2]))
    return date.fromisoformat(text)


# -------------------------------------------------------------------------- compiling


@dataclass
class Sql:
    text: str
    params: list[Any] = field(default_factory=list)
    # Set when the condition is nothing but search terms the word index answers exactly:
    # each term's rowid ranges in `search_postings` (records() then needs no scan at all).
    postings: list[tuple[tuple[int, int], ...]] | None = None
    # True when the condition joins the word index: rows then lose their stored order, so
    # an unsorted read must say ORDER BY _row.
    joins: bool = False

    def order(self, sort_sql: str) -> str:
        """The ORDER BY clause of a read in `sort_sql` order ('' keeps the stored order)."""
        if sort_sql:
            return f" ORDER BY {sort_sql}"
        return " ORDER BY _row" if self.joins else ""


def _condition(table: VersionTable, cond: Condition, params: list[Any]) -> str:
    column = check_identifier(table, cond.column)
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
        params.extend(_convert(column, v) for v in values)
        return f"{col} IN ({', '.join('?' * len(values))})"
    params.append(_convert(column, cond.value))
    if op == "ne":
        return f"{col} IS DISTINCT FROM ?"
    return f"{col} {COMPARISONS[op]} ?"


def _compile(table: VersionTable, node: Filter, params: list[Any]) -> str:
    if isinstance(node, Condition):
        return _condition(table, node, params)
    parts = [_compile(table, item, params) for item in node.items]
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
        parts.append(_compile(table, query.filter, params))
    terms = [t for t in fold(query.search).split() if t]
    if len(terms) > MAX_SEARCH_TERMS:
        raise Invalid(f"La recherche est limitée à {MAX_SEARCH_TERMS} mots.")
    if table.search_columns is None:
        searched = quote(table.search_column)
    elif table.search_columns:
        # Hidden columns must not be found by search: fold only the visible text.
        searched = fold_sql("concat_ws(' ', " + ", ".join(
            quote(c) for c in table.search_columns) + ")")
    else:
        searched = "''"
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
        if not table.positions:
            raise Invalid("Cette version n'a pas de positions : les filtres bbox et near ne "
                          "s'y appliquent pas.")
        lat, lon = quote(table.positions["lat"]), quote(table.positions["lon"])
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
    joins = any(p.startswith("_row IN (SELECT _row FROM search_postings") for p in parts)
    return Sql(" AND ".join(parts), params, postings, joins)


def fingerprint(table: VersionTable, query: Query, extra: Any = None) -> str:
    """A stable digest of what a query selects (for cursors and ETags)."""
    where = where_clause(table, query, use_index=False)
    body = json.dumps([table.key, where.text, where.params, extra], default=str,
                      ensure_ascii=False)
    return hashlib.sha256(body.encode()).hexdigest()


# --------------------------------------------------------------------------- records


@dataclass
class RecordsPage:
    columns: list[str]
    rows: list[dict[str, Any]]
    total: int | None
    limit: int
    offset: int | None
    next_cursor: str | None
    # records(as_json=True) from the row store: the rows as a JSON array (rows is then empty).
    rows_json: bytes | None = None


def check_sort(table: VersionTable, sort: tuple[SortKey, ...]) -> tuple[SortKey, ...]:
    if len(sort) > 5:
        raise Invalid("Le tri porte sur 5 colonnes au plus.")
    for key in sort:
        column = check_identifier(table, key.column, "colonne de tri")
        if column.type not in SORTABLE_TYPES:
            raise Invalid(f"La colonne « {key.column} » (géométrie) ne peut pas servir au tri.")
    return sort


def order_by(table: VersionTable, sort: tuple[SortKey, ...]) -> str:
    parts = [f"{sort_expr(check_identifier(table, k.column))} "
             f"{'DESC' if k.descending else 'ASC'} NULLS LAST" for k in sort]
    row_desc = sort[-1].descending if sort else False
    parts.append(f"_row {'DESC' if row_desc else 'ASC'}")
    return ", ".join(parts)


def _encode_cursor(data: dict[str, Any]) -> str:
    raw = json.dumps(data, default=_json_default, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _decode_cursor(text: str, expected: str) -> dict[str, Any]:
    try:
        raw = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
        data = json.loads(raw)
        if not isinstance(data, dict) or data.get("f") != expected:
            raise ValueError
        return data
    except (ValueError, binascii.Error, UnicodeDecodeError) as exc:
        raise Invalid("Curseur de pagination invalide, ou obtenu pour une autre requête : "
                      "repartez de la première page.") from exc


def _keyset(table: VersionTable, sort: tuple[SortKey, ...], values: list[Any], last_row: int,
            params: list[Any]) -> str:
    """Rows strictly after (values, last_row) in the order `order_by(sort)` defines."""
    if len(values) != len(sort):
        raise Invalid("Curseur de pagination invalide : repartez de la première page.")
    ors: list[str] = []
    prefix: list[str] = []
    prefix_params: list[Any] = []
    for key, value in zip(sort, values, strict=True):
        column = table.column(key.column)
        assert column is not None
        col = quote(key.column)
        expr = sort_expr(column)
        cast = f"CAST(? AS {column.sql_type})"
        if value is not None:
            after = f"({expr} {'<' if key.descending else '>'} {cast} OR {col} IS NULL)"
            ors.append(" AND ".join([*prefix, after]))
            params.extend([*prefix_params, value])
            prefix.append(f"{expr} = {cast}")
            prefix_params.append(value)
        else:
            prefix.append(f"{col} IS NULL")
    row_desc = sort[-1].descending if sort else False
    ors.append(" AND ".join([*prefix, f"_row {'<' if row_desc else '>'} ?"]))
    params.extend([*prefix_params, int(last_row)])
    return "(" + " OR ".join(f"({o})" for o in ors) + ")"


def _positions(table: VersionTable, key: SortKey, start: int, count: int) -> list[int]:
    """Positions in the column's sort table of logical rows start..start+count-1."""
    n, z = table.row_count, table.null_counts[key.column]
    out = []
    for i in range(start, min(start + count, n)):
        if key.descending:
            out.append(n - 1 - i)
        else:
            out.append(z + i if i < n - z else i - (n - z))
    return out


def records(table: VersionTable, query: Query, page: Page, *, as_json: bool = False
            ) -> RecordsPage:
    """One page of rows, with the total count and a cursor to the next page.

    With `as_json`, a page of whole records comes as JSON text from the row store when the
    version has one: the query then only finds the rows' `_row`s."""
    if not 1 <= page.limit <= table.limits.max_page_size:
        raise Invalid(f"La taille de page doit être comprise entre 1 et "
                      f"{table.limits.max_page_size}.")
    if page.offset < 0:
        raise Invalid("Le décalage (offset) ne peut pas être négatif.")
    selected = [check_identifier(table, c).name for c in page.columns] or table.names
    sort = check_sort(table, page.sort)
    where = where_clause(table, query)
    fp = fingerprint(table, query, [[k.column, k.descending] for k in sort])[:16]
    cursor = _decode_cursor(page.cursor, fp) if page.cursor else None
    start = page.offset
    if cursor is not None:
        try:
            start = int(cursor["o"])
        except (KeyError, TypeError, ValueError) as exc:
            raise Invalid("Curseur de pagination invalide : repartez de la première page.") \
                from exc
    sort_cols = [k.column for k in sort]
    store = table.whole_rows if as_json and selected == table.names else None
    # From the row store, a query reads `_row` (and the sort columns a cursor needs) only.
    shown = [] if store is not None else selected
    fetched = ["_row", *shown, *[c for c in sort_cols if c not in shown]]
    select = ", ".join(quote(c) for c in fetched)
    params: list[Any] = []

    if where.postings is not None and not sort:
        # Search alone, answered by the word index: the matching rows are the intersection of
        # each term's postings; the page is a slice of them, the count their number.
        matches = _intersect([table.term_rows(r) for r in where.postings])
        if cursor is not None and "k" in cursor:
            try:
                after = int(cursor.get("r", 0))
            except (TypeError, ValueError) as exc:
                raise Invalid("Curseur de pagination invalide : repartez de la première page.") \
                    from exc
            offset = int(pc.sum(pc.less_equal(matches, after)).as_py() or 0)
        else:
            offset = start
        wanted = matches[offset:offset + page.limit].to_pylist()
        if store is not None:
            rows = [(row_id,) for row_id in wanted]
        else:
            rows = table.fetch(f"SELECT {select} FROM records WHERE _row IN "
                               f"({', '.join(map(str, wanted))})") if wanted else []
            rows.sort(key=lambda r: r[0])
        return _page(table, selected, fetched, rows, sort, where, page, start, fp,
                     positional=False, total=len(matches), store=store)
    if not where.text and not sort and store is not None:
        # Every row, stored order: the page's _row are start + 1 … (no query at all).
        rows = [(row_id,) for row_id in range(start + 1,
                                              min(start + page.limit, table.row_count) + 1)]
        return _page(table, selected, fetched, rows, sort, where, page, start, fp,
                     positional=False, store=store)
    if not where.text and not sort:
        # Records are stored by _row (1..n, checked when the layout is built, so a row's
        # rowid is _row - 1): any page is a range of rowids, read without any index.
        if table.rowid_usable:
            sql = f"SELECT {select} FROM records WHERE rowid BETWEEN ? AND ? ORDER BY rowid"
            params = [start, start + page.limit - 1]
        else:
            sql = f"SELECT {select} FROM records WHERE _row BETWEEN ? AND ? ORDER BY _row"
            params = [start + 1, start + page.limit]
    elif not where.text and len(sort) == 1 and sort[0].column in table.sortable:
        positions = _positions(table, sort[0], start, page.limit)
        if positions:
            lo, hi = min(positions), max(positions)
            ids = table.sorted_rows(sort[0].column, lo, hi)
            # Ranks are contiguous except when a page straddles the nulls: keep the page's own.
            by_pos = dict(zip(range(lo, hi + 1), ids, strict=False))
            wanted = [by_pos[p] for p in positions]
            if store is not None:
                # Positional pages need no sort values for their cursor.
                rows = [(row_id,) for row_id in wanted]
            else:
                order = {row_id: i for i, row_id in enumerate(wanted)}
                # Integers read from our own table, written inline so the _row index is used.
                rows = table.fetch(f"SELECT {select} FROM records WHERE _row IN "
                                   f"({', '.join(map(str, wanted))})")
                rows.sort(key=lambda r: order[r[0]])
        else:
            rows = []
        return _page(table, selected, fetched, rows, sort, where, page, start, fp,
                     positional=True, store=store)
    else:
        conditions = [where.text] if where.text else []
        params = list(where.params)
        if cursor is not None and "k" in cursor:
            values = cursor.get("k")
            if not isinstance(values, list):
                raise Invalid("Curseur de pagination invalide : repartez de la première page.")
            conditions.append(_keyset(table, sort, values, cursor.get("r", 0), params))
            offset = 0
        else:
            offset = start
        where_sql = f" WHERE {' AND '.join(conditions)}" if conditions else ""
        # Records are stored in _row order and DuckDB preserves insertion order, so the
        # default order needs no ORDER BY: the scan stops as soon as the page is full.
        order_sql = where.order(order_by(table, sort) if sort else "")
        sql = (f"SELECT {select} FROM records{where_sql}{order_sql} "
               f"LIMIT {int(page.limit)} OFFSET {int(offset)}")
    rows = table.fetch(sql, params)
    return _page(table, selected, fetched, rows, sort, where, page, start, fp, positional=False,
                 store=store,
                 known=_equality_count(table, query) if where.text and page.count else None)


def _intersect(sets: list[pa.Array]) -> pa.Array:
    """Rows present in every (ascending, distinct) set, ascending."""
    sets = sorted(sets, key=len)
    out = sets[0]
    for other in sets[1:]:
        if not len(out):
            break
        out = out.filter(pc.is_in(out, value_set=other))
    return out


def _equality_count(table: VersionTable, query: Query) -> int | None:
    """The number of rows a lone `colonne:eq:valeur` filter selects, read from the column's
    value counts (None when the query is anything else or the counts cannot tell)."""
    items = query.filter.items
    if (table.row_scope is not None or query.search.strip() or query.bbox or query.near
            or len(items) != 1 or not isinstance(items[0], Condition) or items[0].op != "eq"):
        return None
    column = table.column(items[0].column)
    counts = table.value_counts(column.name) if column is not None else None
    if counts is None or counts.lookup is None:
        return None
    return counts.lookup.get(_convert(column, items[0].value), 0)  # type: ignore[arg-type]


def _page(table: VersionTable, selected: list[str], fetched: list[str], rows: list[tuple[Any, ...]],
          sort: tuple[SortKey, ...], where: Sql, page: Page, start: int, fp: str,
          *, positional: bool, total: int | None = None, known: int | None = None,
          store: RowStore | None = None) -> RecordsPage:
    """The page of `rows` (tuples in `fetched`'s order). `total`: the count of matches when
    the caller has it; `known`: the count of a filter read elsewhere than by counting."""
    if total is not None:
        total = total if page.count else None
    elif not where.text:
        total = table.row_count
    elif page.count and known is not None:
        total = known
    elif page.count:
        total = int(table.fetch(f"SELECT count(*) FROM records WHERE {where.text}",
                                where.params)[0][0])
    index = {name: i for i, name in enumerate(fetched)}
    if store is not None:
        out: list[dict[str, Any]] = []
        rows_json: bytes | None = store.json([int(r[0]) for r in rows])
    else:
        out = [{"_row": r[0], **{c: _clean(r[index[c]]) for c in selected}} for r in rows]
        rows_json = None
    next_cursor = None
    has_more = len(rows) == page.limit and (total is None or start + len(rows) < total)
    if has_more and rows:
        last = rows[-1]
        data: dict[str, Any] = {"f": fp, "o": start + len(rows)}
        if where.text or (sort and not positional):
            data["k"] = [last[index[k.column]] for k in sort]
            data["r"] = last[0]
        next_cursor = _encode_cursor(data)
    return RecordsPage(columns=["_row", *selected], rows=out, total=total, limit=page.limit,
                       offset=None if page.cursor else page.offset, next_cursor=next_cursor,
                       rows_json=rows_json)


def _clean(value: Any) -> Any:
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


def _json_default(value: Any) -> Any:
    if isinstance(value, (date, datetime)):
        return value.isoformat()
    raise TypeError(f"{type(value).__name__} n'est pas sérialisable")


# ---------------------------------------------------------------------------- facets


@dataclass
class FacetValue:
    value: Any
    count: int


@dataclass
class Facet:
    column: str
    values: list[FacetValue]
    truncated: bool


def facets(table: VersionTable, query: Query, columns: list[str], size: int = 30) -> list[Facet]:
    """The most frequent values of each column (with their counts) among the matching rows."""
    if not 1 <= size <= 1000:
        raise Invalid("Le nombre de valeurs par facette doit être compris entre 1 et 1000.")
    if len(columns) > 20:
        raise Invalid("20 facettes au plus par requête.")
    where = where_clause(table, query)
    where_sql = f" WHERE {where.text}" if where.text else ""
    out = []
    for name in columns:
        column = check_identifier(table, name, "colonne de facette")
        col = quote(column.name)
        # Every row (no filter, no view limited to some rows): the layout's value counts.
        counts = table.value_counts(column.name) if not where.text else None
        if counts is not None:
            out.append(Facet(column.name, [FacetValue(_clean(v), n)
                                           for v, n in counts.ordered[:size]],
                             truncated=counts.distinct > size))
            continue
        rows = table.fetch(
            f"SELECT {col}, count(*) AS n FROM records{where_sql} GROUP BY {col} "
            f"ORDER BY n DESC, {sort_expr(column)} ASC NULLS LAST LIMIT {size + 1}",
            where.params,
        )
        out.append(Facet(column.name, [FacetValue(_clean(v), int(n)) for v, n in rows[:size]],
                         truncated=len(rows) > size))
    return out


# ------------------------------------------------------------------------- aggregates


@dataclass(frozen=True)
class GroupKey:
    column: str
    bucket: str | None = None

    @property
    def alias(self) -> str:
        return f"{self.column}_{self.bucket}" if self.bucket else self.column


@dataclass(frozen=True)
class Metric:
    function: str
    column: str | None = None

    @property
    def alias(self) -> str:
        return f"{self.function}_{self.column}" if self.column else self.function


def _alias_order(alias: str, collated: dict[str, bool]) -> str:
    return quote(alias) + (" COLLATE noaccent.nocase" if collated.get(alias) else "")


def parse_group(text: str) -> GroupKey:
    """`colonne` or `colonne:month` (day, month, year; jour, mois, annee)."""
    column, _, bucket = text.partition(":")
    if bucket and bucket.lower() not in BUCKETS:
        raise Invalid(f"Regroupement de dates « {bucket} » inconnu : day, month ou year.")
    return GroupKey(column, BUCKETS[bucket.lower()] if bucket else None)


def parse_metric(text: str) -> Metric:
    """`count`, or `fonction:colonne` with sum, avg, min, max, count, count_distinct."""
    function, _, column = text.partition(":")
    function = function.lower()
    if function not in METRICS:
        raise Invalid(f"Calcul « {function} » inconnu.",
                      errors=["Calculs : count, sum, avg, min, max, count_distinct."])
    if function not in ("count",) and not column:
        raise Invalid(f"Le calcul {function} demande une colonne : {function}:colonne.")
    return Metric(function, column or None)


@dataclass
class AggregateResult:
    columns: list[str]
    rows: list[dict[str, Any]]


def aggregate(
    table: VersionTable,
    query: Query,
    groups: list[GroupKey],
    metrics: list[Metric],
    sort: tuple[SortKey, ...] = (),
    limit: int | None = None,
) -> AggregateResult:
    """Counts, sums, averages, extremes and distinct counts, grouped by columns and date
    buckets, over the matching rows."""
    if len(groups) > 5:
        raise Invalid("5 regroupements au plus.")
    metrics = metrics or [Metric("count")]
    if len(metrics) > 20:
        raise Invalid("20 calculs au plus.")
    select: list[str] = []
    grouping: list[str] = []
    aliases: list[str] = []
    collated: dict[str, bool] = {}
    for g in groups:
        column = check_identifier(table, g.column, "colonne de regroupement")
        col = quote(column.name)
        if g.bucket:
            if column.type not in ("date", "datetime"):
                raise Invalid(f"Le regroupement par {g.bucket} ne s'applique qu'aux dates ; "
                              f"« {column.name} » n'en est pas une.")
            # Grouping on year() and month() integers is ~3x faster than on date_trunc().
            if g.bucket == "day":
                expr = f"CAST({col} AS DATE)"
                grouping.append(expr)
            elif g.bucket == "month":
                expr = f"make_date(year({col}), month({col}), 1)"
                grouping += [f"year({col})", f"month({col})"]
            else:
                expr = f"make_date(year({col}), 1, 1)"
                grouping.append(f"year({col})")
        else:
            expr = col
            grouping.append(col)
        select.append(f"{expr} AS {quote(g.alias)}")
        aliases.append(g.alias)
        collated[g.alias] = column.type in TEXT_TYPES and not g.bucket
    for m in metrics:
        if m.column is None:
            expr = "count(*)"
        else:
            column = check_identifier(table, m.column, "colonne de calcul")
            col = quote(column.name)
            if m.function in ("sum", "avg") and column.type not in NUMERIC_TYPES:
                raise Invalid(f"Le calcul {m.function} demande une colonne numérique ; "
                              f"« {column.name} » n'en est pas une.")
            if m.function in ("min", "max") and column.type not in SORTABLE_TYPES:
                raise Invalid(f"Le calcul {m.function} ne s'applique pas à « {column.name} ».")
            sql_func = {"count_distinct": "count(DISTINCT {})", "count": "count({})"}.get(
                m.function, m.function + "({})")
            expr = sql_func.format(col)
        if m.alias in aliases:
            raise Invalid(f"Le calcul {m.alias} est demandé deux fois.")
        select.append(f"{expr} AS {quote(m.alias)}")
        aliases.append(m.alias)
    where = where_clause(table, query)
    where_sql = f" WHERE {where.text}" if where.text else ""
    group_sql = f" GROUP BY {', '.join(grouping)}" if grouping else ""
    order = []
    for key in sort:
        if key.column not in aliases:
            raise Invalid(f"Tri « {key.column} » impossible : triez sur "
                          + ", ".join(aliases) + ".")
        order.append(f"{_alias_order(key.column, collated)} "
                     f"{'DESC' if key.descending else 'ASC'} NULLS LAST")
    order += [f"{_alias_order(g.alias, collated)} ASC NULLS LAST" for g in groups]
    order_sql = f" ORDER BY {', '.join(order)}" if order else ""
    sql = f"SELECT {', '.join(select)} FROM records{where_sql}{group_sql}{order_sql}"
    if limit is not None:
        if not 1 <= limit <= table.limits.max_rows:
            raise Invalid(f"La limite doit être comprise entre 1 et {table.limits.max_rows}.")
        rows = table.fetch(f"{sql} LIMIT {int(limit)}", where.params)
    else:
        rows = table.fetch_limited(sql, where.params, what="Ce regroupement")
    return AggregateResult(aliases, [dict(zip(aliases, map(_clean, r), strict=True))
                                     for r in rows])


# ----------------------------------------------------------------- stored filters


def compile_filter(table: VersionTable, node: Filter) -> Sql:
    """A filter (e.g. a grant's rows) compiled to an SQL condition with its parameters."""
    params: list[Any] = []
    return Sql(_compile(table, node, params), params)


def check_filter(columns: list[Column], node: Filter) -> None:
    """Check a filter against a version's columns alone (no data is read): every column
    exists, every operator is known and every value fits its column (French Invalid)."""
    from patrimoine.datastore.engine import DEFAULT_LIMITS

    shape = VersionTable(key="", columns=columns, positions=None, row_count=0,
                         search_column="", sortable=[], null_counts={}, limits=DEFAULT_LIMITS,
                         _con=None)  # type: ignore[arg-type]
    compile_filter(shape, node)


def filter_tree(node: Filter) -> dict[str, Any]:
    """The JSON form of a filter (what parse_filter_json reads back)."""
    if isinstance(node, Condition):
        out: dict[str, Any] = {"column": node.column, "op": node.op}
        if node.value is not None:
            out["value"] = node.value
        return out
    return {node.kind: [filter_tree(i) for i in node.items]}
