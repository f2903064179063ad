"""sniff(path) shows what a file holds; ingest(...) publishes it as a new dataset version.

Policies (also in the module docs of textfile and coltypes):
- encodings: UTF-8 with or without BOM is read directly; cp1252 / latin-1 / UTF-16 files are
  re-encoded chunk by chunk to a temporary UTF-8 file first (bounded memory);
- rows shorter than the header are completed with empty (null) values and reported; rows
  longer than the header stop the load with the line number;
- an unquoted empty field is null; a quoted empty field ("") stays an empty string in text
  columns; in typed columns empty and blank values are null; lines with no value at all are
  skipped;
- a non-empty value that does not fit its column's type stops the load with the file, line,
  column, value and expected type; nothing is published (number columns that accept a few
  unreadable cells, see coltypes, leave them null and list them instead);
- every record is accounted for: the records loaded are compared with those Python's `csv`
  reads (see _account); records or cells rejected refuse the load with their lines unless
  `accept_rejects` is given, and are recorded in the version's ingest settings.
"""

from __future__ import annotations

import os
import re
import shutil
import tempfile
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa
import pyarrow.compute as pc
from pydantic import ValidationError
from sqlalchemy.orm import Session

from patrimoine.access import audit
from patrimoine.access.permissions import can_edit_dataset, require
from patrimoine.access.principal import Principal
from patrimoine.core.errors import Invalid
from patrimoine.core.filelimits import FileLimits
from patrimoine.core.meanings import TEXT_MEANINGS, detect
from patrimoine.core.settings import Settings
from patrimoine.core.text import key
from patrimoine.datastore import versions
from patrimoine.datastore.ingest import crs, messages, shapes, sources, textfile
from patrimoine.datastore.ingest.coltypes import (
    BAD_VALUE,
    SEP,
    infer,
    is_nothing,
    parse_for,
    quote_ident,
    quote_literal,
    text_cast,
    type_of_duckdb,
    typed_cast,
)
from patrimoine.datastore.ingest.names import free_name, normalise_names
from patrimoine.datastore.ingest.plan import TYPE_LABELS, ColumnPlan, IngestPlan, Overrides
from patrimoine.datastore.ingest.writer import write_parquet
from patrimoine.datastore.models import DatasetVersion
from patrimoine.inventory.models import Dataset, DatasetChange

SAMPLE_ROWS = 20_000
FIRST_ROWS = 10
SAMPLE_VALUES = 5
MEMORY_LIMIT = "384MB"

# progress(fraction done 0..1, what is happening, in French)
ProgressCallback = Callable[[float, str], None]

# Columns named like identifiers keep their text even when every value looks like a number
# (postal codes, INSEE codes, SIRET…), so that leading zeros and exact digits are never lost.
CODE_WORDS = {"code", "codes", "cp", "postal", "insee", "cog", "siret", "siren", "rna", "uai",
              "finess", "nir", "iban", "telephone", "tel", "phone", "ean", "isbn", "naf", "ape"}

LAT_NAMES = {"lat", "latitude", "lat_wgs84", "wgs84_lat", "y_lat", "ylat", "coord_lat"}
LON_NAMES = {"lon", "lng", "long", "longitude", "lon_wgs84", "wgs84_lon", "x_long", "xlong",
             "coord_lon"}


class RejectsRefused(Invalid):
    """A load refused because records or cells would not be loaded as they are; the same
    load with accept_rejects publishes it, with the rejects recorded on the version."""


def as_overrides(overrides: Overrides | Mapping[str, Any] | None) -> Overrides:
    if overrides is None:
        return Overrides()
    if isinstance(overrides, Overrides):
        return overrides
    try:
        return Overrides.model_validate(dict(overrides))
    except ValidationError as exc:
        errors = [str(e["msg"]).removeprefix("Value error, ") for e in exc.errors()]
        raise Invalid("Réglages de chargement invalides.", errors=errors) from None


def _connect(workdir: Path) -> duckdb.DuckDBPyConnection:
    con = duckdb.connect(config={"threads": max(1, min(os.cpu_count() or 2, 4)),
                                 "memory_limit": MEMORY_LIMIT})
    con.execute(f"SET temp_directory = '{str(workdir).replace(chr(39), chr(39) * 2)}'")
    con.execute("SET TimeZone = 'UTC'")
    con.execute("SET enable_progress_bar = true")
    con.execute("SET enable_progress_bar_print = false")
    return con


def sniff(path: Path | str, overrides: Overrides | Mapping[str, Any] | None = None) -> IngestPlan:
    """What a file holds: detected settings, columns with inferred types and sample values,
    first rows and problems, to show before publishing. Reads only the start of the file."""
    path = Path(path)
    options = as_overrides(overrides)
    with tempfile.TemporaryDirectory(prefix="patrimoine-sniff-") as work:
        con = _connect(Path(work))
        try:
            plan, _raw = _prepare(con, path, options, Path(work), FileLimits.of(), full=False,
                                  progress=None)
        finally:
            con.close()
    return plan


