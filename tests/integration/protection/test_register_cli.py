"""`patrimoine protection register export|import`, `requests overdue`, `breaches pending`
and `dashboard` on one store."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from patrimoine.access.principal import Principal
from patrimoine.core.db import Database
from patrimoine.protection import breaches, rights_requests
from patrimoine.protection.register import service as register
from tests import factories as f
from tests.conftest import Cli
from tests.factories import full_activity

SYSTEM = Principal.system("tests")


def test_register_cli(cli: Cli, db: Database, tmp_path: Path) -> None:
    with db.unit_of_work() as s:
        org = f.organisation(s, "CCAS de Ligérac")
        register.create_activity(s, SYSTEM, full_activity(org.id))
        register.create_activity(s, SYSTEM, full_activity(org.id, reference="T-0002",
                                                          name="Portage de repas"))
        rights_requests.create_request(s, SYSTEM, rights_requests.RequestInput(
            organisation_id=org.id, kind="erasure", requester="Paul",
            received_on=date.today() - timedelta(days=40)))
        rights_requests.create_request(s, SYSTEM, rights_requests.RequestInput(
            organisation_id=org.id, kind="access", requester="Anne",
            received_on=date.today() - timedelta(days=3)))
        breaches.create_breach(s, SYSTEM, breaches.BreachInput(
            organisation_id=org.id, title="Rançongiciel", natures=["availability"],
            aware_at=datetime.now(UTC) - timedelta(hours=80), risk="risk"))

    xlsx, csv_file = tmp_path / "registre.xlsx", tmp_path / "registre.csv"
    r = cli("protection", "register", "export", "--organisation", org.slug, str(xlsx))
    assert r.returncode == 0, r.stderr
    assert "2 traitement(s)" in r.stdout and xlsx.stat().st_size > 0
    r = cli("protection", "register", "export", "-o", "CCAS de Ligérac", str(csv_file))
    assert r.returncode == 0, r.stderr
    assert csv_file.read_bytes().startswith(b"\xef\xbb\xbf")

    r = cli("protection", "register", "import", str(xlsx), "--dry-run", "--json")
    assert r.returncode == 0, r.stderr
    assert json.loads(r.stdout)["counts"] == {"create": 0, "update": 0, "unchanged": 2}
    edited = csv_file.read_text("utf-8-sig").replace("Portage de repas", "Portage à domicile")
    csv_file.write_text(edited, "utf-8-sig")
    r = cli("protection", "register", "import", str(csv_file))
    assert r.returncode == 0, r.stderr
    assert "1 modifié(s), 1 inchangé(s)" in r.stdout
    with db.session() as s:
        names = sorted(a.name for a in register.list_activities(s, SYSTEM))
    assert "Portage à domicile" in names

    broken = tmp_path / "faux.csv"
    broken.write_text("Organisation;Nom du traitement;Base légale\n"
                      "CCAS de Ligérac;X;Selon l'humeur\n", "utf-8")
    r = cli("protection", "register", "import", str(broken))
    assert r.returncode == 2 and "Traceback" not in r.stderr
    assert "Ligne 2, colonne « Base légale (article 6) »" in r.stderr

    r = cli("protection", "requests", "overdue", "--json")
    assert r.returncode == 0, r.stderr
    overdue = json.loads(r.stdout)
    assert [o["kind"] for o in overdue] == ["erasure"]

    r = cli("protection", "breaches", "pending")
    assert r.returncode == 0 and "en retard de 8 h" in r.stdout
    r = cli("protection", "dashboard", "--json")
    board = json.loads(r.stdout)
    assert board["total"]["requests_overdue"] == 1 and board["total"]["breaches_overdue"] == 1
    assert board["total"]["dpia_missing"] == 2
