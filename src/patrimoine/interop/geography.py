"""Where a public dataset lies, as a bounding box that harvesters keep (data.gouv.fr drops a
spatial coverage that has only a name).

The box is, in this order: the extent of the version's positions, when it has some; else the
territory of the publishing organisation, found by its official code (SIREN of a commune or
of an EPCI; a CCAS covers the commune it belongs to) in the reference table vendored beside
this module (`territories/`, built by scripts/build_territories.py from IGN Admin Express and
the official geography, see its README); else nothing. Nothing is downloaded at run time.
"""

from __future__ import annotations

import csv
import gzip
import io
import json
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from patrimoine.inventory.models import Organisation, OrganisationKind

TABLE = Path(__file__).parent / "territories" / "territories.csv.gz"


@dataclass(frozen=True)
class Box:
    """A bounding box in WGS 84 degrees."""

    west: float
    south: float
    east: float
    north: float
    source: str  # what the box was taken from, for people reading the metadata

    def ring(self) -> list[list[float]]:
        w, s, e, n = self.west, self.south, self.east, self.north
        return [[w, s], [e, s], [e, n], [w, n], [w, s]]

    def geojson(self) -> str:
        return json.dumps({"type": "Polygon", "coordinates": [self.ring()]},
                          separators=(",", ":"))

    def wkt(self) -> str:
        return "POLYGON((" + ", ".join(f"{x} {y}" for x, y in self.ring()) + "))"

    def centroid_gml(self) -> str:
        x, y = round((self.west + self.east) / 2, 6), round((self.south + self.north) / 2, 6)
        return ('<gml:Point xmlns:gml="http://www.opengis.net/gml/3.2" '
                'srsName="http://www.opengis.net/def/crs/OGC/1.3/CRS84">'
                f"<gml:pos>{x} {y}</gml:pos></gml:Point>")


@lru_cache(maxsize=1)
def _territories() -> dict[str, tuple[float, float, float, float]]:
    """SIREN (communes and EPCI) and INSEE code (communes) -> box."""
    out: dict[str, tuple[float, float, float, float]] = {}
    with gzip.open(TABLE, "rb") as raw:
        for row in csv.DictReader(io.TextIOWrapper(raw, encoding="utf-8")):
            box = (float(row["west"]), float(row["south"]), float(row["east"]),
                   float(row["north"]))
            if row["siren"]:
                out[row["siren"]] = box
            if row["kind"] == "commune":
                out["insee:" + row["code"]] = box
    return out


def commune(insee: str) -> Box | None:
    """The box of a commune by its INSEE code."""
    found = _territories().get("insee:" + insee.strip().upper())
    return Box(*found, source=f"commune INSEE {insee.strip()}") if found else None


def by_siren(siren: str | None) -> Box | None:
    """The box of a commune or an EPCI by its SIREN (None for any other body)."""
    code = "".join((siren or "").split())
    found = _territories().get(code) if len(code) == 9 and code.isdigit() else None
    return Box(*found, source=f"SIREN {code}") if found else None


def organisation_territory(org: Organisation) -> Box | None:
    """The territory an organisation serves: its own (commune, EPCI) or, for a CCAS, its
    commune's."""
    box = by_siren(org.siren)
    if box is None and org.kind == OrganisationKind.CCAS and org.parent_id is not None:
        parent = _parent(org)
        box = by_siren(parent.siren) if parent is not None else None
    return box


def _parent(org: Organisation) -> Organisation | None:
    from sqlalchemy.orm import object_session

    session = object_session(org)
    return session.get(Organisation, org.parent_id) if session is not None else None


def positions_box(lats: tuple[float | None, float | None],
                  lons: tuple[float | None, float | None]) -> Box | None:
    """The box of positions from their (min, max) latitude and longitude; None when there
    are none or they are not coordinates."""
    (south, north), (west, east) = lats, lons
    if None in (south, north, west, east):
        return None
    assert south is not None and north is not None and west is not None and east is not None
    if not (-90 <= south <= north <= 90 and -180 <= west <= east <= 180):
        return None
    # One position, or positions on a line: widened to a small area, a polygon needs one.
    pad = 0.0005
    if north - south < pad:
        south, north = max(-90.0, south - pad), min(90.0, north + pad)
    if east - west < pad:
        west, east = max(-180.0, west - pad), min(180.0, east + pad)
    return Box(west, south, east, north, source="positions des données")