def _prepare(con: duckdb.DuckDBPyConnection, path: Path, overrides: Overrides, workdir: Path,
             limits: FileLimits, *, full: bool, progress: ProgressCallback | None
             ) -> tuple[IngestPlan, sources.RawSource]:
    if not path.is_file():
        raise Invalid(f"Fichier introuvable : {path}.")
    size = path.stat().st_size
    if size == 0:
        raise Invalid(f"{path.name} : le fichier est vide.")
    plan = IngestPlan(path=str(path), filename=path.name,
                      format=sources.detect_format(path, overrides), size_bytes=size)
    raw = _open_source(con, path, plan, overrides, workdir, limits, full=full, progress=progress)
    if not raw.source_names:
        raise Invalid(f"{path.name} : aucune colonne trouvée.")
    relation = raw.relation
    if not full and raw.dialect is not None:
        # Sniffing reports ragged rows as problems instead of stopping at the first one.
        relation = relation.replace("auto_detect=false", "auto_detect=false, ignore_errors=true")
    try:
        table = con.sql(f"SELECT * FROM {relation} LIMIT {SAMPLE_ROWS}").to_arrow_table()
    except duckdb.Error as exc:
        raise _translate(exc, plan, raw, [], con) from None
    # Types, samples and parse options of a text column depend only on its distinct values
    # (in order of first appearance, as pc.unique gives them): converting those alone is cheaper.
    distinct_columns = [
        (pc.unique(column) if pa.types.is_string(column.type) else column).to_pylist()
        for column in table.columns
    ]
    _plan_columns(plan, raw, overrides, distinct_columns)
    first = table.slice(0, FIRST_ROWS)
    plan.first_rows = [list(r) for r in zip(*(c.to_pylist() for c in first.columns), strict=True)]
    decimals = {c.parse.get("decimal") for c in plan.columns if c.type == "number"} - {None}
    plan.decimal = "," if "," in decimals else ("." if decimals else None)
    _point_columns(plan, {i: table.column(i).to_pylist() for i, c in enumerate(plan.columns)
                          if c.name in POINT_NAMES})
    if raw.position_indexes is None:
        _projected_positions(plan, overrides, table)
    plan.positions = _positions(plan, raw)
    if not table.num_rows:
        plan.problems.append("Aucune ligne de données après l'en-tête.")
    return plan, raw


def _open_source(con: duckdb.DuckDBPyConnection, path: Path, plan: IngestPlan,
                 overrides: Overrides, workdir: Path, limits: FileLimits, *, full: bool,
                 progress: ProgressCallback | None) -> sources.RawSource:
    """The file as a DuckDB relation of text (or typed) columns, by its format."""
    fmt = plan.format
    if fmt == "csv":
        return sources.open_csv(
            con, path, plan, overrides, workdir, full=full,
            max_line_bytes=limits.max_csv_line_bytes,
            progress=(lambda f: progress(0.2 * f, "Conversion en UTF-8")) if progress else None)
    if fmt in ("xlsx", "ods"):
        return sources.open_spreadsheet(con, path, plan, overrides, limits, workdir)
    if fmt in ("json", "ndjson"):
        return sources.open_json(con, path, fmt)
    if fmt == "geojson":
        return sources.open_geojson(con, path, plan, overrides, limits, workdir)
    return sources.open_parquet(con, path)


