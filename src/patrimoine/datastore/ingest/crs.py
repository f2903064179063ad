"""French projected coordinates: recognised and reprojected to WGS84 longitude/latitude.

Many French exports write positions in metres of a national projection, often without saying
so. `detect` decides the source coordinate reference system (CRS) of a sample of (x, y) pairs:
1. an explicit choice of the user (`Overrides.crs`) wins;
2. values within degree ranges are WGS84 already, whatever the metadata says;
3. a CRS declared by the file (GeoJSON `crs` member, `.prj`-style name, column name such as
   `x_l93`) is taken when its reading of the values falls in metropolitan France;
4. else each candidate (Lambert-93, CC42…CC50, Lambert II étendu, Web Mercator) reads the
   values, and the one placing the most points inside a coarse outline of metropolitan France
   wins. The CC zones share their X range; each zone's Y range (false northing 1 200 000 m
   for CC42, then + 1 000 000 m a zone) is what separates them. When two candidates place the
   points in France equally well the choice is reported as ambiguous, never silently made.
Values that fit no candidate are left as plain numbers, with a French message (no positions).

pyproj ships its own PROJ database (`pyproj.datadir`); nothing is downloaded at run time.
"""

from __future__ import annotations

import math
import re
from array import array
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import TYPE_CHECKING, Any

import pyarrow as pa
import pyarrow.compute as pc

if TYPE_CHECKING:  # pyproj is imported where a projection is named or used (start-up cost)
    from pyproj import Transformer

WGS84 = 4326
CANDIDATES: dict[int, str] = {
    2154: "Lambert-93",
    **{3900 + n: f"CC{n}" for n in range(42, 51)},
    27572: "Lambert II étendu",
    3857: "Web Mercator",
}
SAMPLE = 400
# Share of the sample a reading must place in France to be taken.
MIN_INSIDE = 0.9

# .prj / GeoJSON names and column-name hints -> EPSG code.
_NAMES: list[tuple[re.Pattern[str], int]] = [
    (re.compile(r"lambert[\s_-]*93|(?<![a-z])l93(?![0-9])|rgf93[\s_/-]*lambert|2154"), 2154),
    (re.compile(r"lambert[\s_-]*(ii|2)(?![0-9])|(?<![a-z])l2e?(?![a-z0-9])|27572"), 27572),
    (re.compile(r"pseudo[\s_-]*mercator|web[\s_-]*mercator|3857|900913"), 3857),
    (re.compile(r"crs84|wgs[\s_-]*84|4326"), WGS84),
]
_CC = re.compile(r"(?<![a-z])cc[\s_-]*(4[2-9]|50)(?![0-9])|39(4[2-9]|50)")

# A coarse outline of metropolitan France and Corsica (longitude, latitude), enough to tell
# a reading that lands in France from one that lands at sea or abroad.
_MAINLAND = [
    (2.55, 51.09), (4.15, 49.98), (4.85, 50.15), (5.8, 49.55), (6.4, 49.47), (8.2, 48.97),
    (7.6, 47.6), (6.95, 47.45), (6.1, 46.2), (7.0, 45.9), (6.63, 45.1), (7.0, 44.2),
    (7.53, 43.78), (6.6, 43.15), (5.0, 43.3), (4.0, 43.45), (3.1, 42.9), (3.2, 42.43),
    (1.7, 42.45), (-0.3, 42.8), (-1.78, 43.36), (-1.45, 44.5), (-1.25, 45.9), (-2.3, 46.7),
    (-2.6, 47.3), (-4.4, 47.8), (-4.8, 48.4), (-3.5, 48.85), (-1.6, 48.65), (-1.95, 49.72),
    (-1.25, 49.7), (0.2, 49.45), (1.4, 50.1), (1.6, 50.9),
]
_CORSICA = [(9.35, 43.03), (9.55, 42.1), (9.2, 41.35), (8.6, 41.75), (8.55, 42.4),
            (9.0, 42.75)]
_MARGIN = 0.3  # degrees (about 25 km): coasts and islands close to the outline


