"""patrimoine algorithms list|export against a real store."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

from patrimoine.access.principal import Principal
from patrimoine.core.db import Database
from patrimoine.transparency import exports, service
from tests import factories as f
from tests.conftest import Cli

SYSTEM = Principal.system("tests")


def test_list_and_export(db: Database, cli: Cli, tmp_path: Path) -> None:
    with db.unit_of_work() as s:
        org = f.organisation(s, "Métropole de Test")
        service.create_algorithm(s, SYSTEM, f.full_algorithm(org.id))
        service.create_algorithm(s, SYSTEM, f.full_algorithm(
            org.id, name="Prévision des repas", status="draft"))
    listed = cli("algorithms", "list", "--json")
    assert listed.returncode == 0, listed.stderr
    assert [a["status"] for a in json.loads(listed.stdout)] == ["published", "draft"]
    drafts = cli("algorithms", "list", "--status", "draft")
    assert "Prévision des repas" in drafts.stdout and "Tarification" not in drafts.stdout

    out = cli("algorithms", "export")
    rows = list(csv.reader(io.StringIO(out.stdout)))
    assert rows[0] == [n for n, _ in exports.FIELDS] and len(rows) == 2  # published only
    target = tmp_path / "registre.json"
    written = cli("algorithms", "export", "--format", "json", "--output", str(target))
    assert written.returncode == 0, written.stderr
    assert json.loads(target.read_text(encoding="utf-8"))["algorithms"][0]["reference"] == \
        "ALG-001"
    wrong = cli("algorithms", "export", "--format", "xlsx")
    assert wrong.returncode != 0 and "csv" in wrong.stderr
    unknown = cli("algorithms", "list", "--organisation", "Inconnue")
    assert unknown.returncode != 0 and "introuvable" in unknown.stderr + unknown.stdout
