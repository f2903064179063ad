"""Rebuild the derived files of this folder from the real-file corpus (tests/corpus/files).

    python tests/data/derived/derive.py

- `rennes-producteurs-lambert93.geojson`: the 9 records of
  `rennes-producteurs.csv` (Rennes Métropole's waste producers, WGS84 longitude/latitude) as
  GeoJSON points whose coordinates pyproj converted to Lambert-93 (EPSG:2154), with no `crs`
  member, as many French GIS exports write them. No Lambert-93 point GeoJSON was found in
  the public repositories searched for the corpus: this one is derived, not published.
- `insee-populations-valeur-abimee.csv`: the first 400 records of `insee-populations.csv`
  (INSEE, populations légales) with one `PMUN` cell replaced by `N   1 234`, the kind of
  corrupted accounting cell the issue describes: a file whose load has one rejected cell.
- `subventions-castelmaurou-entete-multiligne.csv`: `subventions-castelmaurou.csv` (SCDL
  subventions of the commune of Castelmaurou) with its header cells `montant` and `objet`
  written on two lines inside quotes (`"Montant\nde la subvention (1)"`), as the issue saw
  in a published file; no such file is in the corpus.
"""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

from pyproj import Transformer

HERE = Path(__file__).resolve().parent
CORPUS = HERE.parents[1] / "corpus" / "files"


def lambert93_geojson() -> None:
    to_l93 = Transformer.from_crs(4326, 2154, always_xy=True)
    text = (CORPUS / "rennes-producteurs.csv").read_text(encoding="utf-8")
    features = []
    for row in csv.DictReader(io.StringIO(text), delimiter=";"):
        x, y = to_l93.transform(float(row["longitude"]), float(row["latitude"]))
        properties = {k: v for k, v in row.items() if k not in ("longitude", "latitude")}
        features.append({"type": "Feature", "properties": properties,
                         "geometry": {"type": "Point", "coordinates": [round(x, 2),
                                                                       round(y, 2)]}})
    (HERE / "rennes-producteurs-lambert93.geojson").write_text(
        json.dumps({"type": "FeatureCollection", "features": features}, ensure_ascii=False,
                   indent=1) + "\n", encoding="utf-8")


def damaged_populations() -> None:
    lines = (CORPUS / "insee-populations.csv").read_text(encoding="utf-8").splitlines()[:401]
    cells = lines[150].split(";")
    cells[8] = "N   1 234"  # PMUN of record 150 (line 151)
    lines[150] = ";".join(cells)
    (HERE / "insee-populations-valeur-abimee.csv").write_text("\n".join(lines) + "\n",
                                                               encoding="utf-8")


def multiline_header() -> None:
    text = (CORPUS / "subventions-castelmaurou.csv").read_text(encoding="utf-8")
    header, rest = text.split("\n", 1)
    header = header.replace(",objet,", ',"Objet\nde la subvention",').replace(
        ",montant,", ',"Montant\nde la subvention (1)",')
    (HERE / "subventions-castelmaurou-entete-multiligne.csv").write_text(
        header + "\n" + rest, encoding="utf-8")


if __name__ == "__main__":
    lambert93_geojson()
    damaged_populations()
    multiline_header()
