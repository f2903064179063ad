"""The data shown on a dataset's public page: table, chart and map, read through the
version the reading service opened for the visitor (reading/service.py), with parameters
from the page's query string (no script needed).

Query-string parameters (French, as visitors see them in the address bar):
- table: `recherche` (words in any text column), `filtre=colonne:op:valeur` (repeatable;
  the datastore's operators), `colonne` + `operateur` + `valeur` (one more filter, from the
  page's form), `tri=colonne` or `tri=-colonne`, `page`;
- chart: `type` (bar, line, pie), `x` (the column on the horizontal axis or the slices),
  `y` (a numeric column; none counts rows), `agg` (count, sum, avg, min, max), `pas` (day,
  month, year: how dates on the x axis are grouped).
The chart shows the rows the table's filters select.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any
from urllib.parse import urlencode

from patrimoine.core.errors import Invalid
from patrimoine.datastore.models import DatasetVersion
from patrimoine.reading import language
from patrimoine.reading.service import ReadableVersion

PER_PAGE = 20
MAX_PAGE = 5_000
CHART_TYPES = {"bar": "Barres", "line": "Courbe", "pie": "Secteurs"}
AGGREGATES = {"count": "Nombre de lignes", "sum": "Somme", "avg": "Moyenne", "min": "Minimum",
              "max": "Maximum"}
BUCKETS = {"day": "Jour", "month": "Mois", "year": "Année"}
TYPE_LABELS = {"string": "texte", "integer": "entier", "number": "nombre", "boolean": "oui/non",
               "date": "date", "datetime": "date et heure", "geometry": "géométrie"}
CHART_LIMITS = {"bar": 30, "pie": 10, "line": 1_000}
MAP_POINTS_LISTED = 50
# Up to this many positioned rows the map draws every row (GeoJSON export of the datastore
# API); beyond, one point per distinct position, with its number of rows.
MAP_ROWS_DRAWN = 10_000
MAP_POSITIONS_MAX = 20_000
MAP_PROPERTIES = 6
VEGA_LITE_SCHEMA = "https://vega.github.io/schema/vega-lite/v6.json"
PALETTE = ["#000091", "#c9191e", "#18753c", "#8a4b00", "#6a6af4", "#a94645", "#007c92",
           "#716043", "#3a3a3a", "#b34000"]


def _first(params: dict[str, list[str]], name: str) -> str:
    values = params.get(name) or [""]
    return values[-1].strip()


@dataclass
class TableRequest:
    search: str = ""
    filters: list[str] = field(default_factory=list)
    sort: str = ""
    page: int = 1

    def query(self) -> language.Query:
        return language.Query(filter=language.build_filter(self.filters, [], None),
                              search=self.search)

    def params(self, **changes: Any) -> dict[str, Any]:
        """The table's parameters (as a dict for urlencode), with some changed."""
        out: dict[str, Any] = {"recherche": self.search, "filtre": list(self.filters),
                               "tri": self.sort, "page": self.page}
        out.update(changes)
        if out.get("page") == 1:
            del out["page"]
        return {k: v for k, v in out.items() if v not in ("", None, [])}

    def url(self, base: str, **changes: Any) -> str:
        query = urlencode(self.params(**changes), doseq=True)
        return f"{base}?{query}" if query else base


def parse_table(params: dict[str, list[str]]) -> TableRequest:
    filters = [f for f in params.get("filtre", []) if f.strip()]
    column, op = _first(params, "colonne"), _first(params, "operateur")
    value = _first(params, "valeur")
    if column and op:
        if op not in language.OPERATORS:
            raise Invalid(f"Opérateur « {op} » inconnu.")
        if op not in ("null", "notnull") and not value:
            raise Invalid("Saisissez une valeur pour filtrer le tableau.")
        new = f"{column}:{op}" if op in ("null", "notnull") else f"{column}:{op}:{value}"
        if new not in filters:
            filters.append(new)
    try:
        page = int(_first(params, "page") or 1)
    except ValueError as exc:
        raise Invalid("Numéro de page invalide.") from exc
    if not 1 <= page <= MAX_PAGE:
        raise Invalid(f"Le numéro de page doit être compris entre 1 et {MAX_PAGE}.")
    return TableRequest(search=_first(params, "recherche")[:200], filters=filters[:20],
                        sort=_first(params, "tri"), page=page)


def describe_filter(text: str, labels: dict[str, str]) -> str:
    cond = language.parse_condition(text)
    name = labels.get(cond.column, cond.column)
    op = language.OPERATORS.get(cond.op, cond.op)
    if cond.value is None:
        return f"{name} {op}"
    value = ", ".join(cond.value) if isinstance(cond.value, list) else cond.value
    return f"{name} {op} « {value} »"


