"""Geometries written in a text cell — WKT or EWKT (`SRID=2154;POINT(…)`), GeoJSON, WKB or
EWKB in hexadecimal (as PostGIS exports them) — read into GeoJSON-like dicts, and the one
point that stands for each on a map (`anchor`): the point itself, the area-weighted centroid
of polygons, the mean of the vertices of lines.

Written here because no geometry library is a dependency (shapely is not installed); the
readers only need what positions need: coordinates, nesting and the declared SRID.
"""

from __future__ import annotations

import json
import math
import re
import struct
from dataclasses import dataclass
from typing import Any

_TYPES = {1: "Point", 2: "LineString", 3: "Polygon", 4: "MultiPoint", 5: "MultiLineString",
          6: "MultiPolygon", 7: "GeometryCollection"}
_WKT_TYPES = {name.upper(): name for name in _TYPES.values()}
_HEX = re.compile(r"(?:00|01)[0-9A-Fa-f]{40,}")
_EWKT = re.compile(r"\s*SRID=(\d+)\s*;\s*(.*)", re.DOTALL | re.IGNORECASE)
_WKT_START = re.compile(r"\s*(?:SRID=\d+\s*;\s*)?(?:POINT|LINESTRING|POLYGON|MULTIPOINT|"
                        r"MULTILINESTRING|MULTIPOLYGON|GEOMETRYCOLLECTION)\b", re.IGNORECASE)
_TOKEN = re.compile(r"\s*([A-Za-z]+|[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?|[(),])")


@dataclass
class Shape:
    geometry: dict[str, Any]  # {"type": …, "coordinates": …} or a GeometryCollection
    srid: int | None = None  # the SRID the value declares (EWKT, EWKB), if any


def read(value: Any) -> Shape | None:
    """The geometry a cell holds, or None when it holds none (or something else)."""
    if not isinstance(value, str):
        return None
    text = value.strip()
    if not text:
        return None
    try:
        if text[0] in "{[":
            return _geojson(text)
        if _HEX.fullmatch(text) and len(text) % 2 == 0:
            return _Wkb(bytes.fromhex(text)).shape()
        if _WKT_START.match(text):
            return _wkt(text)
    except (ValueError, KeyError, TypeError, IndexError, struct.error, RecursionError):
        return None
    return None


def anchor(shape: Shape) -> tuple[float, float] | None:
    """(x, y) of the point standing for the geometry; None for an empty geometry."""
    weighted = _anchor(shape.geometry)
    if weighted is None:
        return None
    x, y, _ = weighted
    return (x, y) if math.isfinite(x) and math.isfinite(y) else None


# GeoJSON text


def _geojson(text: str) -> Shape | None:
    document = json.loads(text)
    if isinstance(document, dict) and document.get("type") == "Feature":
        document = document.get("geometry")
    if not isinstance(document, dict) or document.get("type") not in _TYPES.values():
        return None
    return Shape(document)


# WKT / EWKT


_NUMBER = r"[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?"
_SIMPLE = re.compile(r"\s*(POINT|LINESTRING|POLYGON|MULTIPOINT|MULTILINESTRING|MULTIPOLYGON)"
                     r"\s*(?:ZM|Z|M)?\s*(\(.*\))\s*", re.IGNORECASE | re.DOTALL)
_POSITION = re.compile(rf"{_NUMBER}(?:\s+{_NUMBER})+")
_BODY = re.compile(r"[\s\d.,()+\-eE]*")
_DEPTH = {"Point": 2, "LineString": 2, "MultiPoint": 2, "Polygon": 3, "MultiLineString": 3,
          "MultiPolygon": 4}


def _wkt(text: str) -> Shape | None:
    srid = None
    ewkt = _EWKT.fullmatch(text)
    if ewkt:
        srid, text = int(ewkt.group(1)), ewkt.group(2)
    simple = _SIMPLE.fullmatch(text)
    if simple and _BODY.fullmatch(simple.group(2)):
        geometry = _simple_wkt(_WKT_TYPES[simple.group(1).upper()], simple.group(2))
        return Shape(geometry, srid) if geometry else None
    tokens: list[str] = []
    position = 0
    while position < len(text.rstrip()):
        token = _TOKEN.match(text, position)
        if token is None:
            return None
        tokens.append(token.group(1))
        position = token.end()
    parser = _WktParser(tokens)
    geometry = parser.geometry()
    if geometry is None or parser.at < len(tokens):
        return None
    return Shape(geometry, srid)


