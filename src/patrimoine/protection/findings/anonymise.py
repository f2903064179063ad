"""Anonymisation: a new version of a dataset derived from one of its versions.

Operations, one per column (DuckDB SQL over the source Parquet, streamed to the new file):
- drop: the column is removed;
- mask: only the first and last characters are kept (`Dupont` → `D****t`);
- pseudonymise: HMAC-SHA256 of the value's text with the dataset's secret key (kept outside
  the data, see keys.py), in hexadecimal. This is *pseudonymisation*: the GDPR still covers
  the result, and the gate keeps blocking open publication until the DPO accepts it;
- generalise: dates to the month (`2024-03`) or the year; numbers (ages) to bands of N
  (`30-39`); positions to the centre of a grid of N metres (latitude and longitude
  together); postcodes to the department (`45`, `2A`/`2B` for Corsica, `974` overseas).

The source version is never modified (versions are immutable); the new version records the
operations in its `ingest_settings["anonymisation"]` and in the `anonymisation` table, and is
scanned at once: findings on dropped, masked or generalised columns are cleared, those of
pseudonymised columns are carried over unresolved.

The record also names the quasi-identifiers on which the publication gate judges the
re-identification risk (k-anonymity, l-diversity with a declared sensitive column): the
generalised columns, those the DPO designates, and any kept column that defeats a
generalisation (a commune kept beside a postcode cut to its département tells the postcode
again); such a column also gives a warning.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass
from typing import Any

import duckdb
from sqlalchemy.orm import Session

from patrimoine.access import audit
from patrimoine.access.permissions import can_anonymise, require
from patrimoine.access.principal import Principal
from patrimoine.core.errors import Invalid
from patrimoine.core.settings import Settings
from patrimoine.datastore import versions
from patrimoine.datastore.models import DatasetVersion
from patrimoine.inventory.models import Dataset, DatasetChange
from patrimoine.protection.findings import keys, service
from patrimoine.protection.findings.models import Anonymisation
from patrimoine.protection.findings.service import connect, parquet_source, quote, write_derived

OPERATIONS = ("drop", "mask", "pseudonymise", "generalise")
LEVELS = ("month", "year", "band", "grid", "department")
DEFAULT_BAND = 10  # years
DEFAULT_GRID = 200  # metres
METRES_PER_DEGREE = 111_320.0

OPERATION_TITLES = {
    "drop": "suppression",
    "mask": "masquage",
    "pseudonymise": "pseudonymisation (HMAC-SHA256 à clé secrète)",
    "generalise": "généralisation",
}
LEVEL_TITLES = {
    "month": "au mois", "year": "à l'année", "band": "par tranches",
    "grid": "sur une grille", "department": "au département",
}


@dataclass(frozen=True)
class Operation:
    op: str
    column: str
    keep_first: int = 1  # mask
    keep_last: int = 1  # mask
    level: str | None = None  # generalise
    size: int | None = None  # band width, or grid cell in metres

    def describe(self) -> str:
        text = f"« {self.column} » : {OPERATION_TITLES[self.op]}"
        if self.op == "mask":
            text += f" ({self.keep_first} premier(s) et {self.keep_last} dernier(s) caractères " \
                    "gardés)"
        if self.op == "generalise" and self.level:
            text += f" {LEVEL_TITLES[self.level]}"
            if self.level == "band":
                text += f" de {self.size}"
            if self.level == "grid":
                text += f" de {self.size} m"
        return text

    def record(self) -> dict[str, Any]:
        return {k: v for k, v in asdict(self).items()
                if v is not None and not (self.op != "mask" and k in ("keep_first", "keep_last"))}


# --- plans ---------------------------------------------------------------------------------


def _int(value: Any, what: str, errors: list[str], low: int, high: int) -> int | None:
    try:
        number = int(value)
    except (TypeError, ValueError):
        errors.append(f"{what} : « {value} » n'est pas un nombre entier.")
        return None
    if not low <= number <= high:
        errors.append(f"{what} : {number} doit être compris entre {low} et {high}.")
        return None
    return number


def parse_plan(items: Iterable[Mapping[str, Any]]) -> list[Operation]:
    """Operations from JSON-like dicts ({"op", "column", ...}); Invalid lists every error."""
    out: list[Operation] = []
    errors: list[str] = []
    for i, item in enumerate(items, start=1):
        if not isinstance(item, Mapping):
            errors.append(f"Opération {i} : un objet est attendu.")
            continue
        op = str(item.get("op", "")).strip()
        column = str(item.get("column", "")).strip()
        where = f"Opération {i}" + (f" (« {column} »)" if column else "")
        if op in ("anonymise", "anonymize"):
            errors.append(f"{where} : précisez l'opération (drop, mask, pseudonymise, "
                          "generalise).")
            continue
        if op not in OPERATIONS:
            errors.append(f"{where} : opération inconnue « {op} » (drop, mask, pseudonymise, "
                          "generalise).")
            continue
        if not column:
            errors.append(f"{where} : la colonne manque.")
            continue
        if op == "mask":
            first = _int(item.get("keep_first", 1), f"{where}, caractères gardés au début",
                         errors, 0, 20)
            last = _int(item.get("keep_last", 1), f"{where}, caractères gardés à la fin",
                        errors, 0, 20)
            if first is not None and last is not None:
                out.append(Operation("mask", column, keep_first=first, keep_last=last))
        elif op == "generalise":
            level = str(item.get("level", "")).strip()
            if level not in LEVELS:
                errors.append(f"{where} : niveau de généralisation inconnu « {level} » "
                              "(month, year, band, grid, department).")
                continue
            size = None
            if level == "band":
                size = _int(item.get("size") or DEFAULT_BAND, f"{where}, largeur des tranches",
                            errors, 1, 1000)
                if size is None:
                    continue
            if level == "grid":
                size = _int(item.get("size") or DEFAULT_GRID, f"{where}, taille de la maille",
                            errors, 10, 100_000)
                if size is None:
                    continue
            out.append(Operation("generalise", column, level=level, size=size))
        else:
            out.append(Operation(op, column))
    if not out and not errors:
        errors.append("Aucune opération demandée.")
    if errors:
        raise Invalid("Plan d'anonymisation invalide.", errors=errors)
    return out


def parse_cli(drop: list[str], mask: list[str], pseudonymise: list[str],
              generalise: list[str]) -> list[Operation]:
    """Operations from the command line: `--mask col[:first:last]`,
    `--generalise col:month|year|band[:N]|grid[:N]|department`."""
    items: list[dict[str, Any]] = [{"op": "drop", "column": c} for c in drop]
    for spec in mask:
        column, *rest = spec.split(":")
        item: dict[str, Any] = {"op": "mask", "column": column}
        if rest:
            item["keep_first"] = rest[0]
            item["keep_last"] = rest[1] if len(rest) > 1 else rest[0]
        items.append(item)
    items += [{"op": "pseudonymise", "column": c} for c in pseudonymise]
    for spec in generalise:
        name, _, tail = spec.partition(":")
        level, _, size = tail.partition(":")
        items.append({"op": "generalise", "column": name, "level": level,
                      **({"size": size} if size else {})})
    return parse_plan(items)


# --- SQL -----------------------------------------------------------------------------------

_GENERALISE_TYPES = {
    "month": ("date", "datetime"),
    "year": ("date", "datetime"),
    "band": ("integer", "number"),
    "grid": ("number",),
    "department": ("string", "integer"),
}
_TYPE_TITLES = {"string": "texte", "integer": "entier", "number": "nombre", "boolean": "booléen",
                "date": "date", "datetime": "date et heure", "geometry": "géométrie"}


def check_plan(version: DatasetVersion, plan: list[Operation]) -> list[Operation]:
    """Check the plan against the version's columns; a grid on a position also applies to
    its partner (latitude with longitude). Returns the operations to apply."""
    types = {c["name"]: c["type"] for c in version.columns}
    errors: list[str] = []
    by_column: dict[str, Operation] = {}
    for op in plan:
        if op.column not in types:
            errors.append(f"Colonne inconnue « {op.column} ». Colonnes : "
                          + ", ".join(types) + ".")
            continue
        if op.column in by_column:
            errors.append(f"« {op.column} » : une seule opération par colonne.")
            continue
        if op.op == "generalise" and op.level and op.level != "grid":  # grid: see below
            allowed = _GENERALISE_TYPES[op.level]
            if types[op.column] not in allowed:
                errors.append(
                    f"« {op.column} » ({_TYPE_TITLES.get(types[op.column], types[op.column])}) :"
                    f" la généralisation {LEVEL_TITLES[op.level]} s'applique aux colonnes de "
                    "type " + " ou ".join(_TYPE_TITLES[t] for t in allowed) + ".")
                continue
        by_column[op.column] = op
    positions = version.positions or {}
    for op in list(by_column.values()):
        if op.op != "generalise" or op.level != "grid":
            continue
        if op.column not in positions.values():
            errors.append(f"« {op.column} » : la grille s'applique aux colonnes de position "
                          "(latitude et longitude) de la version"
                          + (f" : {positions['lat']}, {positions['lon']}." if positions
                             else " ; cette version n'en a pas."))
            continue
        partner = positions["lon"] if op.column == positions["lat"] else positions["lat"]
        other = by_column.get(partner)
        if other is None:
            by_column[partner] = Operation("generalise", partner, level="grid", size=op.size)
        elif other.op != "generalise" or other.level != "grid" or other.size != op.size:
            errors.append(f"« {partner} » : la latitude et la longitude se généralisent "
                          "ensemble, sur la même grille.")
    if not errors and any(o.level == "grid" for o in by_column.values()):
        geometry = [n for n, t in types.items() if t == "geometry" and n not in by_column]
        if geometry:
            errors.append("La colonne « " + geometry[0] + " » contient aussi les positions "
                          "précises : supprimez-la pour les généraliser sur une grille.")
    dropped = {o.column for o in by_column.values() if o.op == "drop"}
    if types and dropped >= set(types):
        errors.append("Toutes les colonnes seraient supprimées.")
    if errors:
        raise Invalid("Plan d'anonymisation invalide.", errors=errors)
    return list(by_column.values())


def _text_of(column: str) -> str:
    return f"CAST({quote(column)} AS VARCHAR)"


def _expression(op: Operation | None, column: str, type_: str,
                positions: Mapping[str, str]) -> tuple[str, str]:
    """(SQL expression, resulting column type) of one column."""
    q = quote(column)
    if op is None:
        return q, type_
    if op.op == "mask":
        s = _text_of(column)
        f, last = op.keep_first, op.keep_last
        return (f"CASE WHEN {q} IS NULL THEN NULL WHEN length({s}) > {f + last} THEN "
                f"left({s}, {f}) || repeat('*', length({s}) - {f + last}) || right({s}, {last})"
                f" ELSE repeat('*', length({s})) END", "string")
    if op.op == "pseudonymise":
        s = _text_of(column)
        return (f"CASE WHEN {q} IS NULL THEN NULL ELSE sha256(getvariable('pk_opad') || "
                f"unhex(sha256(getvariable('pk_ipad') || encode({s})))) END", "string")
    assert op.op == "generalise"
    if op.level == "month":
        return f"strftime({q}, '%Y-%m')", "string"
    if op.level == "year":
        return f"CAST(year({q}) AS BIGINT)", "integer"
    if op.level == "band":
        assert op.size is not None  # parse_plan requires a band's size
        low = f"CAST(floor({q} / {op.size}) * {op.size} AS BIGINT)"
        return (f"CASE WHEN {q} IS NULL THEN NULL ELSE CAST({low} AS VARCHAR) || '-' || "
                f"CAST({low} + {op.size - 1} AS VARCHAR) END", "string")
    if op.level == "grid":
        assert op.size is not None
        step = op.size / METRES_PER_DEGREE
        lat = quote(positions["lat"])
        snapped_lat = f"((floor({lat} / {step!r}) + 0.5) * {step!r})"
        if column == positions["lat"]:
            return f"round({snapped_lat}, 6)", "number"
        lon_step = f"({step!r} / greatest(cos(radians({snapped_lat})), 0.01))"
        return f"round((floor({q} / {lon_step}) + 0.5) * {lon_step}, 6)", "number"
    assert op.level == "department"
    s = (f"lpad(CAST({q} AS VARCHAR), 5, '0')" if type_ == "integer"
         else f"trim(CAST({q} AS VARCHAR))")
    return (f"CASE WHEN NOT regexp_full_match({s}, '[0-9]{{5}}') THEN NULL "
            f"WHEN left({s}, 2) = '20' THEN "
            f"(CASE WHEN CAST({s} AS INTEGER) < 20200 THEN '2A' ELSE '2B' END) "
            f"WHEN left({s}, 2) IN ('97', '98') THEN left({s}, 3) ELSE left({s}, 2) END",
            "string")


def build_select(settings: Settings, version: DatasetVersion,
                 operations: list[Operation]) -> tuple[str, list[dict[str, Any]]]:
    """The SELECT producing the new version's data columns, and their contract."""
    by_column = {o.column: o for o in operations}
    positions = version.positions or {}
    exprs, columns = [], []
    for c in version.columns:
        op = by_column.get(c["name"])
        if op is not None and op.op == "drop":
            continue
        expr, type_ = _expression(op, c["name"], c["type"], positions)
        exprs.append(f"{expr} AS {quote(c['name'])}")
        columns.append({**c, "type": type_})
    # A projection of one Parquet scan: DuckDB keeps the rows' order (insertion order is
    # preserved), so the new `_row` numbers follow the source's.
    sql = f"SELECT {', '.join(exprs)} FROM {parquet_source(settings, version)}"
    return sql, columns


