"""Peak memory of loading big spreadsheets and GeoJSON files, against their size.

    .venv/bin/python benchmarks/big_files.py [--geojson-mb 500] [--xlsx-rows 900000]
        [--huge-xlsx-mb 200]

Generated files (this measures memory, not reading skills: the real-file corpus does that),
in a temporary directory:
- a GeoJSON FeatureCollection of points in Lambert-93 (no `crs` member) of `--geojson-mb`;
- an ordinary XLSX of `--xlsx-rows` rows x 5 columns (just under the default
  PATRIMOINE_MAX_SPREADSHEET_CELLS of 5,000,000 cells);
- a `--huge-xlsx-mb` XLSX, far beyond the limits: it must be refused, early and in French.

Each is loaded by the real CLI (`patrimoine datastore load … --json`) in a subprocess of a
subprocess: the peak RSS printed is `resource.getrusage(RUSAGE_CHILDREN).ru_maxrss` of that
one load. DuckDB's own reader is the floor where it reads the format: `read_json` of the same
features (as NDJSON) to Parquet; DuckDB cannot read XLSX without its `excel` extension,
which is downloaded, so no floor is printed for XLSX. The XLSX pre-check
(`core/filelimits.check_workbook`) is timed alone beside the load.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import resource
import subprocess
import sys
import tempfile
import time
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
PATRIMOINE = str(BIN / "patrimoine")


def measure(cmd: list[str], env: dict[str, str]) -> tuple[float, float, str, int]:
    """(seconds, peak RSS in MB, output, exit code) of a command run in a fresh process."""
    probe = ("import resource, subprocess, sys, time, json\n"
             "t = time.perf_counter()\n"
             "p = subprocess.run(sys.argv[1:], capture_output=True, text=True)\n"
             "s = time.perf_counter() - t\n"
             "rss = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024\n"
             "print(json.dumps([s, rss, p.stdout or p.stderr[-2000:], p.returncode]))\n")
    out = subprocess.run([sys.executable, "-c", probe, *cmd], env=env, capture_output=True,
                         text=True, check=True)
    seconds, rss, text, code = json.loads(out.stdout)
    return seconds, rss, text, code


# Generated files


def write_geojson(path: Path, megabytes: int) -> int:
    """Points in Lambert-93 metres around Lyon, with four properties; returns the count."""
    rng = random.Random(13)
    target = megabytes * 1_000_000
    n = 0
    with open(path, "w", encoding="utf-8") as f:
        f.write('{"type": "FeatureCollection", "name": "equipements", "features": [\n')
        written = 0
        while written < target:
            x = 842_000 + rng.random() * 10_000
            y = 6_515_000 + rng.random() * 10_000
            ouvert = "true" if n % 3 else "false"
            line = ('{"type": "Feature", "properties": {"id": ' f'{n}, "nom": "Équipement n°{n}", '
                    f'"code_insee": "69{381 + n % 9:03d}", "surface": {rng.random() * 500:.2f}, '
                    f'"ouvert": {ouvert}}}, "geometry": {{"type": "Point", "coordinates": '
                    f'[{x:.2f}, {y:.2f}]}}}}')
            f.write(("," if n else "") + line + "\n")
            written += len(line) + 2
            n += 1
        f.write("]}\n")
    return n


def write_ndjson_features(source: Path, target: Path) -> None:
    with open(source, encoding="utf-8") as f, open(target, "w", encoding="utf-8") as out:
        for line in f:
            line = line.strip().lstrip(",")
            if line.startswith('{"type": "Feature"'):
                out.write(line + "\n")


def _column(n: int) -> str:
    letters = ""
    while n:
        n, r = divmod(n - 1, 26)
        letters = chr(65 + r) + letters
    return letters


def write_xlsx(path: Path, rows: int, *, random_text: bool = False,
               stop_bytes: int | None = None) -> int:
    """A one-sheet workbook written as raw SpreadsheetML (inline strings), streamed into the
    ZIP archive; `random_text` fills it with hard-to-compress text (to reach a size)."""
    rng = random.Random(7)
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED, compresslevel=1) as z:
        z.writestr("[Content_Types].xml", (
            '<?xml version="1.0" encoding="UTF-8"?><Types xmlns="http://schemas.openxmlformats.'
            'org/package/2006/content-types"><Default Extension="rels" ContentType="application'
            '/vnd.openxmlformats-package.relationships+xml"/><Default Extension="xml" '
            'ContentType="application/xml"/><Override PartName="/xl/workbook.xml" ContentType="'
            'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>'
            '<Override PartName="/xl/worksheets/sheet1.xml" ContentType="application/vnd.'
            'openxmlformats-officedocument.spreadsheetml.worksheet+xml"/></Types>'))
        z.writestr("_rels/.rels", (
            '<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.'
            'openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="http:'
            '//schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" '
            'Target="xl/workbook.xml"/></Relationships>'))
        z.writestr("xl/workbook.xml", (
            '<?xml version="1.0" encoding="UTF-8"?><workbook xmlns="http://schemas.openxml'
            'formats.org/spreadsheetml/2006/main" xmlns:r="http://schemas.openxmlformats.org/'
            'officeDocument/2006/relationships"><sheets><sheet name="Données" sheetId="1" '
            'r:id="rId1"/></sheets></workbook>'))
        z.writestr("xl/_rels/workbook.xml.rels", (
            '<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.'
            'openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="http:'
            '//schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet" '
            'Target="worksheets/sheet1.xml"/></Relationships>'))
        with z.open("xl/worksheets/sheet1.xml", "w", force_zip64=True) as sheet:
            sheet.write(b'<?xml version="1.0" encoding="UTF-8"?><worksheet xmlns="http://schemas'
                        b'.openxmlformats.org/spreadsheetml/2006/main"><sheetData>')

            def text(ref: str, value: str) -> str:
                return f'<c r="{ref}" t="inlineStr"><is><t>{value}</t></is></c>'

            header = ["id", "commune", "code_insee", "montant", "date"]
            sheet.write(("<row r=\"1\">" + "".join(text(f"{_column(i + 1)}1", h)
                                                  for i, h in enumerate(header))
                         + "</row>").encode())
            written, n = 0, 0
            for n in range(2, rows + 2):
                name = os.urandom(24).hex() if random_text else f"Commune {n % 500}"
                cells = (f'<c r="A{n}"><v>{n - 1}</v></c>' + text(f"B{n}", name)
                         + text(f"C{n}", f"{rng.randrange(1000, 96000):05d}")
                         + f'<c r="D{n}"><v>{rng.random() * 10000:.2f}</v></c>'
                         + text(f"E{n}", f"2024-{1 + n % 12:02d}-{1 + n % 28:02d}"))
                chunk = f'<row r="{n}">{cells}</row>'.encode()
                sheet.write(chunk)
                written += len(chunk)
                if stop_bytes is not None and n % 10_000 == 0 and path.stat().st_size >= stop_bytes:
                    break
            sheet.write(b"</sheetData></worksheet>")
    return n - 1


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--geojson-mb", type=int, default=500)
    parser.add_argument("--xlsx-rows", type=int, default=900_000)
    parser.add_argument("--huge-xlsx-mb", type=int, default=200)
    parser.add_argument("--only", nargs="+", choices=("geojson", "xlsx", "huge"),
                        default=("geojson", "xlsx", "huge"))
    args = parser.parse_args()
    lines = ["| file, reader | MB | seconds | peak RSS MB | RSS / size | result |",
             "|---|---:|---:|---:|---:|---|"]
    print("\n".join(lines), flush=True)
    with tempfile.TemporaryDirectory(prefix="patrimoine-big-") as tmp:
        work = Path(tmp)
        env = dict(os.environ, PATRIMOINE_DATA_DIR=str(work / "data"))
        env.pop("PATRIMOINE_DATABASE_URL", None)
        subprocess.run([PATRIMOINE, "db", "upgrade"], env=env, check=True, capture_output=True)
        subprocess.run([PATRIMOINE, "organisation", "create", "Ville de Banc-d'Essai"], env=env,
                       check=True, capture_output=True)

        def load(path: Path, slug: str) -> tuple[float, float, str, int]:
            return measure([PATRIMOINE, "datastore", "load", str(path), "--dataset", slug,
                            "--json"], env)

        def row(what: str, size: int, seconds: float, rss: float, result: str) -> None:
            lines.append(f"| {what} | {size / 1e6:,.1f} | {seconds:,.1f} | {rss:,.0f} | "
                         f"{rss / max(size / 1e6, 0.001):.2f} | {result} |")
            print(lines[-1], flush=True)

        def outcome(out: str, code: int, done: str) -> str:
            return done if code == 0 else f"refused ({code}): " + " ".join(out.split())[:300]

        tiny = work / "base.csv"
        tiny.write_text("id;nom\n1;un\n", encoding="utf-8")
        seconds, rss, out, code = load(tiny, "base")
        row("a 2-line CSV (the CLI's own footprint)", tiny.stat().st_size, seconds, rss,
            outcome(out, code, "ok"))

        if "geojson" in args.only:
            geo = work / "equipements.geojson"
            count = write_geojson(geo, args.geojson_mb)
            seconds, rss, out, code = load(geo, "equipements")
            version = json.loads(out[out.index("{"):]) if code == 0 else {}
            row("GeoJSON, Patrimoine CLI", geo.stat().st_size, seconds, rss, outcome(
                out, code, f"{version.get('row_count', 0):,} rows of {count:,} features, CRS "
                           f"{(version.get('crs') or {}).get('epsg')}"))
            nd = work / "features.ndjson"
            write_ndjson_features(geo, nd)
            duck = ("import duckdb, sys; con = duckdb.connect(); con.execute(\"COPY (SELECT * "
                    "FROM read_json(?, format='newline_delimited')) TO '"
                    + str(work / "duck.parquet") + "' (FORMAT parquet)\", [sys.argv[1]])")
            seconds, rss, out, code = measure([sys.executable, "-c", duck, str(nd)], env)
            row("same features as NDJSON, DuckDB read_json → Parquet", nd.stat().st_size,
                seconds, rss, outcome(out, code, "ok"))
            geo.unlink()
            nd.unlink()

        if "xlsx" in args.only:
            book = work / "communes.xlsx"
            rows = write_xlsx(book, args.xlsx_rows)
            seconds, rss, out, code = load(book, "communes")
            loaded = json.loads(out[out.index("{"):])["row_count"] if code == 0 else 0
            row(f"XLSX {rows:,} × 5, Patrimoine CLI", book.stat().st_size, seconds, rss,
                outcome(out, code, f"{loaded:,} rows of {rows:,}"))
            check = ("import sys; from pathlib import Path; from patrimoine.core.filelimits "
                     "import check_workbook; check_workbook(Path(sys.argv[1]), 'x.xlsx')")
            seconds, rss, out, code = measure([sys.executable, "-c", check, str(book)], env)
            row("  of which the pre-check (check_workbook) alone", book.stat().st_size,
                seconds, rss, outcome(out, code, "ok"))
            calamine = ("import sys; from python_calamine import CalamineWorkbook; "
                        "sheet = CalamineWorkbook.from_path(sys.argv[1]).get_sheet_by_index(0); "
                        "print(sum(1 for _ in sheet.iter_rows()))")
            seconds, rss, out, code = measure([sys.executable, "-c", calamine, str(book)], env)
            row("  python-calamine alone, every row read", book.stat().st_size, seconds, rss,
                outcome(out, code, "ok"))
            book.unlink()

        if "huge" in args.only:
            huge = work / "enorme.xlsx"
            write_xlsx(huge, 100_000_000, random_text=True,
                       stop_bytes=args.huge_xlsx_mb * 1_000_000)
            seconds, rss, out, code = load(huge, "enorme")
            row("XLSX beyond the limits, Patrimoine CLI", huge.stat().st_size, seconds, rss,
                outcome(out, code, "loaded"))
    print()
    print("\n".join(lines))


if __name__ == "__main__":
    start = time.perf_counter()
    main()
    print(f"\n(total {time.perf_counter() - start:,.0f} s; resource: "
          f"{resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:,.0f} MB for the "
          "generator itself)")