def _simple_wkt(kind: str, body: str) -> dict[str, Any] | None:
    """The geometry of one type (not a collection) read at C speed: its positions written as
    JSON arrays, its parentheses as brackets, then `json.loads`; None when the nesting does
    not fit the type."""
    # « ((x y, x y)) » -> « ([[x;y],[x;y]]) » with string replacements only (C speed): one
    # space separates the numbers of a position, none is left around parentheses and commas;
    # parentheses around numbers become the brackets of positions; a comma between numbers
    # separates positions, one between parentheses separates rings or parts.
    text = " ".join(body.split())
    for old, new in ((", ", ","), (" ,", ","), ("( ", "("), (" (", "("), (" )", ")"),
                     (") ", ")"), (" ", ";")):
        text = text.replace(old, new)
    for c in "0123456789.":
        text = text.replace(c + ")", c + "]]")
    for c in "0123456789.+-":
        text = text.replace("(" + c, "[[" + c)
    text = text.replace(",", "],[").replace("]]],[[[", "]],[[").replace(")],[(", "),(")
    try:
        nested = json.loads(text.replace("(", "[").replace(")", "]").replace(";", ","))
    except ValueError:  # numbers JSON does not read (« .5 », « 1. », « +2 »)
        def position(found: re.Match[str]) -> str:
            return "[" + ",".join(repr(float(v)) for v in found.group(0).split()) + "]"

        nested = json.loads(_POSITION.sub(position, body).replace("(", "[").replace(")", "]"))
    if kind == "MultiPoint" and nested and _depth(nested) == 3:
        nested = [p[0] for p in nested]  # MULTIPOINT ((1 2), (3 4))
    if _depth(nested) != _DEPTH[kind] or (kind == "Point" and len(nested) != 1):
        return None
    return {"type": kind, "coordinates": nested[0] if kind == "Point" else nested}


def _depth(node: Any) -> int:
    depth = 0
    while isinstance(node, list) and node:
        depth, node = depth + 1, node[0]
    return depth if isinstance(node, (int, float)) and not isinstance(node, bool) else -1


class _WktParser:
    def __init__(self, tokens: list[str]) -> None:
        self.tokens = tokens
        self.at = 0

    def take(self, expected: str | None = None) -> str:
        token = self.tokens[self.at]
        if expected is not None and token != expected:
            raise ValueError(f"{expected} attendu")
        self.at += 1
        return token

    def peek(self) -> str | None:
        return self.tokens[self.at] if self.at < len(self.tokens) else None

    def geometry(self) -> dict[str, Any] | None:
        kind = _WKT_TYPES.get(self.take().upper())
        if kind is None:
            raise ValueError("type de géométrie inconnu")
        if (self.peek() or "").upper() in ("Z", "M", "ZM"):
            self.take()
        if (self.peek() or "").upper() == "EMPTY":
            self.take()
            return {"type": kind, "coordinates": []} if kind != "GeometryCollection" else \
                {"type": kind, "geometries": []}
        if kind == "GeometryCollection":
            geometries = self.listed(self.geometry)
            return {"type": kind, "geometries": [g for g in geometries if g]}
        depth = {"Point": 0, "LineString": 1, "MultiPoint": 1, "Polygon": 2,
                 "MultiLineString": 2, "MultiPolygon": 3}[kind]
        if kind == "Point":
            self.take("(")
            coordinates: Any = self.position()
            self.take(")")
        elif kind == "MultiPoint" and self.tokens[self.at + 1:self.at + 2] == ["("]:
            coordinates = self.listed(lambda: self.nested(0))  # MULTIPOINT((1 2), (3 4))
        else:
            coordinates = self.nested(depth)
        return {"type": kind, "coordinates": coordinates}

    def listed(self, item: Any) -> list[Any]:
        self.take("(")
        items = [item()]
        while self.peek() == ",":
            self.take()
            items.append(item())
        self.take(")")
        return items

    def nested(self, depth: int) -> Any:
        if depth == 0:
            if self.peek() == "(":
                self.take()
                value = self.position()
                self.take(")")
                return value
            return self.position()
        return self.listed(lambda: self.nested(depth - 1))

    def position(self) -> list[float]:
        values = []
        while (token := self.peek()) is not None and token not in "(),":
            values.append(float(self.take()))
        if len(values) < 2:
            raise ValueError("coordonnées incomplètes")
        return values


# WKB / EWKB