def _plan_columns(plan: IngestPlan, raw: sources.RawSource, overrides: Overrides,
                  distinct_columns: list[list[Any]]) -> None:
    """Each column's name, inferred (or asked) type, parse options and sample values."""
    names = normalise_names(raw.source_names)
    wanted = dict(overrides.types)
    by_key = {**{s: n for s, n in zip(raw.source_names, names, strict=True)},
              **{n: n for n in names}}
    for column in list(wanted):
        folded = key(column).replace(" ", "_")
        if column not in by_key and folded in by_key:
            by_key[column] = by_key[folded]
    unknown = [c for c in wanted if c not in by_key]
    if unknown:
        raise Invalid(
            "Colonne(s) inconnue(s) dans les types demandés : " + ", ".join(unknown)
            + ". Colonnes du fichier : " + ", ".join(names) + "."
        )
    forced = {by_key[c]: t for c, t in wanted.items()}
    for i, (name, source) in enumerate(zip(names, raw.source_names, strict=True)):
        raw_type = raw.raw_types[i]
        values = distinct_columns[i]
        texts = (values if raw_type == "VARCHAR" else
                 [v if isinstance(v, str) else str(v) for v in values])
        texts = [v for v in texts if v is not None]
        parse: dict[str, Any]
        if i in raw.fixed_types:
            type_, parse = raw.fixed_types[i], {}
        elif raw_type == "VARCHAR":
            type_, parse = infer(texts)
            if type_ in ("integer", "number") and CODE_WORDS & set(name.split("_")):
                type_, parse = "string", {}
        else:
            type_, parse = type_of_duckdb(raw_type), {}
        meaning = detect(source, texts) or (detect(name, texts) if name != source else None)
        if meaning and meaning.key in TEXT_MEANINGS and type_ in ("integer", "number"):
            type_, parse = "string", {}  # a SIRET or a code postal keeps its exact digits
        overridden = name in forced
        if overridden and forced[name] != type_:
            type_ = forced[name]
            parse = parse_for(type_, texts)
        distinct: list[str] = []
        for t in texts:
            if t not in distinct:
                distinct.append(t)
            if len(distinct) >= SAMPLE_VALUES:
                break
        plan.columns.append(ColumnPlan(name=name, source_name=source, type=type_, parse=parse,
                                       raw_type=raw_type, sample=distinct,
                                       overridden=overridden,
                                       meaning=meaning.as_dict() if meaning else None))

POINT_NAMES = ("geo_point_2d", "geo_point", "geopoint", "point_geo", "coordonnees",
               "coordonnees_gps", "coordonnees_geographiques", "coordinates", "wgs84",
               "coordonneesxy", "coordonnees_xy")
_POINT = re.compile(r"\s*(-?\d{1,2}(?:\.\d+)?)\s*,\s*(-?\d{1,3}(?:\.\d+)?)\s*")
# "[lon, lat]" in brackets: the GeoJSON order, as IRVE's coordonneesXY writes it.
_BRACKETED = re.compile(r"\s*\[\s*(-?\d{1,3}(?:\.\d+)?)\s*,\s*(-?\d{1,2}(?:\.\d+)?)\s*\]\s*")


def _point_columns(plan: IngestPlan, sample_columns: Mapping[int, list[Any]]) -> None:
    """A text column of "lat, lon" pairs (as portals export `geo_point_2d`), or of "[lon, lat]"
    (IRVE's coordonneesXY), gives `latitude` and `longitude` number columns, when the file has
    no such columns already."""
    if _positions(plan, None) is not None:
        return
    for index, column in enumerate(list(plan.columns)):
        if column.type != "string" or column.name not in POINT_NAMES:
            continue
        values = [v for v in sample_columns[index] if isinstance(v, str) and v.strip()]
        for pattern, lat_part, lon_part in ((_POINT, 1, 2), (_BRACKETED, 2, 1)):
            matches = [pattern.fullmatch(v) for v in values]
            if values and all(m and abs(float(m.group(lat_part))) <= 90
                              and abs(float(m.group(lon_part))) <= 180 for m in matches):
                break
        else:
            continue
        taken = {c.name for c in plan.columns}
        for label, part in (("latitude", lat_part), ("longitude", lon_part)):
            plan.columns.append(ColumnPlan(
                name=free_name(label, taken), source_name=column.source_name, type="number",
                parse={"point_of": index, "part": part}, raw_type="DOUBLE",
                sample=[m.group(part) for m in matches[:SAMPLE_VALUES] if m]))
        for row in plan.first_rows:
            value = row[index]
            m = pattern.fullmatch(value) if isinstance(value, str) else None
            row.extend([float(m.group(lat_part)), float(m.group(lon_part))] if m
                       else [None, None])
        return


def _positions(plan: IngestPlan, raw: sources.RawSource | None) -> dict[str, str] | None:
    if raw is not None and raw.position_indexes is not None:
        lat_index, lon_index = raw.position_indexes
        return {"lat": plan.columns[lat_index].name, "lon": plan.columns[lon_index].name}
    marked = {c.parse["position"]: c.name for c in plan.columns if "position" in c.parse}
    if "lat" in marked and "lon" in marked:
        return {"lat": marked["lat"], "lon": marked["lon"]}
    numbers = [c for c in plan.columns if c.type == "number"]
    lat = next((c for c in numbers if c.name in LAT_NAMES or c.name.startswith("latitude")), None)
    lon = next((c for c in numbers if c.name in LON_NAMES or c.name.startswith("longitude")), None)
    if lat is not None and lon is not None:
        return {"lat": lat.name, "lon": lon.name}
    return None


# Columns holding x / y (or longitude / latitude) of a position, by the name's words.
_X_WORDS = {"x", "coordx", "xcoord", "lon", "lng", "long", "longitude"}
_PAIRS = {"x": "y", "coordx": "coordy", "xcoord": "ycoord", "lon": "lat", "lng": "lat",
          "long": "lat", "longitude": "latitude"}