# --- what the result still tells ------------------------------------------------------------

DEFEAT_SHARE = 0.8  # share of rows whose kept value names a single original value


def defeating_columns(settings: Settings, version: DatasetVersion,
                      operations: list[Operation]) -> list[tuple[str, str]]:
    """(kept column, generalised column) pairs where the kept column, left as it is, tells the
    generalised column's original value again: it has more distinct values than the
    generalised column, no more than the original (nor one per row), and for most rows its
    value goes with a single original value (a commune with its postcode)."""
    touched = {o.column for o in operations}
    types = {c["name"]: c["type"] for c in version.columns}
    kept = [n for n, t in types.items()
            if n not in touched and t in ("string", "integer", "date")][:30]
    positions = version.positions or {}
    found = []
    con = connect()
    try:
        for op in operations:
            if op.op != "generalise" or op.level == "grid":
                continue
            general, _ = _expression(op, op.column, types[op.column], positions)
            g = quote(op.column)
            for name in kept:
                c = quote(name)
                src = (f"(SELECT {c} AS c, {g} AS g, {general} AS gg "
                       f"FROM {parquet_source(settings, version)})")
                row = con.execute(
                    f"WITH s AS {src}, per AS (SELECT c, count(*) AS n, count(DISTINCT g) AS dg"
                    " FROM s WHERE c IS NOT NULL GROUP BY c) "
                    "SELECT (SELECT count(DISTINCT c) FROM s), (SELECT count(DISTINCT g) FROM s),"
                    " (SELECT count(DISTINCT gg) FROM s),"
                    " (SELECT coalesce(sum(n), 0) FROM per WHERE dg = 1),"
                    " (SELECT coalesce(sum(n), 0) FROM per)").fetchone()
                assert row is not None
                dc, dg, dgg, single, filled = (int(x) for x in row)
                # A value unique to each row is an identifier, left to the findings.
                if dgg < dc <= dg and dc < filled and single >= DEFEAT_SHARE * filled:
                    found.append((name, op.column))
    finally:
        con.close()
    return found


