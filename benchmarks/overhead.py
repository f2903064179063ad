"""Per-request overhead of the API, side by side: the same data folder served by several
source trees (e.g. a `git archive` of the commit before a change, and the work tree),
started in turn, each answering the same requests.

    git archive HEAD~1 src | tar -x -C var/bench/before
    .venv/bin/python benchmarks/overhead.py --data-dir var/bench/patrimoine \\
        before=var/bench/before/src after=src [--rounds 5] [--slug subventions]

A variant written NAME=SRC:h11 runs on uvicorn's pure-Python HTTP parser and event loop
(httptools and uvloop hidden), as Patrimoine did before it required them. Copy the data
folder first if someone else uses it: each server may add caches to it. Prints, per
variant and path, the median over rounds of the median and p95 latencies (50 requests
after 20 of warm-up, keep-alive connection), because a shared machine is noisy."""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
from pathlib import Path

from harness import Server, environment, free_port, time_requests

PATHS = {
    "versions": "/api/v1/datasets/{slug}/versions",
    "records": "/api/v1/datasets/{slug}/records?limit=100",
}


def _hidden_accelerators(folder: Path) -> str:
    for name in ("httptools", "uvloop"):
        (folder / name).mkdir(exist_ok=True)
        (folder / name / "__init__.py").write_text('raise ImportError("hidden")\n')
    return str(folder)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("variants", nargs="+", help="NAME=SRC or NAME=SRC:h11")
    parser.add_argument("--data-dir", required=True, type=Path)
    parser.add_argument("--slug", default="subventions")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--requests", type=int, default=50)
    args = parser.parse_args()
    hide = tempfile.TemporaryDirectory(prefix="patrimoine-h11-")
    variants = []
    for text in args.variants:
        name, _, rest = text.partition("=")
        src, _, flag = rest.partition(":")
        path = str(Path(src).resolve())
        if flag == "h11":
            path = _hidden_accelerators(Path(hide.name)) + ":" + path
        variants.append((name, path))
    paths = {k: v.format(slug=args.slug) for k, v in PATHS.items()}
    results: dict[tuple[str, str], list[tuple[float, float]]] = {}
    for round_ in range(args.rounds):
        for name, pythonpath in variants:
            env = environment(PATRIMOINE_DATA_DIR=str(args.data_dir.resolve()),
                              PYTHONPATH=pythonpath, PATRIMOINE_WARM_LAYOUTS="0")
            env.pop("PATRIMOINE_DATABASE_URL", None)
            port = free_port()
            cmd = [sys.executable, "-c", "from patrimoine.cli.main import main; main()",
                   "serve", "--port", str(port)]
            with Server(cmd, port, env=env, ready_path=paths["records"]) as server:
                conn = server.connection()
                for key, path in paths.items():
                    time_requests(conn, path, 20)
                    t = time_requests(conn, path, args.requests)
                    results.setdefault((name, key), []).append((t.median_ms, t.p95_ms))
                    print(f"round {round_} {name:10s} {key:9s} median {t.median_ms:6.2f} ms  "
                          f"p95 {t.p95_ms:6.2f} ms", flush=True)
    print("\nmedian over rounds:  median  p95 (ms)")
    for (name, key), xs in results.items():
        print(f"{name:10s} {key:9s} {statistics.median(x[0] for x in xs):7.2f} "
              f"{statistics.median(x[1] for x in xs):7.2f}")
    hide.cleanup()


if __name__ == "__main__":
    main()