SHAPE_NAMES = ("geo_shape", "geoshape", "geometry", "geometrie", "geom", "the_geom", "shape",
               "wkt", "geometry_wkt", "geom_wkt")
_WKT_POINT = r"^\s*POINT\s*Z?\s*\(\s*([-+0-9.eE]+)\s+([-+0-9.eE]+)"


def _xy_pair(plan: IngestPlan) -> tuple[int, int] | None:
    """Indexes of the x and y number columns (`X`/`Y`, `Coord_X`/`Coord_Y`, `x_l93`…)."""
    numbers = {c.name: i for i, c in enumerate(plan.columns)
               if c.type in ("number", "integer") and "point_of" not in c.parse}
    for name, index in numbers.items():
        words = name.split("_")
        for w, word in enumerate(words):
            if word in _X_WORDS:
                twin = "_".join([*words[:w], _PAIRS[word], *words[w + 1:]])
                if twin in numbers:
                    return index, numbers[twin]
    return None


def _as_float(value: Any) -> float | None:
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return float(value)
    if isinstance(value, str):
        try:
            return float(re.sub(r"[\s\u00a0\u202f]", "", value).replace(",", "."))
        except ValueError:
            return None
    return None


def _shape_xy(value: Any) -> tuple[float, float] | None:
    """x, y of the point standing for a geometry written as WKT, GeoJSON text or (E)WKB."""
    shape = shapes.read(value)
    return shapes.anchor(shape) if shape is not None else None


SHAPE_SAMPLE = crs.SAMPLE  # geometries read to choose the shape column and its CRS


def _shape_column(plan: IngestPlan, table: pa.Table) -> tuple[int, list[shapes.Shape]] | None:
    """The text column of geometries (WKT, GeoJSON text, (E)WKB) giving the positions: one
    named like a geometry, or else one whose every value is a geometry (IGN's columns named
    after their CRS, `CRS:84`); the most complete of them. With its sample's geometries."""
    best: tuple[tuple[int, bool], int, list[shapes.Shape]] | None = None
    for i, c in enumerate(plan.columns):
        if c.type not in ("string", "geometry") or i >= table.num_columns:
            continue
        named = c.name in SHAPE_NAMES
        values = [v for v in table.column(i).slice(0, SHAPE_SAMPLE).to_pylist()
                  if isinstance(v, str) and v.strip()]
        if not values or (not named and shapes.read(values[0]) is None):
            continue  # most text columns: their first value says they hold no geometry
        found = [shape for v in values if (shape := shapes.read(v)) is not None]
        if not found or (not named and len(found) < len(values)):
            continue
        score = (len(found), named)
        if best is None or score > best[0]:
            best = (score, i, found)
    return (best[1], best[2]) if best else None


def _projected_positions(plan: IngestPlan, overrides: Overrides, table: pa.Table) -> None:
    """Positions of a table file from x / y columns, or geometries written as GeoJSON text
    (`geo_shape`), WKT or (E)WKB (placed at their anchor, see the shapes module), in degrees
    or in a French projection (reprojected to WGS84 in new `latitude` / `longitude` columns;
    see the crs module). Records the source CRS."""
    pair = _xy_pair(plan)
    found_shapes = None
    if pair is None and plan.format != "geojson" and _positions(plan, None) is None:
        found_shapes = _shape_column(plan, table)
    shape: int | None = None
    if pair is not None:
        xs, ys = (table.column(i).to_pylist() for i in pair)
        pairs = [(x, y) for x, y in ((_as_float(a), _as_float(b)) for a, b in zip(xs, ys,
                                                                                   strict=True))
                 if x is not None and y is not None]
        names = f"{plan.columns[pair[0]].source_name} / {plan.columns[pair[1]].source_name}"
        declared = crs.from_name(plan.columns[pair[0]].name)
    elif found_shapes is not None:
        shape, found = found_shapes
        pairs = [p for p in map(shapes.anchor, found) if p is not None]
        names = plan.columns[shape].source_name
        srids = {s.srid for s in found if s.srid}  # EWKB / EWKT say their CRS
        declared = srids.pop() if len(srids) == 1 else crs.from_name(names)
    else:
        return
    if not pairs:
        return
    if (pair is not None and not overrides.crs and _positions(plan, None) is None
            and all(float(v).is_integer() and abs(v) <= 180 for p in pairs for v in p)):
        return  # small whole numbers in `x` / `y`: a grid or a chart, not degrees
    detection = crs.detect(pairs, override=crs.parse_user_crs(overrides.crs)
                           if overrides.crs else None, declared=declared,
                           where=f"Les coordonnées « {names} »")
    plan.crs = detection.settings()
    if detection.epsg != crs.WGS84:
        plan.problems.append(detection.note)
    if detection.epsg is None or (pair is not None and not detection.projected
                                  and _positions(plan, None) is not None):
        return
    if not detection.projected:
        if pair is None:  # a point shape in degrees: its latitude and longitude
            _add_position_columns(plan, {"shape_of": shape}, pairs)
        else:
            plan.columns[pair[0]].parse["position"] = "lon"
            plan.columns[pair[1]].parse["position"] = "lat"
        return
    source = {"xy_of": list(pair)} if pair else {"shape_of": shape}
    _add_position_columns(plan, {**source, "epsg": detection.epsg}, pairs)


