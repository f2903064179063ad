"""Load a corpus file through Patrimoine's real ingest and judge the result against the
manifest (tests/corpus/reference.py): shared by tests/integration/datastore/test_real_files.py
and benchmarks/real_files.py, so that both say the same thing about the same file.

Classes, as issue 13 names them:
- exact: loaded, as many rows as the reference reader finds, every expectation met;
- rejects: loaded with fewer rows, each missing record reported (the version records them);
- refused: not loaded, with a message naming a line;
- wrong: anything else (silent loss, invented columns, numbers as text, projected coordinates
  taken for degrees, a refusal that names no line, a crash).
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import duckdb

from patrimoine.access.principal import Principal
from patrimoine.bootstrap import Services
from patrimoine.core.errors import Invalid
from patrimoine.datastore import versions
from patrimoine.datastore.ingest import ingest
from patrimoine.inventory.models import Dataset

HERE = Path(__file__).parent
EXACT, REJECTS, REFUSED, WRONG = "exact", "rejects", "refused", "wrong"
# Columns an ingest may add beside the file's own: positions drawn from a geometry.
DERIVED = {"geometry", "latitude", "longitude"}
NUMERIC_TYPES = {"integer", "number"}
SYSTEM = Principal.system("corpus")
DBASE_SUFFIX = re.compile(r",[CNLDFM],\d+(,\d+)?$")
NAMES_A_LINE = re.compile(r"lignes?\s*\d|line\s*\d|\bligne\b.*\d", re.IGNORECASE)


def manifest(holdout: bool = False) -> list[dict[str, Any]]:
    path = HERE / ("holdout/manifest.json" if holdout else "manifest.json")
    return list(json.loads(path.read_text()))


def path_of(entry: dict[str, Any], holdout: bool = False) -> Path:
    return HERE / ("holdout" if holdout else "files") / entry["name"]


@dataclass
class Verdict:
    kind: str
    problems: list[str] = field(default_factory=list)
    rows: int | None = None

    def summary(self) -> str:
        return "; ".join(self.problems)


def expected_names(entry: dict[str, Any]) -> list[str]:
    names = [n.strip() for n in entry["columns"]]
    if entry["expect"].get("dbase_header"):
        names = [DBASE_SUFFIX.sub("", n) for n in names]
    return names


def judge_refusal(entry: dict[str, Any], message: str) -> Verdict:
    if NAMES_A_LINE.search(message):
        return Verdict(REFUSED, [message])
    return Verdict(WRONG, [f"refusé sans nommer de ligne : {message}"])


def judge_version(services: Services, entry: dict[str, Any], version: Any) -> Verdict:
    """What is wrong with a loaded version, by the manifest's expectations."""
    expect = entry["expect"]
    problems: list[str] = []
    by_source = {c["source_name"].strip(): c for c in version.columns}
    rows = version.row_count
    if expect.get("outcome") == "refuse":
        problems.append("chargé alors que le fichier doit être refusé")
    if rows != entry["records"]:
        problems.append(f"{rows} lignes chargées, {entry['records']} attendues")
    if expect.get("columns_named", True):
        wanted = [n for n in expected_names(entry) if n]
        missing = [n for n in wanted if n not in by_source]
        if missing:
            problems.append(f"colonnes absentes ou renommées : {missing[:5]}")
        invented = [n for n in by_source if n not in wanted and n not in DERIVED
                    and not re.fullmatch(r"colonne_\d+", n)]
        if invented:
            problems.append(f"colonnes inventées : {invented[:5]}")
    for source, wanted_type in expect.get("types", {}).items():
        column = by_source.get(source) or next(
            (c for c in version.columns if c["name"] == source.lower()), None)
        if column is None:
            problems.append(f"colonne « {source} » introuvable")
            continue
        allowed = NUMERIC_TYPES if wanted_type == "numeric" else {wanted_type}
        if column["type"] not in allowed:
            problems.append(f"« {source} » : {column['type']} au lieu de {wanted_type}")
    positions = expect.get("positions")
    if positions:
        problems += _position_problems(services, version, positions)
    if not problems:
        return Verdict(EXACT, rows=rows)
    settings = json.dumps(version.ingest_settings or {})
    if rows < entry["records"] and "reject" in settings and len(problems) == 1:
        return Verdict(REJECTS, problems, rows)
    return Verdict(WRONG, problems, rows)


def _position_problems(services: Services, version: Any, positions: dict[str, Any]
                       ) -> list[str]:
    found = version.positions
    if not found:
        return ["aucune position reconnue"]
    west, south, east, north = positions["bbox"]
    path = versions.version_path(services.settings, version)
    lat = f'TRY_CAST("{found["lat"]}" AS DOUBLE)'
    lon = f'TRY_CAST("{found["lon"]}" AS DOUBLE)'
    within = f"{lat} BETWEEN {south} AND {north} AND {lon} BETWEEN {west} AND {east}"
    outside, inside = duckdb.sql(
        f"SELECT count(*) FILTER (WHERE {lat} IS NOT NULL AND NOT ({within})), "
        f"count(*) FILTER (WHERE {within}) FROM read_parquet('{path}')").fetchall()[0]
    problems = []
    if outside or not inside:
        problems.append(f"{outside} positions hors de l'emprise attendue, {inside} dedans")
    crs = positions.get("source_crs")
    if crs and crs not in json.dumps(version.ingest_settings or {}):
        problems.append(f"projection source {crs} non enregistrée")
    return problems


def classify(services: Services, dataset: Dataset, entry: dict[str, Any], path: Path
             ) -> Verdict:
    """Load the file as the dataset's next version and judge the result."""
    try:
        with services.db.unit_of_work() as session:
            current = session.get(Dataset, dataset.id)
            assert current is not None
            version = ingest(session, services.settings, SYSTEM, current, path)
    except Invalid as exc:
        details = " ".join(str(e) for e in (getattr(exc, "errors", None) or []))
        verdict = judge_refusal(entry, f"{exc} {details}".strip())
        if entry["expect"].get("outcome") != "refuse" and verdict.kind == REFUSED:
            verdict.problems.insert(0, "fichier lisible refusé")
        return verdict
    except Exception as exc:  # a crash is a wrong answer, never a clear refusal
        return Verdict(WRONG, [f"erreur non traduite : {type(exc).__name__}: {exc}"[:300]])
    return judge_version(services, entry, version)