@dataclass
class Detection:
    epsg: int | None  # WGS84 (4326): already degrees; None: no known CRS fits
    how: str  # "réglage", "fichier", "valeurs"
    note: str  # French, for the report

    @property
    def projected(self) -> bool:
        return self.epsg is not None and self.epsg != WGS84

    def settings(self) -> dict[str, Any]:
        return {"epsg": f"EPSG:{self.epsg}" if self.epsg else None, "how": self.how,
                "note": self.note}


def label(epsg: int) -> str:
    if epsg == WGS84:
        return "WGS84 (EPSG:4326)"
    name = CANDIDATES.get(epsg)
    if name is None:
        from pyproj import CRS
        name = CRS.from_epsg(epsg).name
    return f"{name} (EPSG:{epsg})"


def parse_user_crs(value: str) -> int:
    """An EPSG code from what a user or a file writes ("EPSG:2154", "2154", "Lambert-93",
    "urn:ogc:def:crs:EPSG::2154", a WKT). Raises ValueError with a French message."""
    text = value.strip()
    named = from_name(text)
    if named is not None:
        return named
    from pyproj import CRS
    from pyproj.exceptions import CRSError
    try:
        code = CRS.from_user_input(int(text) if text.isdigit() else text).to_epsg()
    except CRSError:
        code = None
    if code is None:
        raise ValueError(f"système de coordonnées inconnu « {value} » (par exemple EPSG:2154 "
                         "pour Lambert-93, EPSG:3948 pour CC48)")
    return code


def from_name(text: str) -> int | None:
    """The EPSG code a `.prj`-style name, a GeoJSON crs name or a column name points to."""
    folded = text.lower()
    cc = _CC.search(folded)
    if cc:
        return 3900 + int(cc.group(1) or cc.group(2))
    return next((code for pattern, code in _NAMES if pattern.search(folded)), None)


def geojson_crs(document: Any) -> int | None:
    """The CRS a GeoJSON `crs` member names (GeoJSON 2008), if any and known."""
    member = document.get("crs") if isinstance(document, dict) else None
    props = member.get("properties") if isinstance(member, dict) else None
    name = props.get("name") if isinstance(props, dict) else None
    if not isinstance(name, str):
        return None
    try:
        return parse_user_crs(name)
    except ValueError:
        return None


def _degrees(xs: Sequence[float], ys: Sequence[float]) -> bool:
    return all(abs(x) <= 180 for x in xs) and all(abs(y) <= 90 for y in ys)


def _inside_polygon(lon: float, lat: float, polygon: list[tuple[float, float]]) -> bool:
    inside = False
    j = len(polygon) - 1
    for i, (xi, yi) in enumerate(polygon):
        xj, yj = polygon[j]
        if (yi > lat) != (yj > lat) and lon < (xj - xi) * (lat - yi) / (yj - yi) + xi:
            inside = not inside
        j = i
    return inside


def in_france(lon: float, lat: float) -> bool:
    if not (-5.9 <= lon <= 10.0 and 41.0 <= lat <= 51.5):
        return False
    return any(_inside_polygon(lon + dx, lat + dy, polygon)
               for dx, dy in ((0, 0), (_MARGIN, 0), (-_MARGIN, 0), (0, _MARGIN), (0, -_MARGIN))
               for polygon in (_MAINLAND, _CORSICA))


@lru_cache(maxsize=32)
def transformer(epsg: int) -> Transformer:
    from pyproj import Transformer
    return Transformer.from_crs(epsg, WGS84, always_xy=True)


def to_wgs84(epsg: int, xs: Sequence[float], ys: Sequence[float]
             ) -> tuple[list[float], list[float]]:
    """(longitudes, latitudes) of projected (x, y) pairs."""
    lons, lats = transformer(epsg).transform(list(xs), list(ys))
    return list(lons), list(lats)