def column_labels(version: DatasetVersion) -> dict[str, str]:
    """Column names as the source file wrote them (the stored names are normalised)."""
    return {c["name"]: (c.get("source_name") or c["name"]) for c in version.columns}


@dataclass
class TablePage:
    columns: list[dict[str, Any]]
    rows: list[dict[str, Any]]
    total: int
    page: int
    pages: int
    per_page: int


def table_page(readable: ReadableVersion, req: TableRequest) -> TablePage:
    shown = [c for c in readable.seen.columns if c["type"] != "geometry"]
    sort = language.parse_sort(req.sort)
    page = language.Page(columns=tuple(c["name"] for c in shown), sort=sort, limit=PER_PAGE,
                   offset=(req.page - 1) * PER_PAGE)
    result = readable.records(req.query(), page)
    total = int(result.total or 0)
    return TablePage(columns=shown, rows=result.rows, total=total, page=req.page,
                     pages=max(1, -(-total // PER_PAGE)), per_page=PER_PAGE)


def display(value: Any, type_: str) -> str:
    """A cell as a French reader expects it."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "oui" if value else "non"
    if isinstance(value, datetime):
        return value.strftime("%d/%m/%Y %H:%M")
    if isinstance(value, date):
        return value.strftime("%d/%m/%Y")
    if isinstance(value, int):
        return f"{value:,}".replace(",", "\u202f") if type_ != "string" else str(value)
    if isinstance(value, float):
        if not math.isfinite(value):
            return ""
        text = f"{value:,.6f}".rstrip("0").rstrip(".")
        return text.replace(",", "\u202f").replace(".", ",")
    return str(value)


# ---------------------------------------------------------------------------- chart


@dataclass
class ChartRequest:
    type: str
    x: str
    y: str
    agg: str
    bucket: str

    def params(self) -> dict[str, str]:
        out = {"type": self.type, "x": self.x, "agg": self.agg}
        if self.y:
            out["y"] = self.y
        if self.bucket:
            out["pas"] = self.bucket
        return out


def chart_columns(version: DatasetVersion) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """(columns usable on the x axis, numeric columns usable as values)."""
    xs = [c for c in version.columns if c["type"] not in ("geometry",)]
    ys = [c for c in version.columns if c["type"] in ("integer", "number")]
    return xs, ys


def _is_identifier(name: str) -> bool:
    words = name.lower().replace("-", "_").split("_")
    return bool({"id", "identifiant", "code", "ref", "reference", "siret", "siren"} & set(words)
                ) or name.lower().startswith("id")


def _readable_first(columns: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Names before identifiers (`compteur` before `compteur_id`), order kept otherwise."""
    return sorted(columns, key=lambda c: _is_identifier(str(c["name"])))


def _default_x(version: DatasetVersion) -> str:
    xs, _ = chart_columns(version)
    positions = set((version.positions or {}).values())
    for wanted in ("string", "date", "boolean", "integer"):
        for c in _readable_first(xs):
            if c["type"] == wanted and c["name"] not in positions:
                return str(c["name"])
    return str(xs[0]["name"]) if xs else ""


_NOT_MEASURES = {"annee", "exercice", "mois", "jour", "year", "month", "day", "numero", "num",
                 "fonction", "chapitre", "nature", "article", "rang", "ordre"}


def _default_y(version: DatasetVersion) -> str:
    """A column worth summing: decimals first, then counts; never a position, a code or a
    year."""
    positions = set((version.positions or {}).values())
    _, ys = chart_columns(version)
    candidates = [c for c in ys if c["name"] not in positions
                  and not _is_identifier(str(c["name"]))
                  and not set(str(c["name"]).lower().split("_")) & _NOT_MEASURES]
    for wanted in ("number", "integer"):
        for c in candidates:
            if c["type"] == wanted:
                return str(c["name"])
    return ""


def parse_chart(params: dict[str, list[str]], version: DatasetVersion) -> ChartRequest:
    type_ = _first(params, "type") or "bar"
    if type_ not in CHART_TYPES:
        raise Invalid(f"Type de graphique « {type_} » inconnu : bar (barres), line (courbe) "
                      "ou pie (secteurs).")
    names = {c["name"]: c["type"] for c in version.columns}
    x = _first(params, "x") or _default_x(version)
    if x not in names or names[x] == "geometry":
        raise Invalid(f"La colonne « {x} » ne peut pas servir d'axe au graphique.",
                      errors=["Colonnes possibles : " + ", ".join(
                          n for n, t in names.items() if t != "geometry") + "."])
    agg = _first(params, "agg")
    y = _first(params, "y")
    if not agg and not _first(params, "x"):
        # The default chart sums the first measure by the first category, when there is one.
        y = y or _default_y(version)
        agg = "sum" if y else "count"
    agg = agg or "count"
    if agg not in AGGREGATES:
        raise Invalid(f"Calcul « {agg} » inconnu : count, sum, avg, min ou max.")
    if agg == "count":
        y = ""
    elif not y:
        raise Invalid(f"Le calcul « {AGGREGATES[agg].lower()} » demande une colonne de valeurs.")
    elif names.get(y) not in ("integer", "number"):
        raise Invalid(f"La colonne « {y} » n'est pas numérique : elle ne peut pas être "
                      "additionnée ni moyennée.")
    bucket = _first(params, "pas")
    if names[x] in ("date", "datetime"):
        bucket = bucket or "month"
        if bucket not in BUCKETS:
            raise Invalid(f"Pas « {bucket} » inconnu : day, month ou year.")
    else:
        bucket = ""
    return ChartRequest(type_, x, y, agg, bucket)


@dataclass
class ChartData:
    request: ChartRequest
    x_label: str
    y_label: str
    x_type: str
    points: list[tuple[Any, Any]]
    truncated: bool

    def x_text(self, value: Any) -> str:
        """An x value as the text alternative shows it (dates at the grouping's precision)."""
        if value is None:
            return "(vide)"
        if isinstance(value, (date, datetime)) and self.request.bucket in ("month", "year"):
            return value.strftime(_time_format(self.request.bucket))
        return display(value, self.x_type)

    @property
    def description(self) -> str:
        kind = CHART_TYPES[self.request.type].lower()
        return f"Graphique en {kind} : {self.y_label} par {self.x_label.lower()}."


def chart_data(readable: ReadableVersion, req: ChartRequest, query: language.Query) -> ChartData:
    version = readable.version
    labels = column_labels(version)
    group = language.GroupKey(req.x, req.bucket or None)
    metric = language.Metric(req.agg, req.y or None)
    limit = CHART_LIMITS[req.type]
    if req.type == "line":
        sort: tuple[language.SortKey, ...] = (language.SortKey(group.alias),)
    else:
        sort = (language.SortKey(metric.alias, descending=True),)
    result = readable.aggregate(query, [group], [metric], sort, limit + 1)
    points = [(r[group.alias], r[metric.alias]) for r in result.rows]
    x_type = version.column_type(req.x) or "string"
    x_label = labels.get(req.x, req.x)
    if req.bucket:
        x_label = f"{x_label} ({BUCKETS[req.bucket].lower()})"
    if req.agg == "count":
        y_label = "Nombre de lignes"
    else:
        y_label = f"{AGGREGATES[req.agg]} de {labels.get(req.y, req.y)}"
    return ChartData(req, x_label, y_label, x_type, points[:limit], len(points) > limit)


def _json_value(value: Any) -> Any:
    if isinstance(value, (date, datetime)):
        return value.isoformat()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value




def vega_lite_spec(chart: ChartData, title: str) -> dict[str, Any]:
    """A self-contained Vega-Lite spec (the aggregated values are inline)."""
    req = chart.request
    temporal = chart.x_type in ("date", "datetime")
    values = []
    for x, y in chart.points:
        if req.type == "line" and (temporal or chart.x_type in ("integer", "number")):
            xv = _json_value(x)
        else:
            xv = chart.x_text(x)
        values.append({"x": xv, "y": _json_value(y)})
    y_axis: dict[str, Any] = {"format": ",.4~f"}
    if req.agg == "count":
        y_axis.update(format=",d", tickMinStep=1)
    y_enc: dict[str, Any] = {"field": "y", "type": "quantitative", "title": chart.y_label,
                             "axis": y_axis}
    tooltip = [{"field": "x", "title": chart.x_label,
                **({"type": "temporal", "format": _time_format(req.bucket)}
                   if temporal and req.type == "line" else {})},
               {"field": "y", "type": "quantitative", "title": chart.y_label, "format": ",.4~f"}]
    spec: dict[str, Any] = {
        "$schema": VEGA_LITE_SCHEMA,
        "title": title,
        "description": chart.description,
        "width": "container",
        "height": 320,
        # The whole chart, axes and legend included, fits the page's width.
        "autosize": {"type": "fit-x", "contains": "padding"},
        "data": {"values": values},
        "config": {"font": "system-ui, sans-serif", "range": {"category": PALETTE},
                   "axis": {"labelFontSize": 12, "titleFontSize": 13, "labelLimit": 220},
                   "legend": {"labelFontSize": 12, "titleFontSize": 13, "labelLimit": 260}},
    }
    if req.type == "pie":
        spec["mark"] = {"type": "arc", "tooltip": True, "stroke": "#fff"}
        spec["encoding"] = {
            "theta": {"field": "y", "type": "quantitative", "title": chart.y_label},
            "color": {"field": "x", "type": "nominal", "title": chart.x_label,
                      "sort": {"field": "y", "order": "descending"}},
            "order": {"field": "y", "type": "quantitative", "sort": "descending"},
            "tooltip": tooltip,
        }
        spec["height"] = 320
    elif req.type == "line":
        x_enc: dict[str, Any] = {"field": "x", "title": chart.x_label}
        if temporal:
            x_enc.update(type="temporal", axis={"format": _time_format(req.bucket)})
        elif chart.x_type in ("integer", "number"):
            x_enc.update(type="quantitative", axis={"format": ",.4~f"})
        else:
            x_enc.update(type="ordinal", sort=None)
        spec["mark"] = {"type": "line", "point": True, "tooltip": True, "color": PALETTE[0]}
        spec["encoding"] = {"x": x_enc, "y": y_enc, "tooltip": tooltip}
    else:
        spec["mark"] = {"type": "bar", "tooltip": True, "color": PALETTE[0]}
        spec["encoding"] = {
            "y": {"field": "x", "type": "nominal", "title": chart.x_label, "sort": "-x"},
            "x": y_enc,
            "tooltip": tooltip,
        }
        # About 22 px per bar (a height "step" would disable fitting the container's width).
        spec["height"] = max(80, 22 * len(values))
    return spec


def _time_format(bucket: str) -> str:
    return {"day": "%d/%m/%Y", "month": "%m/%Y", "year": "%Y"}.get(bucket, "%d/%m/%Y")


def spec_json(spec: dict[str, Any]) -> str:
    return json.dumps(spec, ensure_ascii=False, separators=(",", ":"))


# ------------------------------------------------------------------------------ map


@dataclass
class MapPoints:
    label_column: str | None
    rows: list[dict[str, Any]]
    total: int


def label_column(version: DatasetVersion) -> str | None:
    positions = set((version.positions or {}).values())
    for c in _readable_first(version.columns):
        if c["type"] == "string" and c["name"] not in positions:
            return str(c["name"])
    return None


def map_points(readable: ReadableVersion, query: language.Query,
               limit: int = MAP_POINTS_LISTED) -> MapPoints:
    """The first positioned rows, listed as the map's text alternative."""
    version = readable.version
    assert version.positions
    lat, lon = version.positions["lat"], version.positions["lon"]
    label = label_column(version)
    cols = tuple(c for c in (label, lat, lon) if c)
    positioned = language.Query(
        filter=language.Group("and", (*query.filter.items, language.Condition(lat, "notnull"),
                                      language.Condition(lon, "notnull"))),
        search=query.search)
    result = readable.records(positioned, language.Page(columns=cols, limit=limit))
    rows = [{"label": r.get(label) if label else None, "lat": r[lat], "lon": r[lon],
             "row": r["_row"]} for r in result.rows]
    return MapPoints(label, rows, int(result.total or 0))


def map_properties(version: DatasetVersion) -> list[str]:
    """The columns a map's points carry (shown in their pop-ups)."""
    skip = set((version.positions or {}).values())
    return [str(c["name"]) for c in version.columns
            if c["type"] != "geometry" and c["name"] not in skip][:MAP_PROPERTIES]


@dataclass
class GroupedPoints:
    features: list[dict[str, Any]]
    truncated: bool

    def geojson(self) -> dict[str, Any]:
        return {"type": "FeatureCollection", "features": self.features,
                "truncated": self.truncated}


def grouped_points(readable: ReadableVersion, query: language.Query,
                   limit: int = MAP_POSITIONS_MAX) -> GroupedPoints:
    """One point per distinct position (and label) of the matching rows, with its count."""
    version = readable.version
    assert version.positions
    lat, lon = version.positions["lat"], version.positions["lon"]
    label = label_column(version)
    positioned = language.Query(
        filter=language.Group("and", (*query.filter.items, language.Condition(lat, "notnull"),
                                      language.Condition(lon, "notnull"))),
        search=query.search)
    groups = [language.GroupKey(lat), language.GroupKey(lon)] + (
        [language.GroupKey(label)] if label else [])
    limit = min(limit, readable.limits.max_aggregate_rows - 1)
    result = readable.aggregate(positioned, groups, [language.Metric("count")], (), limit + 1)
    labels = column_labels(version)
    features = []
    for row in result.rows[:limit]:
        props: dict[str, Any] = {}
        if label:
            props[labels.get(label, label)] = row[label]
        props["Nombre de lignes"] = row["count"]
        features.append({"type": "Feature",
                         "geometry": {"type": "Point", "coordinates": [row[lon], row[lat]]},
                         "properties": props})
    return GroupedPoints(features, len(result.rows) > limit)
