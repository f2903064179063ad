"""Real files (tests/corpus): how many load exactly, load with reported rejects, are refused
with a message naming a line, or are wrong — for Patrimoine's ingest, and for a peer line:
DuckDB's own `read_csv` sniffer for the rows and columns of text files, data.gouv.fr's
csv-detective for column types, meanings and workbooks (as its tabular API casts columns by
csv-detective's python types). The aim is 0 wrong.

    python benchmarks/real_files.py             # the corpus the tests know
    python benchmarks/real_files.py --holdout   # files kept outside it

The peer runs in .venv-bench (csv-detective is not a Patrimoine dependency): `make bench`
creates it, or `python -m venv .venv-bench && .venv-bench/bin/pip install csv-detective==0.13.0
duckdb`. Without it only Patrimoine's line is printed.
"""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
PEER_PYTHON = ROOT / ".venv-bench" / "bin" / "python"
CLASSES = ("exact", "rejects", "refused", "wrong", "unsupported")
# csv-detective's python types, as Patrimoine's column types.
PEER_TYPES = {"int": "integer", "float": "number", "date": "date", "datetime": "datetime",
              "bool": "boolean", "string": "string", "json": "string", "binary": "string"}


def patrimoine_verdicts(holdout: bool) -> dict[str, Any]:
    sys.path.insert(0, str(ROOT))
    sys.path.insert(0, str(ROOT / "src"))
    from patrimoine.bootstrap import bootstrap
    from patrimoine.core.settings import Settings
    from patrimoine.storage.migrate import upgrade
    from tests.corpus import check
    from tests.factories import new_dataset

    work = Path(tempfile.mkdtemp(prefix="real-files-"))
    settings = Settings(data_dir=work / "data", database_url=f"sqlite:///{work}/db.sqlite",
                        secret_key="benchmark-secret-key", warm_layouts=False)
    services = bootstrap(settings, check_schema=False)
    upgrade(services.db)
    verdicts = {}
    for entry in check.manifest(holdout):
        dataset = new_dataset(services, title=entry["name"])
        started = time.perf_counter()
        verdict = check.classify(services, dataset, entry, check.path_of(entry, holdout))
        verdicts[entry["name"]] = (verdict.kind, verdict.summary(),
                                   time.perf_counter() - started)
    services.db.dispose()
    return verdicts


# ----------------------------------------------------------------------------- the peer line

def peer_worker(folder: Path, entries: list[dict[str, Any]]) -> None:
    """Runs under .venv-bench: prints, per file, what DuckDB and csv-detective make of it."""
    import duckdb
    from csv_detective import routine

    for entry in entries:
        path = folder / entry["name"]
        out: dict[str, Any] = {"name": entry["name"]}
        try:
            if entry["format"] == "geojson":
                out["unsupported"] = "ni DuckDB (sans extension spatiale) ni csv-detective"
            else:
                analysis = routine(str(path), num_rows=-1, save_results=False)
                fields = analysis.get("columns") or {}
                out["types"] = {name: info.get("python_type") for name, info in fields.items()}
                out["formats"] = {name: info.get("format") for name, info in fields.items()}
                if entry["format"] == "csv":
                    relation = duckdb.read_csv(str(path))
                    out["columns"] = list(relation.columns)
                    out["rows"] = relation.count("*").fetchall()[0][0]
                    out["duckdb_types"] = dict(zip(relation.columns,
                                                   map(str, relation.types), strict=True))
                else:
                    out["columns"] = list(fields)
                    out["rows"] = analysis.get("total_lines")
        except Exception as exc:  # the peer's own refusal, with its message
            out["error"] = f"{type(exc).__name__}: {exc}"[:400]
        print(json.dumps(out, ensure_ascii=False, default=str), flush=True)


def peer_verdicts(holdout: bool) -> dict[str, Any] | None:
    if not PEER_PYTHON.exists():
        return None
    sys.path.insert(0, str(ROOT))
    from tests.corpus import check

    entries = check.manifest(holdout)
    folder = check.HERE / ("holdout" if holdout else "files")
    done = subprocess.run([str(PEER_PYTHON), __file__, "--peer-worker", str(folder),
                           "--holdout" if holdout else "--corpus"],
                          capture_output=True, text=True, check=True)
    results = [json.loads(line) for line in done.stdout.splitlines() if line.startswith("{")]
    by_name = {r["name"]: r for r in results}
    verdicts = {}
    for entry in entries:
        result = by_name[entry["name"]]
        if "unsupported" in result:
            verdicts[entry["name"]] = ("unsupported", result["unsupported"], 0.0)
            continue
        if "error" in result:
            verdict = check.judge_refusal(entry, result["error"])
            verdicts[entry["name"]] = (verdict.kind, verdict.summary(), 0.0)
            continue
        types = {name: PEER_TYPES.get(t or "string", "string")
                 for name, t in result["types"].items()}
        loaded = check.Loaded(rows=int(result["rows"] or 0),
                              columns={n: types.get(n, "string") for n in result["columns"]})
        positions = entry["expect"].get("positions")
        formats = result.get("formats", {})
        lat = next((n for n, f in formats.items() if (f or "").startswith("latitude_wgs")), None)
        lon = next((n for n, f in formats.items() if (f or "").startswith("longitude_wgs")),
                   None)
        if positions and lat and lon and entry["format"] == "csv":
            loaded.outside, loaded.inside = check.bbox_counts(
                f"read_csv('{folder / entry['name']}')", lat, lon, positions["bbox"])
        verdict = check.judge_loaded(entry, loaded, generic=r"column\d+")
        verdicts[entry["name"]] = (verdict.kind, verdict.summary(), 0.0)
    return verdicts


def table(ours: dict[str, Any], peer: dict[str, Any] | None) -> str:
    width = max(map(len, ours)) + 1
    lines = [f"{'file':{width}} {'Patrimoine':10} {'peer':11} Patrimoine's problems",
             "-" * (width + 60)]
    for name, (kind, why, _) in ours.items():
        peer_kind = peer[name][0] if peer else "-"
        lines.append(f"{name:{width}} {kind:10} {peer_kind:11} {' '.join(why.split())[:110]}")
    lines.append("")
    for label, verdicts in (("Patrimoine", ours), ("csv-detective + DuckDB", peer)):
        if verdicts is None:
            lines.append(f"{label}: not measured (no .venv-bench)")
            continue
        counts = Counter(v[0] for v in verdicts.values())
        lines.append(f"{label:24} " + ", ".join(f"{c} {counts.get(c, 0)}" for c in CLASSES
                                                if c != "unsupported" or counts.get(c))
                     + f" (of {len(verdicts)})")
    return "\n".join(lines)


def main(argv: list[str]) -> None:
    if argv[:1] == ["--peer-worker"]:
        sys.path.insert(0, str(ROOT))
        manifest = Path(argv[1]) / "manifest.json" if argv[2] == "--holdout" \
            else ROOT / "tests" / "corpus" / "manifest.json"
        peer_worker(Path(argv[1]), json.loads(manifest.read_text()))
        return
    holdout = "--holdout" in argv
    ours = patrimoine_verdicts(holdout)
    peer = peer_verdicts(holdout)
    print(("Held-out files" if holdout else "Corpus") + f" ({len(ours)} files)\n")
    print(table(ours, peer))
    if peer:
        print("\nPeer problems:")
        for name, (kind, why, _) in peer.items():
            if kind != "exact":
                print(f"  {name}: {kind}: {' '.join(why.split())[:160]}")


if __name__ == "__main__":
    main(sys.argv[1:])