def _quasi_identifiers(version: DatasetVersion, operations: list[Operation],
                       designated: Sequence[str],
                       defeating: list[tuple[str, str]]) -> list[str]:
    names = version.column_names()
    wanted = [c.strip() for c in designated if c and c.strip()]
    unknown = [c for c in wanted if c not in names]
    if unknown:
        raise Invalid("Quasi-identifiant(s) inconnu(s) : " + ", ".join(unknown)
                      + ". Colonnes : " + ", ".join(names) + ".")
    dropped = {o.column for o in operations if o.op == "drop"}
    dropped_designated = [c for c in wanted if c in dropped]
    if dropped_designated:
        raise Invalid("Quasi-identifiant(s) supprimé(s) par le plan : "
                      + ", ".join(dropped_designated) + ".")
    # Those of the source's own anonymisation stay (an anonymised copy of an anonymised copy).
    inherited = [c for c in ((version.ingest_settings or {}).get("anonymisation") or {})
                 .get("quasi_identifiers") or [] if c not in dropped]
    chosen = ([o.column for o in operations if o.op == "generalise"] + wanted
              + [kept for kept, _ in defeating] + inherited)
    return [c for c in names if c in set(chosen) and c not in dropped]


# --- the new version -----------------------------------------------------------------------


def anonymise(session: Session, settings: Settings, principal: Principal, dataset: Dataset,
              source: DatasetVersion, plan: list[Operation],
              quasi_identifiers: Sequence[str] = (),
              sensitive: str | None = None) -> DatasetVersion:
    """Write and register the anonymised version derived from `source`; returns it. Its
    `ingest_settings["anonymisation"]` holds the quasi-identifiers, the sensitive column
    and the warnings (French) about kept columns that defeat a generalisation."""
    require(can_anonymise(principal, dataset), principal,
            f"anonymiser les données de « {dataset.title} »")
    if source.dataset_id != dataset.id:
        raise Invalid("Cette version n'appartient pas à ce jeu de données.")
    operations = check_plan(source, plan)
    defeating = defeating_columns(settings, source, operations)
    quasi = _quasi_identifiers(source, operations, quasi_identifiers, defeating)
    dropped = {o.column for o in operations if o.op == "drop"}
    sensitive = (sensitive or "").strip() or None
    if sensitive is not None and (sensitive not in source.column_names() or sensitive in quasi
                                  or sensitive in dropped):
        raise Invalid(f"Colonne sensible « {sensitive} » : elle doit être une colonne gardée "
                      "de la version, et non un quasi-identifiant.")
    if sensitive is None:  # the source's own, unless dropped now
        sensitive = ((source.ingest_settings or {}).get("anonymisation") or {}).get("sensitive")
        sensitive = None if sensitive in dropped else sensitive
    warnings = [f"« {kept} » est gardée telle quelle et désigne presque toujours une seule "
                f"valeur d'origine de « {general} » : elle annule sa généralisation. "
                f"Supprimez-la ou généralisez-la aussi ; elle compte parmi les "
                f"quasi-identifiants." for kept, general in defeating]
    sql, columns = build_select(settings, source, operations)
    pseudonymised = [o.column for o in operations if o.op == "pseudonymise"]

    def with_key(con: duckdb.DuckDBPyConnection) -> None:
        ipad, opad = keys.hmac_pads(keys.dataset_key(settings, dataset))
        con.execute("SET VARIABLE pk_ipad = $1::BLOB", [ipad])
        con.execute("SET VARIABLE pk_opad = $1::BLOB", [opad])

    positions = source.positions
    if positions and any(o.op == "drop" and o.column in positions.values() for o in operations):
        positions = None
    record = {
        "source_version": source.number,
        "operations": [o.record() for o in operations],
        "key_id": keys.key_id(dataset) if pseudonymised else None,
        "quasi_identifiers": quasi,
        "sensitive": sensitive,
        "warnings": warnings,
    }
    tmp, row_count, digest = write_derived(settings, dataset, sql, "anonymise",
                                           with_key if pseudonymised else None)
    added = versions.add_version(
        session, settings, dataset, tmp, content_hash=digest, row_count=row_count,
        columns=columns, positions=positions, source_filename=source.source_filename,
        source_format=source.source_format,
        ingest_settings={**(source.ingest_settings or {}), "anonymisation": record},
        created_by=principal.account_id)
    if not added.created:
        raise Invalid(f"Cette anonymisation donne exactement la version {added.version.number}"
                      ", déjà enregistrée.")
    version = added.version
    session.add(DatasetChange(
        dataset_id=dataset.id, actor_id=principal.account_id, actor_label=principal.label,
        action="version_anonymised",
        changes={"version": [source.number, version.number],
                 "Anonymisation": [None, "; ".join(o.describe() for o in operations)]}))
    audit.record(session, principal, "dataset.version_anonymised", f"dataset:{dataset.uid}",
                 {"slug": dataset.slug, "source_version": source.number,
                  "version": version.number, "rows": row_count, "content_hash": digest,
                  "operations": record["operations"], "quasi_identifiers": quasi,
                  "sensitive": sensitive, "warnings": warnings})
    session.add(Anonymisation(
        dataset_id=dataset.id, source_version_id=source.id, result_version_id=version.id,
        source_number=source.number, operations=record["operations"],
        key_id=record["key_id"], created_by=principal.account_id,
        created_by_label=principal.label))
    session.flush()
    service.ensure_scanned(session, settings, source, principal)
    touched = {o.column for o in operations}
    service.carry_pseudonymised(session, source, version, pseudonymised,
                                [c for c in source.column_names() if c not in touched])
    service.scan_version(session, settings, version, principal)
    return version

