"""Builds src/patrimoine/interop/territories/territories.csv: the bounding box of every French
commune (by INSEE code, with its SIREN) and of every EPCI (by SIREN), from two open sources
(see the README beside the table for their provenance and licences):

- the communes' outlines of IGN Admin Express COG 2018, as simplified by france-geojson
  (one GeoJSON file per department: `departements/*/communes-*.geojson`);
- the current official geography of @etalab/decoupage-administratif (`data/communes.json`,
  `data/epci.json`): the communes today (with the codes of the communes they merged, whose
  2018 outlines give a commune nouvelle its extent), their SIREN, and each EPCI's members.

Usage: python scripts/build_territories.py FRANCE_GEOJSON_DIR DECOUPAGE_DATA_DIR OUTPUT.csv
Boxes are rounded outwards to 3 decimals (about 100 m), so that each still contains its
territory.
"""

from __future__ import annotations

import csv
import json
import math
import sys
from pathlib import Path

Box = tuple[float, float, float, float]  # west, south, east, north


def _points(coordinates: list) -> list[tuple[float, float]]:
    if coordinates and isinstance(coordinates[0], (int, float)):
        return [(coordinates[0], coordinates[1])]
    return [p for part in coordinates for p in _points(part)]


def _union(boxes: list[Box]) -> Box:
    return (min(b[0] for b in boxes), min(b[1] for b in boxes),
            max(b[2] for b in boxes), max(b[3] for b in boxes))


def outlines(folder: Path) -> dict[str, Box]:
    boxes: dict[str, Box] = {}
    for path in sorted(folder.glob("departements/*/communes-*.geojson")):
        for feature in json.loads(path.read_text(encoding="utf-8"))["features"]:
            points = _points(feature["geometry"]["coordinates"])
            xs, ys = [p[0] for p in points], [p[1] for p in points]
            boxes[feature["properties"]["code"]] = (min(xs), min(ys), max(xs), max(ys))
    return boxes


def _rounded(box: Box) -> list[str]:
    west, south, east, north = box
    return [f"{math.floor(west * 1000) / 1000:.3f}", f"{math.floor(south * 1000) / 1000:.3f}",
            f"{math.ceil(east * 1000) / 1000:.3f}", f"{math.ceil(north * 1000) / 1000:.3f}"]


def main(geojson_dir: str, data_dir: str, output: str) -> None:
    known = outlines(Path(geojson_dir))
    communes = json.loads((Path(data_dir) / "communes.json").read_text(encoding="utf-8"))
    epcis = json.loads((Path(data_dir) / "epci.json").read_text(encoding="utf-8"))
    rows: list[list[str]] = []
    commune_boxes: dict[str, Box] = {}
    missing = []
    for c in communes:
        if c["type"] != "commune-actuelle":
            continue
        parts = [known[code] for code in [c["code"], *c.get("anciensCodes", [])]
                 if code in known]
        if not parts:
            missing.append(c["code"])
            continue
        commune_boxes[c["code"]] = _union(parts)
        rows.append(["commune", c["code"], c.get("siren", ""),
                     *_rounded(commune_boxes[c["code"]])])
    for e in epcis:
        parts = [commune_boxes[m["code"]] for m in e["membres"] if m["code"] in commune_boxes]
        if parts:
            rows.append(["epci", e["code"], e["code"], *_rounded(_union(parts))])
    with open(output, "w", encoding="utf-8", newline="") as fh:
        out = csv.writer(fh, lineterminator="\n")
        out.writerow(["kind", "code", "siren", "west", "south", "east", "north"])
        out.writerows(rows)
    print(f"{len(rows)} territories written, {len(missing)} communes without an outline "
          f"(e.g. {', '.join(missing[:8])})")


if __name__ == "__main__":
    main(*sys.argv[1:4])
