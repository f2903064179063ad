"""Pages of records: the order (sorts), the page (offset or cursor) and how each kind of
page is found cheaply in a version's layout (see engine/layout.py).

A page is the list of its `_row`s, then those rows: read from the row store as ready-made
JSON when whole records are asked for, else from DuckDB. Cursors carry the position and,
for filtered or sorted pages, the last row's sort values (keyset paging); they are tied to
their query by its fingerprint.
"""

from __future__ import annotations

import base64
import binascii
import json
import math
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc

from patrimoine.core.errors import Invalid
from patrimoine.datastore.engine import (
    SORTABLE_TYPES,
    RowStore,
    VersionTable,
    check_identifier,
    quote,
    sort_expr,
)
from patrimoine.datastore.query.filters import (
    Condition,
    Query,
    Sql,
    convert_value,
    fingerprint,
    where_clause,
)


@dataclass(frozen=True)
class SortKey:
    column: str
    descending: bool = False


@dataclass(frozen=True)
class Page:
    columns: tuple[str, ...] = ()
    sort: tuple[SortKey, ...] = ()
    limit: int = 100
    offset: int = 0
    cursor: str | None = None
    count: bool = True


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
        column = check_identifier(table.columns, key.column, "colonne de tri")
        if column.type not in SORTABLE_TYPES:
            raise Invalid(f"La colonne « {key.column} » (géométrie) ne peut pas servir au tri.")
    return sort