def _add_position_columns(plan: IngestPlan, source: dict[str, Any],
                          pairs: list[tuple[float, float]]) -> None:
    epsg = source.get("epsg")
    lons, lats = (crs.to_wgs84(epsg, [p[0] for p in pairs[:SAMPLE_VALUES]],
                               [p[1] for p in pairs[:SAMPLE_VALUES]]) if epsg else
                  ([p[0] for p in pairs[:SAMPLE_VALUES]], [p[1] for p in pairs[:SAMPLE_VALUES]]))
    taken = {c.name for c in plan.columns}
    origin = plan.columns[source["xy_of"][0] if "xy_of" in source else source["shape_of"]]
    for label, values in (("latitude", lats), ("longitude", lons)):
        plan.columns.append(ColumnPlan(
            name=free_name(label, taken), source_name=origin.source_name, type="number",
            parse={**source, "part": label, "position": label[:3]}, raw_type="DOUBLE",
            sample=[f"{v:.6f}" for v in values]))
    # The preview's first rows get the same two values.
    for row in plan.first_rows:
        if "xy_of" in source:
            xy = (_as_float(row[source["xy_of"][0]]), _as_float(row[source["xy_of"][1]]))
        else:
            xy = _shape_xy(row[source["shape_of"]]) or (None, None)
        if xy[0] is None or xy[1] is None:
            row.extend([None, None])
            continue
        lon, lat = (crs.to_wgs84(epsg, [xy[0]], [xy[1]]) if epsg else ([xy[0]], [xy[1]]))
        row.extend([round(lat[0], 7), round(lon[0], 7)])


def _position_sql(plan: IngestPlan, c: ColumnPlan) -> str:
    """The SQL of a `latitude` / `longitude` column computed from x / y or a point shape."""
    if "xy_of" in c.parse:
        x, y = (plan.columns[i] for i in c.parse["xy_of"])
        x_sql, y_sql = (typed_cast(f"r{plan.columns.index(col)}", col.raw_type, col.name,
                                   "number", col.parse) for col in (x, y))
    else:
        raw = f"CAST(r{c.parse['shape_of']} AS VARCHAR)"
        as_json = f"(CASE WHEN json_valid({raw}) THEN {raw} END)"  # WKT is not JSON
        x_sql, y_sql = (
            f"coalesce(TRY_CAST(regexp_extract({raw}, {quote_literal(_WKT_POINT)}, {n}, 'i') "
            f"AS DOUBLE), CASE WHEN json_extract_string({as_json}, '$.type') = 'Point' THEN "
            f"TRY_CAST(json_extract({as_json}, '$.coordinates[{n - 1}]') AS DOUBLE) END)"
            for n in (1, 2))
    # Other geometries and projected x / y are completed while writing (_position_transform).
    return y_sql if c.parse["part"] == "latitude" else x_sql


def _position_transform(plan: IngestPlan) -> Callable[[pa.Table], pa.Table] | None:
    """Completes, batch by batch while writing, the position columns SQL cannot compute:
    the anchor of geometries other than points (and of EWKT / EWKB points), then turns
    projected x / y into WGS84 degrees."""
    derived = [c for c in plan.columns if "shape_of" in c.parse or "epsg" in c.parse]
    if not derived:
        return None
    lat = next(c for c in derived if c.parse["part"] == "latitude")
    lon = next(c for c in derived if c.parse["part"] == "longitude")
    shape = plan.columns[lat.parse["shape_of"]].name if "shape_of" in lat.parse else None
    epsg = lat.parse.get("epsg")

    def transform(table: pa.Table) -> pa.Table:
        if shape is not None:
            table = _fill_anchors(table, shape, lat.name, lon.name)
        if epsg is not None:
            table = crs.reproject_table(table, lat.name, lon.name, epsg)
        return table

    return transform


