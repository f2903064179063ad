"""Load a corpus file through Patrimoine's real ingest and judge the result against the
manifest (tests/corpus/reference.py): shared by tests/integration/datastore/test_real_files.py
and benchmarks/real_files.py, so that both say the same thing about the same file.

Classes, as issue 13 names them:
- exact: loaded, as many rows as the reference reader finds, every expectation met;
- rejects: loaded with fewer rows, each missing record reported (the version records them),
  or loaded once the user accepted the cells or records the default load refused (expect
  outcome "rejects": the file is loaded again with accept_rejects, as the CLI's
  --accept-rejects and the web preview's confirmation do);
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
from patrimoine.datastore.ingest import RejectsRefused, ingest
from patrimoine.inventory.models import Dataset

HERE = Path(__file__).parent
EXACT, REJECTS, REFUSED, WRONG = "exact", "rejects", "refused", "wrong"
# Columns an ingest may add beside the file's own: positions drawn from a geometry.
DERIVED = {"geometry", "latitude", "longitude"}
NUMERIC_TYPES = {"integer", "number"}
SYSTEM = Principal.system("corpus")
DBASE_SUFFIX = re.compile(r",[CNLDFM],\d+(,\d+)?$")
NAMES_A_LINE = re.compile(r"\b(lignes?|line)\b\s*:?\s*\d", re.IGNORECASE)


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


@dataclass
class Loaded:
    """What a loader made of a file: rows, each column's source name and type, and where its
    positions fall (None: no position recognised)."""

    rows: int
    columns: dict[str, str]
    inside: int | None = None
    outside: int | None = None
    rejects: int = 0  # records and cells the version lists as rejected
    settings: str = ""  # what the loader recorded (encoding, CRS, rejects...), as text


def judge_loaded(entry: dict[str, Any], loaded: Loaded, generic: str = r"colonne_\d+"
                 ) -> Verdict:
    """What is wrong with a loaded file, by the manifest's expectations. `generic`: how the
    loader names a column without a header cell."""
    expect = entry["expect"]
    problems: list[str] = []
    rows = loaded.rows
    if expect.get("outcome") == "refuse":
        problems.append("chargé alors que le fichier doit être refusé")
    if rows != entry["records"]:
        problems.append(f"{rows} lignes chargées, {entry['records']} attendues")
    if expect.get("columns_named", True):
        wanted = [n for n in expected_names(entry) if n]
        missing = [n for n in wanted if n not in loaded.columns]
        if missing:
            problems.append(f"colonnes absentes ou renommées : {missing[:5]}")
        invented = [n for n in loaded.columns if n not in wanted and n not in DERIVED
                    and not re.fullmatch(generic, n)]
        if invented:
            problems.append(f"colonnes inventées : {invented[:5]}")
    missing_names = [n for n in expect.get("named", []) if n not in loaded.columns]
    if missing_names:
        problems.append(f"colonnes attendues absentes : {missing_names[:5]}")
    lowered = {name.lower(): type_ for name, type_ in loaded.columns.items()}
    for source, wanted_type in expect.get("types", {}).items():
        found = loaded.columns.get(source) or lowered.get(source.lower())
        if found is None:
            problems.append(f"colonne « {source} » introuvable")
            continue
        allowed = NUMERIC_TYPES if wanted_type == "numeric" else {wanted_type}
        if found not in allowed:
            problems.append(f"« {source} » : {found} au lieu de {wanted_type}")
    positions = expect.get("positions")
    if positions:
        if loaded.inside is None:
            problems.append("aucune position reconnue")
        elif loaded.outside or not loaded.inside:
            problems.append(f"{loaded.outside} positions hors de l'emprise attendue, "
                            f"{loaded.inside} dedans")
        located = positions.get("located")
        if located is not None and loaded.inside is not None and loaded.inside != located:
            problems.append(f"{loaded.inside} positions dans l'emprise, {located} attendues")
        crs = positions.get("source_crs")
        if crs and loaded.inside is not None and crs not in loaded.settings:
            problems.append(f"projection source {crs} non enregistrée")
    if not problems:
        return Verdict(REJECTS if loaded.rejects else EXACT, rows=rows)
    if rows < entry["records"] and "reject" in loaded.settings and len(problems) == 1:
        return Verdict(REJECTS, problems, rows)
    return Verdict(WRONG, problems, rows)


def bbox_counts(source: str, lat: str, lon: str, bbox: list[Any]) -> tuple[int, int]:
    """How many positions of `source` (a DuckDB table expression) fall outside and inside the
    box (or any of a list of boxes: a file covering metropolitan France and the overseas
    départements); values that are not numbers count as outside."""
    boxes = bbox if isinstance(bbox[0], list) else [bbox]
    lat_value = f'TRY_CAST("{lat}" AS DOUBLE)'
    lon_value = f'TRY_CAST("{lon}" AS DOUBLE)'
    within = "(" + " OR ".join(f"({lat_value} BETWEEN {south} AND {north} "
                               f"AND {lon_value} BETWEEN {west} AND {east})"
                               for west, south, east, north in boxes) + ")"
    present = f"\"{lat}\" IS NOT NULL AND CAST(\"{lat}\" AS VARCHAR) <> ''"
    outside, inside = duckdb.sql(
        f"SELECT count(*) FILTER (WHERE {present} AND NOT coalesce({within}, false)), "
        f"count(*) FILTER (WHERE {within}) FROM {source}").fetchall()[0]
    return int(outside), int(inside)


def loaded_version(services: Services, entry: dict[str, Any], version: Any) -> Loaded:
    loaded = Loaded(rows=version.row_count,
                    columns={c["source_name"].strip() or c["name"]: c["type"]
                             for c in version.columns},
                    settings=json.dumps(version.ingest_settings or {}, ensure_ascii=False))
    recorded = version.ingest_settings or {}
    loaded.rejects = (len(recorded.get("rejected_records") or [])
                      + len(recorded.get("rejected_cells") or []))
    positions = entry["expect"].get("positions")
    if positions and version.positions:
        path = versions.version_path(services.settings, version)
        loaded.outside, loaded.inside = bbox_counts(
            f"read_parquet('{path}')", version.positions["lat"], version.positions["lon"],
            positions["bbox"])
    return loaded


def classify(services: Services, dataset: Dataset, entry: dict[str, Any], path: Path
             ) -> Verdict:
    """Load the file as the dataset's next version and judge the result."""
    accept = entry["expect"].get("outcome") == "rejects"
    try:
        with services.db.unit_of_work() as session:
            current = session.get(Dataset, dataset.id)
            assert current is not None
            try:
                version = ingest(session, services.settings, SYSTEM, current, path)
            except RejectsRefused as exc:
                if not accept or not NAMES_A_LINE.search(str(exc)):
                    raise
                version = ingest(session, services.settings, SYSTEM, current, path,
                                 accept_rejects=True)
    except Invalid as exc:
        details = " ".join(str(e) for e in (getattr(exc, "errors", None) or []))
        verdict = judge_refusal(entry, f"{exc} {details}".strip())
        if entry["expect"].get("outcome") not in ("refuse", "rejects") and verdict.kind == REFUSED:
            verdict.problems.insert(0, "fichier lisible refusé")
        return verdict
    except Exception as exc:  # a crash is a wrong answer, never a clear refusal
        return Verdict(WRONG, [f"erreur non traduite : {type(exc).__name__}: {exc}"[:300]])
    return judge_loaded(entry, loaded_version(services, entry, version))
