"""GeoJSON read a feature at a time (datastore.ingest.jsonstream): the same features as
`json.loads`, whatever the chunk boundaries, and errors named by line in French."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from patrimoine.core.errors import Invalid
from patrimoine.core.filelimits import FileLimits
from patrimoine.datastore.ingest import jsonstream
from patrimoine.datastore.ingest.service import sniff

LIMITS = FileLimits.of()


def _collection(n: int) -> dict[str, object]:
    return {"type": "FeatureCollection", "name": "bornes", "features": [
        {"type": "Feature", "properties": {"id": i, "nom": f"Borne « {i} » \\ é", "v": 1e-3 * i},
         "geometry": {"type": "Point", "coordinates": [2.35 + i / 1000, 48.85]}}
        for i in range(n)], "crs": {"type": "name", "properties": {"name": "EPSG:4326"}}}


@pytest.mark.parametrize("chunk", [7, 64, 1 << 20])
def test_features_are_those_json_loads_reads_whatever_the_chunks(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, chunk: int) -> None:
    monkeypatch.setattr(jsonstream, "CHUNK", chunk)
    document = _collection(300)
    path = tmp_path / "bornes.geojson"
    path.write_text("\ufeff" + json.dumps(document, ensure_ascii=False, indent=1),
                    encoding="utf-8")
    stream = jsonstream.FeatureStream(path, path.name, LIMITS)
    assert list(stream) == document["features"]
    # Members after the features (here `crs`) are known once the stream is read.
    assert stream.members == {"type": "FeatureCollection", "name": "bornes",
                              "crs": document["crs"]}


def test_a_lone_feature_is_one_record(tmp_path: Path) -> None:
    feature = {"type": "Feature", "properties": {"a": 1}, "geometry": None}
    path = tmp_path / "une.geojson"
    path.write_text(json.dumps(feature), encoding="utf-8")
    assert list(jsonstream.FeatureStream(path, path.name, LIMITS)) == [feature]


def test_broken_json_is_named_by_line(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(jsonstream, "CHUNK", 16)
    path = tmp_path / "cassé.geojson"
    path.write_text('{"type": "FeatureCollection", "features": [\n'
                    '{"type": "Feature", "properties": {}, "geometry": null},\n'
                    '{"type": "Feature", "properties": {"a": 1,, "geometry": null}\n]}\n',
                    encoding="utf-8")
    with pytest.raises(Invalid) as refused:
        list(jsonstream.FeatureStream(path, path.name, LIMITS))
    assert refused.value.message == (
        "Le fichier GeoJSON « cassé.geojson » est illisible : JSON invalide ligne 3, "
        "colonne 43.")
    path.write_bytes(b'{"type": "FeatureCollection", "features": [{"properties": '
                     b'{"nom": "\xe9"}}]}')
    with pytest.raises(Invalid, match="n'est pas en UTF-8"):
        list(jsonstream.FeatureStream(path, path.name, LIMITS))
    path.write_text('{"type": "Topology", "objects": {}}', encoding="utf-8")
    with pytest.raises(Invalid, match="pas une collection d'entités GeoJSON"):
        list(jsonstream.FeatureStream(path, path.name, LIMITS))


def test_a_crs_member_after_the_features_is_taken(tmp_path: Path) -> None:
    """Lambert II étendu values read as CC zones too; the `crs` member, even last, decides."""
    features = [{"type": "Feature", "properties": {"n": i},
                 "geometry": {"type": "Point", "coordinates": [600_000 + i * 100, 2_428_000]}}
                for i in range(5)]
    path = tmp_path / "l2e.geojson"
    path.write_text(json.dumps({"type": "FeatureCollection", "features": features, "crs": {
        "type": "name", "properties": {"name": "EPSG:27572"}}}), encoding="utf-8")
    plan = sniff(path)
    assert plan.crs is not None and plan.crs["epsg"] == "EPSG:27572"
    assert plan.crs["how"] == "fichier"
