"""Geometries in text cells (datastore/ingest/shapes.py): WKT / EWKT, GeoJSON text, (E)WKB
hex, and the point that stands for each on a map."""

from __future__ import annotations

import struct

import pytest

from patrimoine.datastore.ingest import shapes

SQUARE_WITH_HOLE = "POLYGON((0 0, 4 0, 4 4, 0 4, 0 0), (1 1, 1 2, 2 2, 2 1, 1 1))"


def anchor(text: str) -> tuple[float, float] | None:
    shape = shapes.read(text)
    return shapes.anchor(shape) if shape is not None else None


@pytest.mark.parametrize(("text", "expected"), [
    ("POINT(8.5 47.1)", (8.5, 47.1)),
    ("point z ( 650000   6600000 12 )", (650000.0, 6600000.0)),
    ("POINT (.5 1.)", (0.5, 1.0)),
    ("LINESTRING(0 0, 2 2)", (1.0, 1.0)),
    ("MULTIPOINT((1 2), (3 4))", (2.0, 3.0)),
    ("MULTIPOINT(1 2, 3 4)", (2.0, 3.0)),
    ("MULTILINESTRING((0 0, 2 0), (0 2, 2 2))", (1.0, 1.0)),
    # the hole (area 1, centroid 1.5) is taken away from the square (area 16, centroid 2)
    (SQUARE_WITH_HOLE, (30.5 / 15, 30.5 / 15)),
    ("MULTIPOLYGON(((0 0,1 0,1 1,0 1,0 0)),((10 10,12 10,12 12,10 12,10 10)))", (8.9, 8.9)),
    ("GEOMETRYCOLLECTION(POINT(1 2), LINESTRING(0 0, 2 2))", (1.0, 1.5)),
    ('{"type": "Polygon", "coordinates": [[[0, 0], [2, 0], [2, 2], [0, 2], [0, 0]]]}',
     (1.0, 1.0)),
])
def test_anchor_of_each_geometry_type(text: str, expected: tuple[float, float]) -> None:
    found = anchor(text)
    assert found is not None and found == pytest.approx(expected)


@pytest.mark.parametrize("text", [
    "Point de vente", "POINT(1)", "POINT(1 2, 3 4)", "POLYGON(1 2, 3 4)", "POINT(1 2) suite",
    "POINT EMPTY", "0123456789abcdef0123456789abcdef0123456789abcdef", "", "{]",
])
def test_what_is_no_geometry(text: str) -> None:
    assert anchor(text) is None


def test_ewkt_and_ewkb_declare_their_srid() -> None:
    shape = shapes.read("SRID=2154;POINT(650000 6600000)")
    assert shape is not None and shape.srid == 2154
    # PostGIS' EWKB of a polygon with its SRID (flag 0x20000000), as Rennes exports it
    ring = [(0.0, 0.0), (2.0, 0.0), (2.0, 2.0), (0.0, 2.0), (0.0, 0.0)]
    body = struct.pack("<BIII", 1, 3 | 0x20000000, 3948, 1) + struct.pack("<I", len(ring))
    shape = shapes.read((body + b"".join(struct.pack("<dd", *p) for p in ring)).hex())
    assert shape is not None and shape.srid == 3948 and shapes.anchor(shape) == (1.0, 1.0)


def test_big_endian_iso_wkb_with_z() -> None:
    point = struct.pack(">BI3d", 0, 1001, 650000.0, 6600000.0, 35.0)  # ISO « Point Z »
    shape = shapes.read(point.hex().upper())
    assert shape is not None and shape.srid is None
    assert shapes.anchor(shape) == (650000.0, 6600000.0)


def test_truncated_wkb_is_no_geometry() -> None:
    point = struct.pack("<BIdd", 1, 1, 1.0, 2.0).hex()
    assert shapes.read(point) is not None
    assert shapes.read(point[:-2]) is None and shapes.read(point + "00") is None