def _fill_anchors(table: pa.Table, shape: str, lat: str, lon: str) -> pa.Table:
    missing = pc.and_(pc.is_null(table.column(lat)), pc.is_valid(table.column(shape)))
    if not pc.any(missing).as_py():
        return table
    ys, xs = table.column(lat).to_pylist(), table.column(lon).to_pylist()
    for n, value in enumerate(table.column(shape).to_pylist()):
        if ys[n] is None and value is not None and (point := _shape_xy(value)) is not None:
            xs[n], ys[n] = point
    for name, values in ((lat, ys), (lon, xs)):
        table = table.set_column(table.schema.get_field_index(name), name,
                                 pa.array(values, pa.float64()))
    return table


def select_sql(plan: IngestPlan, raw: sources.RawSource) -> str:
    exprs = []
    for i, c in enumerate(plan.columns):
        if "xy_of" in c.parse or "shape_of" in c.parse:
            expr = _position_sql(plan, c)
        elif "point_of" in c.parse:  # latitude / longitude from a "lat, lon" or "[lon, lat]"
            point, number = c.parse["point_of"], c.parse["part"]
            bare = f"regexp_replace(CAST(r{point} AS VARCHAR), '[\\[\\]\\s]', '', 'g')"
            part = f"split_part({bare}, ',', {number})"
            expr = f"TRY_CAST(nullif({part}, '') AS DOUBLE)"
        else:
            expr = typed_cast(f"r{i}", c.raw_type, c.name, c.type, c.parse)
        exprs.append(f"{expr} AS {quote_ident(c.name)}")
    where = ""
    if plan.format == "csv":
        where = " WHERE NOT (" + " AND ".join(
            f"r{i} IS NULL" for i in range(len(raw.source_names))) + ")"
    return f"SELECT {', '.join(exprs)} FROM {raw.relation}{where}"


def _record_number(con: duckdb.DuckDBPyConnection, raw: sources.RawSource, index: int,
                   value: str) -> str:
    """", enregistrement N" for the first record holding `value` (typed formats)."""
    try:
        found = con.execute(
            f"SELECT min(n) FROM (SELECT row_number() OVER () AS n, CAST(r{index} AS VARCHAR) "
            f"AS v FROM {raw.relation}) WHERE v = $1", [value]).fetchone()
    except duckdb.Error:
        return ""
    return f", enregistrement {found[0]}" if found and found[0] is not None else ""


_LINE = re.compile(r"CSV Error on Line: (\d+)")
_INVALID_STATE = "state machine reached an invalid state"
_COUNTS = re.compile(r"Expected Number of Columns: (\d+) Found: (\d+)")


def _translate(exc: Exception, plan: IngestPlan, raw: sources.RawSource,
               columns: list[ColumnPlan], con: duckdb.DuckDBPyConnection) -> Invalid:
    """A precise French message for what DuckDB refused."""
    message = str(exc)
    name = plan.filename
    if BAD_VALUE in message:
        _, column, value = message.split(BAD_VALUE, 1)[1].split(SEP, 2)
        value = value.splitlines()[0] if value else value
        col = next((c for c in columns if c.name == column), None)
        label = TYPE_LABELS.get(col.type, col.type) if col else "?"
        source = col.source_name if col and col.source_name else column
        where = ""
        if raw.dialect is not None and raw.text_path is not None and col is not None:
            line = textfile.find_value_line(raw.text_path, raw.dialect, columns.index(col), value)
            if line is not None:
                where = f", ligne {line}"
        elif col is not None:
            where = _record_number(con, raw, columns.index(col), value)
        return Invalid(
            f"{name}{where}, colonne « {source} » : la valeur « {value} » n'est pas "
            f"du type attendu ({label}). Corrigez la valeur ou chargez cette colonne comme texte."
        )
    line_match = _LINE.search(message)
    at_line = f", ligne {line_match.group(1)}" if line_match else ""
    counts = _COUNTS.search(message)
    if counts:
        expected, found = counts.groups()
        # DuckDB stops counting at the first field too many: the sample knows the real count.
        long_rows = dict(raw.dialect.long_rows) if raw.dialect is not None else {}
        if line_match:
            found = str(long_rows.get(int(line_match.group(1)), found))
        return Invalid(f"{name}{at_line} : {found} champs alors que l'en-tête en compte "
                       f"{expected}.", errors=[f"Ligne {line} : {fields} champs."
                                               for line, fields in list(long_rows.items())[:20]])
    return Invalid(f"{name}{at_line} : {messages.french(exc)}.")