def _share_in_france(epsg: int, xs: Sequence[float], ys: Sequence[float]) -> float:
    lons, lats = to_wgs84(epsg, xs, ys)
    # A CC zone is used only within its band of latitudes (its Y range): zone n covers n ± 1°.
    low, high = (epsg - 3900 - 1.1, epsg - 3900 + 1.1) if 3942 <= epsg <= 3950 else (-90, 90)
    return sum(1 for lon, lat in zip(lons, lats, strict=True)
               if low <= lat <= high and in_france(lon, lat)) / len(xs)


def _sample(pairs: Iterable[tuple[float, float]]) -> tuple[list[float], list[float]]:
    kept = [(x, y) for x, y in pairs if (x, y) != (0, 0)]  # (0, 0): a missing position
    step = max(1, len(kept) // SAMPLE)
    chosen = kept[::step][:SAMPLE]
    return [x for x, _ in chosen], [y for _, y in chosen]


def detect(pairs: Iterable[tuple[float, float]], *, override: int | None = None,
           declared: int | None = None, where: str = "Les coordonnées") -> Detection:
    """The source CRS of (x, y) pairs (see the module docstring for the order of decisions)."""
    if override is not None:
        return Detection(override, "réglage", f"{where} sont lues en {label(override)}, comme "
                         "demandé" + (", et converties en WGS84." if override != WGS84 else "."))
    xs, ys = _sample(pairs)
    if not xs or _degrees(xs, ys):
        return Detection(WGS84, "valeurs", f"{where} sont en degrés (WGS84).")
    if declared is not None and declared != WGS84 and _share_in_france(declared, xs, ys) >= \
            MIN_INSIDE:
        return Detection(declared, "fichier", f"{where} sont en {label(declared)}, comme le "
                         "fichier l'indique ; converties en WGS84.")
    scores = sorted(((_share_in_france(code, xs, ys), code) for code in CANDIDATES),
                    key=lambda s: -s[0])
    best_score, best = scores[0]
    if best_score < MIN_INSIDE:
        return Detection(None, "valeurs", f"{where} ne sont ni des degrés ni dans une "
                         "projection française reconnue (Lambert-93, CC42 à CC50, Lambert II "
                         "étendu, Web Mercator) : gardées comme simples nombres, sans position. "
                         "Précisez leur système (par exemple --crs EPSG:2154).")
    others = [code for score, code in scores[1:] if score >= MIN_INSIDE]
    conflict = (f" Attention : le fichier indique {label(declared)}, qui ne correspond pas à "
                "ces valeurs." if declared not in (None, best) else "")
    if others:
        return Detection(best, "valeurs", f"{where} sont des mètres d'une projection ambiguë : "
                         f"{label(best)} retenu, mais {', '.join(label(c) for c in others)} "
                         "les placerait aussi en France. Vérifiez la carte, ou précisez le "
                         f"système (par exemple --crs EPSG:{others[0]}).{conflict}")
    return Detection(best, "valeurs", f"{where} sont en {label(best)}, reconnu d'après leurs "
                     f"valeurs ; converties en WGS84.{conflict}")


def reproject_table(table: pa.Table, lat: str, lon: str, epsg: int) -> pa.Table:
    """The table with its `lon` / `lat` columns, holding projected x / y, turned into WGS84
    longitude / latitude (nulls and points that do not convert stay null). Converts buffers
    in place, without Python objects per value (about a second for a million rows)."""
    def doubles(name: str) -> array:
        column = pc.fill_null(table.column(name).cast(pa.float64()), math.nan).combine_chunks()
        start = column.offset * 8
        values = array("d")
        values.frombytes(column.buffers()[1].to_pybytes()[start:start + len(column) * 8])
        return values

    xs, ys = doubles(lon), doubles(lat)
    transformer(epsg).transform(xs, ys, inplace=True)
    for name, values in ((lon, xs), (lat, ys)):
        degrees = pa.Array.from_buffers(pa.float64(), len(values), [None, pa.py_buffer(values)])
        column = pc.if_else(pc.is_finite(degrees), pc.round(degrees, 7),
                            pa.scalar(None, pa.float64()))
        table = table.set_column(table.schema.get_field_index(name), name, column)
    return table