def order_by(table: VersionTable, sort: tuple[SortKey, ...]) -> str:
    parts = [f"{sort_expr(check_identifier(table.columns, k.column))} "
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


@dataclass
class _PageRequest:
    """A page request, checked and resolved: what each way of finding a page reads."""

    table: VersionTable
    query: Query
    page: Page
    selected: list[str]  # the columns shown
    sort: tuple[SortKey, ...]
    where: Sql
    fingerprint: str
    cursor: dict[str, Any] | None
    start: int  # the page's first row in the query's order (0-based)
    store: RowStore | None  # when set, rows come from the row store as JSON
    fetched: list[str]  # what a query reads: `_row`, the shown and the sort columns

    @property
    def select(self) -> str:
        return ", ".join(quote(c) for c in self.fetched)

    @property
    def stop(self) -> int:
        return self.start + self.page.limit

    def rows_of(self, wanted: list[int]) -> list[tuple[Any, ...]]:
        """The rows whose `_row` are `wanted`, in that order."""
        if self.store is not None:
            return [(row_id,) for row_id in wanted]
        if not wanted:
            return []
        order = {row_id: i for i, row_id in enumerate(wanted)}
        # Integers read from our own table, written inline so the _row index is used.
        rows = self.table.fetch(f"SELECT {self.select} FROM records WHERE _row IN "
                                f"({', '.join(map(str, wanted))})")
        rows.sort(key=lambda r: order[r[0]])
        return rows


def records(table: VersionTable, query: Query, page: Page, *, as_json: bool = False
            ) -> RecordsPage:
    """One page of rows, with the total count and a cursor to the next page.

    With `as_json`, a page of whole records comes as JSON text from the row store when the
    version has one: the query then only finds the rows' `_row`s."""
    request = _resolve(table, query, page, as_json)
    sort, where = request.sort, request.where
    if where.postings is not None and not sort:
        return _search_page(request)
    if not where.text and not sort:
        return _stored_order_page(request)
    if not where.text and len(sort) == 1 and sort[0].column in table.sortable \
            and table.laid_out:
        return _sorted_page(request)
    return _scanned_page(request)


def _resolve(table: VersionTable, query: Query, page: Page, as_json: bool) -> _PageRequest:
    if not 1 <= page.limit <= table.limits.max_page_size:
        raise Invalid(f"La taille de page doit être comprise entre 1 et "
                      f"{table.limits.max_page_size}.")
    if page.offset < 0:
        raise Invalid("Le décalage (offset) ne peut pas être négatif.")
    selected = [check_identifier(table.columns, c).name for c in page.columns] or table.names
    sort = check_sort(table, page.sort)
    fp = fingerprint(table, query, [[k.column, k.descending] for k in sort])[:16]
    cursor = _decode_cursor(page.cursor, fp) if page.cursor else None
    start = page.offset
    if cursor is not None:
        try:
            start = int(cursor["o"])
        except (KeyError, TypeError, ValueError) as exc:
            raise Invalid("Curseur de pagination invalide : repartez de la première page.") \
                from exc
    store = table.whole_rows if as_json and selected == table.names else None
    # From the row store, a query reads `_row` (and the sort columns a cursor needs) only.
    shown = [] if store is not None else selected
    fetched = ["_row", *shown, *[k.column for k in sort if k.column not in shown]]
    return _PageRequest(table, query, page, selected, sort, where_clause(table, query), fp,
                        cursor, start, store, fetched)


def _search_page(request: _PageRequest) -> RecordsPage:
    """Search alone, answered by the word index: the matching rows are the intersection of
    each term's postings; the page is a slice of them, the count their number."""
    table, cursor = request.table, request.cursor
    matches = _intersect([table.term_rows(r) for r in request.where.postings or []])
    offset = request.start
    if cursor is not None and "k" in cursor:
        try:
            after = int(cursor.get("r", 0))
        except (TypeError, ValueError) as exc:
            raise Invalid("Curseur de pagination invalide : repartez de la première page.") \
                from exc
        offset = int(pc.sum(pc.less_equal(matches, after)).as_py() or 0)
    wanted = matches[offset:offset + request.page.limit].to_pylist()
    return _page(request, request.rows_of(wanted), positional=False, total=len(matches))


def _stored_order_page(request: _PageRequest) -> RecordsPage:
    """Every row in the stored order. Records are stored by _row (1..n, checked when the
    layout is built, so a row's rowid is _row - 1): any page is a range, read without any
    index, or no query at all from the row store."""
    table, start = request.table, request.start
    if request.store is not None:
        rows = request.rows_of(list(range(start + 1, min(request.stop, table.row_count) + 1)))
    elif table.rowid_usable:
        rows = table.fetch(f"SELECT {request.select} FROM records WHERE rowid BETWEEN ? AND ? "
                           "ORDER BY rowid", [start, request.stop - 1])
    else:
        # Rows met in `_row` order (a file checked so) need no sort: the scan stops at the
        # page's last row.
        order = "" if table.in_row_order else " ORDER BY _row"
        rows = table.fetch(f"SELECT {request.select} FROM records WHERE _row BETWEEN ? AND ?"
                           f"{order} LIMIT {int(request.page.limit)}", [start + 1, request.stop])
    return _page(request, rows, positional=False)


def _sorted_page(request: _PageRequest) -> RecordsPage:
    """Every row sorted on one column: a range of the column's sort positions."""
    table, key = request.table, request.sort[0]
    positions = _positions(table, key, request.start, request.page.limit)
    wanted: list[int] = []
    if positions:
        lo, hi = min(positions), max(positions)
        ids = table.sorted_rows(key.column, lo, hi)
        # Ranks are contiguous except when a page straddles the nulls: keep the page's own.
        by_pos = dict(zip(range(lo, hi + 1), ids, strict=False))
        wanted = [by_pos[p] for p in positions]
    # Positional pages need no sort values for their cursor.
    return _page(request, request.rows_of(wanted), positional=True)


def _scanned_page(request: _PageRequest) -> RecordsPage:
    """Filtered or sorted on several columns: a query reading the page, after the cursor's
    last row (keyset) or from the offset."""
    table, where, cursor = request.table, request.where, request.cursor
    conditions = [where.text] if where.text else []
    params = list(where.params)
    offset = request.start
    if cursor is not None and "k" in cursor:
        values = cursor.get("k")
        if not isinstance(values, list):
            raise Invalid("Curseur de pagination invalide : repartez de la première page.")
        conditions.append(_keyset(table, request.sort, values, cursor.get("r", 0), params))
        offset = 0
    where_sql = f" WHERE {' AND '.join(conditions)}" if conditions else ""
    # Laid-out records are stored in _row order and DuckDB preserves insertion order, so
    # the default order needs no ORDER BY: the scan stops as soon as the page is full.
    order_sql = where.order(order_by(table, request.sort) if request.sort else "")
    rows = table.fetch(f"SELECT {request.select} FROM records{where_sql}{order_sql} "
                       f"LIMIT {int(request.page.limit)} OFFSET {int(offset)}", params)
    known = _equality_count(table, request.query) if where.text and request.page.count \
        else None
    return _page(request, rows, positional=False, known=known)


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
    return counts.lookup.get(convert_value(column, items[0].value), 0)  # type: ignore[arg-type]


def _page(request: _PageRequest, rows: list[tuple[Any, ...]], *, positional: bool,
          total: int | None = None, known: int | None = None) -> RecordsPage:
    """The page of `rows` (tuples in `fetched`'s order). `total`: the count of matches when
    the caller has it; `known`: the count of a filter read elsewhere than by counting."""
    table, page, where, sort = request.table, request.page, request.where, request.sort
    if total is not None:
        total = total if page.count else None
    elif not where.text:
        total = table.row_count
    elif page.count and known is not None:
        total = known
    elif page.count:
        total = int(table.fetch(f"SELECT count(*) FROM records WHERE {where.text}",
                                where.params)[0][0])
    index = {name: i for i, name in enumerate(request.fetched)}
    if request.store is not None:
        out: list[dict[str, Any]] = []
        rows_json: bytes | None = request.store.json([int(r[0]) for r in rows])
    else:
        out = [{"_row": r[0], **{c: clean_value(r[index[c]]) for c in request.selected}}
               for r in rows]
        rows_json = None
    next_cursor = None
    has_more = len(rows) == page.limit and (total is None or request.start + len(rows) < total)
    if has_more and rows:
        last = rows[-1]
        data: dict[str, Any] = {"f": request.fingerprint, "o": request.start + len(rows)}
        if where.text or (sort and not positional):
            data["k"] = [last[index[k.column]] for k in sort]
            data["r"] = last[0]
        next_cursor = _encode_cursor(data)
    return RecordsPage(columns=["_row", *request.selected], rows=out, total=total,
                       limit=page.limit, offset=None if page.cursor else page.offset,
                       next_cursor=next_cursor, rows_json=rows_json)


def clean_value(value: Any) -> Any:
    """A value as the API answers it: NaN and infinities become null."""
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


def _json_default(value: Any) -> Any:
    if isinstance(value, (date, datetime)):
        return value.isoformat()