def ingest(
    session: Session,
    settings: Settings,
    principal: Principal,
    dataset: Dataset,
    path: Path | str,
    overrides: Overrides | Mapping[str, Any] | None = None,
    progress: ProgressCallback | None = None,
    *,
    accept_rejects: bool = False,
) -> DatasetVersion:
    """Publish the file as the dataset's next version, or return the latest version unchanged
    (with `unchanged` set) when the content is identical. Nothing is published on error, nor
    when records or cells were rejected unless `accept_rejects` is set."""
    require(can_edit_dataset(principal, dataset), principal,
            f"charger des données dans « {dataset.title} »")
    path = Path(path)
    options = as_overrides(overrides)
    tmp = versions.temporary_path(settings, dataset, "ingest")
    workdir = Path(tempfile.mkdtemp(prefix=".work-", dir=tmp.parent))
    copying = versions.copy_original(settings, dataset, path)  # while the file is read
    try:
        con = _connect(workdir)
        try:
            plan, raw = _prepare(con, path, options, workdir, FileLimits.of(settings), full=True,
                                 progress=progress)
            row_count, digest = _write(con, plan, raw, tmp, progress, workdir)
            _account(con, plan, raw, row_count)
            _rejected_cells(con, plan, raw)
            if plan.rejects() and not accept_rejects:
                raise RejectsRefused(rejects_message(plan))
        finally:
            con.close()
    except BaseException:
        tmp.unlink(missing_ok=True)
        versions.discard_copy(copying)
        raise
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    return _publish(session, settings, principal, dataset, plan, tmp, digest, row_count,
                    versions.Original(path, media_type(plan.filename), copying))


def _account(con: duckdb.DuckDBPyConnection, plan: IngestPlan, raw: sources.RawSource,
             loaded: int) -> None:
    """Compare the records loaded with those Python's `csv` reads with the same dialect.

    A byte count of the non-empty lines comes first: it equals the records of any file
    without line breaks inside cells, so the file is read again in Python only when the two
    counts differ. The lines of records a standard reader finds but DuckDB did not load are
    found by walking both in order, comparing first fields."""
    plan.records_loaded = plan.records_read = loaded
    if raw.dialect is None or raw.text_path is None:
        return
    if textfile.count_lines(raw.text_path, raw.dialect.skip_lines) == loaded:
        return
    read = sum(1 for _ in textfile.records(raw.text_path, raw.dialect))
    plan.records_read = read
    if read <= loaded:
        return
    where = " WHERE NOT (" + " AND ".join(
        f"r{i} IS NULL" for i in range(len(raw.source_names))) + ")"
    cursor = con.sql(f"SELECT r0 FROM {raw.relation}{where}").fetch_arrow_reader(65_536)
    loaded_first = (v or "" for batch in cursor for v in batch.column(0).to_pylist())
    pending = next(loaded_first, None)
    for line, first in textfile.records(raw.text_path, raw.dialect):
        if pending is not None and pending == first:
            pending = next(loaded_first, None)
        else:
            plan.rejected_records.append(line)


MAX_REJECTED_CELLS = 1000


def _rejected_cells(con: duckdb.DuckDBPyConnection, plan: IngestPlan,
                    raw: sources.RawSource) -> None:
    """The cells left null in columns that accept a few unreadable values (coltypes'
    `rejects`): record number, line (CSV), column and value. Runs only for such columns."""
    tolerant = [(i, c) for i, c in enumerate(plan.columns) if c.parse.get("rejects")]
    if not tolerant:
        return
    bad = [f"CASE WHEN NOT {is_nothing(f'r{i}', c.type)} AND "
           f"{text_cast(f'r{i}', c.type, c.parse)} IS NULL THEN r{i} END AS b{i}"
           for i, c in tolerant]
    present = " AND ".join(f"r{i} IS NULL" for i in range(len(raw.source_names)))
    found = con.sql(
        f"SELECT * FROM (SELECT n, {', '.join(bad)} FROM (SELECT row_number() OVER () AS n, * "
        f"FROM {raw.relation} WHERE NOT ({present}))) WHERE "
        + " OR ".join(f"b{i} IS NOT NULL" for i, _ in tolerant)
        + f" ORDER BY n LIMIT {MAX_REJECTED_CELLS}").fetchall()
    lines: dict[int, int] = {}
    if found and raw.dialect is not None and raw.text_path is not None:
        wanted = {row[0] for row in found}
        for n, (line, _first) in enumerate(textfile.records(raw.text_path, raw.dialect), 1):
            if n in wanted:
                lines[n] = line
                if len(lines) == len(wanted):
                    break
    for row in found:
        for (_i, c), value in zip(tolerant, row[1:], strict=True):
            if value is not None:
                plan.rejected_cells.append({"record": row[0], "line": lines.get(row[0]),
                                        "column": c.source_name or c.name, "value": value})


