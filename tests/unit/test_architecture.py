"""The tiers hold: the import-linter contract (.importlinter), and the charter reading the
capabilities only through their `queries` modules (read-only records)."""

from __future__ import annotations

from pathlib import Path

import grimp
import pytest
from importlinter.cli import lint_imports

ROOT = Path(__file__).resolve().parents[2]
CAPABILITIES = ("inventory", "usage", "notifications", "datastore", "documents", "grants",
                "protection", "standards", "publication", "retention", "reading",
                "sovereignty", "transparency")


def test_the_charter_reads_capabilities_only_through_their_queries() -> None:
    graph = grimp.build_graph("patrimoine", cache_dir=None)
    charter = graph.find_descendants("patrimoine.charter") | {"patrimoine.charter"}
    offenders = []
    for importer in sorted(charter):
        for imported in sorted(graph.find_modules_directly_imported_by(importer)):
            parts = imported.split(".")
            if len(parts) < 2 or parts[1] not in CAPABILITIES:
                continue
            if imported == f"patrimoine.{parts[1]}.queries":
                continue
            lines = sorted({d["line_number"] for d in graph.get_import_details(
                importer=importer, imported=imported)})
            offenders.append(f"  {importer} imports {imported} (line "
                             f"{', '.join(map(str, lines))}): read patrimoine.{parts[1]}.queries")
    if offenders:
        pytest.fail("The charter reads capabilities only through their queries module:\n"
                    + "\n".join(offenders), pytrace=False)


def test_the_import_contract_holds(capsys: pytest.CaptureFixture[str]) -> None:
    code = lint_imports(config_filename=str(ROOT / ".importlinter"), no_cache=True,
                        no_logo=True)
    if code != 0:
        pytest.fail(capsys.readouterr().out, pytrace=False)