class _Wkb:
    def __init__(self, data: bytes) -> None:
        self.data = data
        self.at = 0
        self.srid: int | None = None

    def shape(self) -> Shape | None:
        geometry = self.geometry()
        return Shape(geometry, self.srid) if self.at == len(self.data) else None

    def unpack(self, fmt: str) -> tuple[Any, ...]:
        values = struct.unpack_from(fmt, self.data, self.at)
        self.at += struct.calcsize(fmt)
        return values

    def geometry(self) -> dict[str, Any]:
        order = "<" if self.unpack("B")[0] == 1 else ">"
        code = self.unpack(order + "I")[0]
        dims = 2 + bool(code & 0x80000000) + bool(code & 0x40000000)  # EWKB Z, M flags
        if code & 0x20000000:
            self.srid = self.unpack(order + "I")[0]
        code &= 0x0FFFFFFF
        dims += {0: 0, 1: 1, 2: 1, 3: 2}[code // 1000]  # ISO WKB: 1001 = Point Z…
        kind = _TYPES[code % 1000]
        point = order + "d" * dims

        def positions() -> list[list[float]]:
            (count,) = self.unpack(order + "I")
            if count > len(self.data):
                raise ValueError("nombre de points impossible")
            values = self.unpack(order + point[1:] * count)  # every double at once
            size = len(point) - 1
            return [list(values[i:i + size]) for i in range(0, len(values), size)]

        def many() -> list[dict[str, Any]]:
            (count,) = self.unpack(order + "I")
            if count > len(self.data):
                raise ValueError("nombre de parties impossible")
            return [self.geometry() for _ in range(count)]

        if kind == "Point":
            return {"type": kind, "coordinates": list(self.unpack(point))}
        if kind == "LineString":
            return {"type": kind, "coordinates": positions()}
        if kind == "Polygon":
            (rings,) = self.unpack(order + "I")
            if rings > len(self.data):
                raise ValueError("nombre d'anneaux impossible")
            return {"type": kind, "coordinates": [positions() for _ in range(rings)]}
        if kind == "GeometryCollection":
            return {"type": kind, "geometries": many()}
        return {"type": kind, "coordinates": [g["coordinates"] for g in many()]}


# The point standing for a geometry: (x, y, weight); polygons weigh their area, other
# geometries weigh nothing next to a polygon.


def _anchor(geometry: Any) -> tuple[float, float, float] | None:
    if not isinstance(geometry, dict):
        return None
    kind = geometry.get("type")
    if kind == "GeometryCollection":
        return _combine([_anchor(g) for g in geometry.get("geometries") or []])
    coordinates = geometry.get("coordinates")
    if kind == "Point":
        if isinstance(coordinates, list) and len(coordinates) >= 2:
            return float(coordinates[0]), float(coordinates[1]), 0.0
        return None
    if kind == "Polygon":
        return _polygon(coordinates or [])
    if kind == "MultiPolygon":
        return _combine([_polygon(p) for p in coordinates or []])
    points = coordinates or []
    if kind == "MultiLineString":
        points = [p for line in points for p in line]
    return _mean(points)


def _combine(parts: list[tuple[float, float, float] | None]) -> tuple[float, float, float] | None:
    found = [p for p in parts if p is not None]
    total = sum(w for _, _, w in found)
    if not found:
        return None
    if total <= 0:
        return _mean([[x, y] for x, y, _ in found])
    return (sum(x * w for x, _, w in found) / total, sum(y * w for _, y, w in found) / total,
            total)


def _mean(points: list[Any]) -> tuple[float, float, float] | None:
    if not points:
        return None
    return (sum(float(p[0]) for p in points) / len(points),
            sum(float(p[1]) for p in points) / len(points), 0.0)


def _polygon(rings: list[Any]) -> tuple[float, float, float] | None:
    """Area-weighted centroid of the outer ring minus its holes (shoelace formula, taken
    relative to the first vertex so that metres of a projection keep their precision)."""
    if not rings or not rings[0]:
        return None
    x0, y0 = float(rings[0][0][0]), float(rings[0][0][1])
    sx = sy = area = 0.0
    for n, ring in enumerate(rings):
        ring_area = ring_x = ring_y = 0.0
        for (ax, ay, *_), (bx, by, *_) in zip(ring, ring[1:], strict=False):
            ax, ay, bx, by = ax - x0, ay - y0, bx - x0, by - y0
            cross = ax * by - bx * ay
            ring_area += cross
            ring_x += (ax + bx) * cross
            ring_y += (ay + by) * cross
        # The outer ring counts, holes are taken away, whatever the rings' orientation.
        sign = math.copysign(1.0, ring_area) * (1.0 if n == 0 else -1.0)
        area += sign * ring_area / 2
        sx += sign * ring_x / 6
        sy += sign * ring_y / 6
    if area <= 0:
        return _mean(rings[0])
    return x0 + sx / area, y0 + sy / area, area