def rejects_message(plan: IngestPlan) -> str:
    """Why a load with rejected records or cells is refused, in French, with the lines."""
    parts = []
    if (plan.records_read or 0) > (plan.records_loaded or 0):
        lines = ", ".join(str(n) for n in plan.rejected_records[:20])
        more = "…" if len(plan.rejected_records) > 20 else ""
        parts.append(
            f"{plan.records_read} enregistrement(s) lu(s) par un lecteur CSV standard, "
            f"{plan.records_loaded} chargé(s)"
            + (f" ; non chargé(s) : ligne(s) {lines}{more}" if lines else ""))
    if plan.rejected_cells:
        cells = " ; ".join(
            (f"ligne {c['line']}" if c["line"] else f"enregistrement {c['record']}")
            + f", colonne « {c['column']} » : « {c['value']} »" for c in plan.rejected_cells[:20])
        more = "…" if len(plan.rejected_cells) > 20 else ""
        parts.append(f"{len(plan.rejected_cells)} valeur(s) illisible(s) laissée(s) vides : "
                     f"{cells}{more}")
    return (f"{plan.filename} : " + ". ".join(parts) + ". Corrigez le fichier, ou acceptez ces "
            "rejets (--accept-rejects en ligne de commande, accept_rejects dans l'API, "
            "confirmation dans l'aperçu).")


def _write(con: duckdb.DuckDBPyConnection, plan: IngestPlan, raw: sources.RawSource,
           tmp: Path, progress: ProgressCallback | None, workdir: Path) -> tuple[int, str]:
    def on_batch(_rows: int) -> None:
        if progress is not None:
            done = con.query_progress()
            if done >= 0:
                progress(0.2 + 0.8 * min(done, 100.0) / 100, "Écriture de la version")

    for attempt in (1, 2, 3):
        try:
            return write_parquet(con, select_sql(plan, raw), tmp, on_batch,
                                 transform=_position_transform(plan))
        except (duckdb.Error, OSError) as exc:
            # DuckDB errors met while streaming come through Arrow as OSError.
            if isinstance(exc, OSError) and "Error" not in str(exc):
                raise
            if (attempt < 3 and _INVALID_STATE in str(exc)
                    and sources.read_with_lf_line_ends(raw, plan, workdir)):
                continue  # line ends mixed beyond the sniffed start of the file
            counts = _COUNTS.search(str(exc))
            if (attempt < 3 and counts and int(counts.group(2)) < int(counts.group(1))
                    and raw.dialect is not None and not plan.pad_short_rows):
                # Short rows beyond the sniffed sample: complete them, as documented.
                plan.pad_short_rows = True
                plan.problems.append("Lignes plus courtes que l'en-tête complétées par des "
                                     "valeurs vides.")
                raw.relation = sources.csv_relation(raw.text_path or Path(plan.path),
                                                    raw.dialect, pad=True,
                                                    max_line_bytes=raw.max_line_bytes)
                continue
            raise _translate(exc, plan, raw, plan.columns, con) from None
    raise AssertionError("unreachable")


ORIGINAL_MEDIA_TYPES = {
    ".csv": "text/csv", ".tsv": "text/tab-separated-values", ".txt": "text/plain",
    ".json": "application/json", ".geojson": "application/geo+json",
    ".ndjson": "application/x-ndjson", ".parquet": "application/vnd.apache.parquet",
    ".xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    ".xls": "application/vnd.ms-excel", ".ods": "application/vnd.oasis.opendocument.spreadsheet",
    ".zip": "application/zip", ".gz": "application/gzip", ".shp": "application/vnd.shp",
    ".gpkg": "application/geopackage+sqlite3"}


def media_type(filename: str) -> str:
    """The media type of a loaded file, from its name (the original is served with it)."""
    return ORIGINAL_MEDIA_TYPES.get(Path(filename).suffix.lower(), "application/octet-stream")


def _publish(session: Session, settings: Settings, principal: Principal, dataset: Dataset,
             plan: IngestPlan, tmp: Path, digest: str, row_count: int,
             original: versions.Original) -> DatasetVersion:
    added = versions.add_version(
        session, settings, dataset, tmp, content_hash=digest, row_count=row_count,
        columns=[c.contract() for c in plan.columns], positions=plan.positions,
        source_filename=plan.filename, source_format=plan.format,
        ingest_settings=plan.settings(), created_by=principal.account_id, original=original)
    version, latest = added.version, added.previous
    if not added.created:
        version.unchanged = True
        return version
    changes = {
        "version": [latest.number if latest else None, version.number],
        "row_count": [latest.row_count if latest else None, row_count],
    }
    session.add(DatasetChange(dataset_id=dataset.id, actor_id=principal.account_id,
                              actor_label=principal.label, action="version_published",
                              changes=changes))
    audit.record(session, principal, "dataset.version_published", f"dataset:{dataset.uid}",
                 {"slug": dataset.slug, "version": version.number, "rows": row_count,
                  "content_hash": digest, "file": plan.filename})
    session.flush()
    return version
