"""The audit log's chain and anchor: `patrimoine audit verify` on an intact log, an edited
entry, a deleted middle entry and a truncated tail; `audit list`; the JSON API."""

from __future__ import annotations

import json
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import delete, func, select, update

from patrimoine.access import audit
from patrimoine.access import service as accounts
from patrimoine.access.models import AuditEvent, Role
from patrimoine.access.principal import Principal
from patrimoine.core.db import Database
from patrimoine.core.settings import Settings
from patrimoine.inventory import service as inventory
from tests import factories as f
from tests.conftest import Cli

ACTOR = Principal.system("tests")


def write_events(db: Database, count: int, target: str = "dataset:a") -> list[int]:
    ids = []
    for i in range(count):  # one transaction each, as requests do
        with db.unit_of_work() as s:
            event = audit.record(s, ACTOR, "datastore.read", target, {"i": i})
            s.flush()
            ids.append(event.id)
    return ids


def test_verify_intact_then_edited_entry(db: Database, cli: Cli) -> None:
    ids = write_events(db, 5)
    shown = cli("audit", "verify")
    assert shown.returncode == 0, shown.stderr
    assert f"Journal d'audit intact : 5 entrée(s) vérifiée(s), ancre à l'entrée n° {ids[-1]}." \
        in shown.stdout
    with db.unit_of_work() as s:
        s.execute(update(AuditEvent).where(AuditEvent.id == ids[2])
                  .values(details={"i": 99}))
    broken = cli("audit", "verify")
    assert broken.returncode == 1
    assert f"Journal d'audit altéré : entrée n° {ids[2]} — contenu de l'entrée modifié." \
        in " ".join(broken.stderr.split())
    report = json.loads(cli("audit", "verify", "--json").stdout)
    assert report["ok"] is False and report["broken_at"] == ids[2]


def test_verify_detects_a_deleted_middle_and_first_entry(db: Database, cli: Cli) -> None:
    ids = write_events(db, 5)
    with db.unit_of_work() as s:
        s.execute(delete(AuditEvent).where(AuditEvent.id == ids[1]))
    result = cli("audit", "verify")
    assert result.returncode == 1
    assert f"entrée n° {ids[2]} — entrée précédente supprimée ou modifiée" \
        in " ".join(result.stderr.split())
    with db.unit_of_work() as s:
        s.execute(delete(AuditEvent).where(AuditEvent.id.in_(ids[:3])))
        assert audit.verify(s).broken_at == ids[3]  # the first one gone: genesis link broken


def test_a_truncated_tail_is_detected_by_the_anchor(db: Database, settings: Settings,
                                                    cli: Cli) -> None:
    ids = write_events(db, 4)
    with db.unit_of_work() as s:
        s.execute(delete(AuditEvent).where(AuditEvent.id == ids[-1]))
        # The limit of a pure chain: without an anchor, a shorter chain is still valid.
        assert audit.verify(s).ok
    assert cli("audit", "verify").returncode == 0  # anchors ids[-2]
    ids += write_events(db, 2)
    with db.unit_of_work() as s:
        s.execute(delete(AuditEvent).where(AuditEvent.id.in_(ids[-4:])))
    result = cli("audit", "verify")
    assert result.returncode == 1
    text = " ".join(result.stderr.split())
    assert f"entrée n° {ids[2]} — fin du journal tronquée : l'entrée n° {ids[2]}, ancrée le" \
        in text and "a disparu" in text
    # Rewriting the chain after the anchored entry does not hide it either.
    anchored = audit.read_anchor(settings.data_dir)
    assert anchored is not None and anchored.count == 3


def test_recomputed_chain_and_missing_earlier_entries_are_caught_by_the_anchor(
        db: Database, settings: Settings) -> None:
    ids = write_events(db, 3)
    with db.unit_of_work() as s:
        assert audit.verify_with_anchor(s, settings.data_dir).ok
        # Someone edits the tip and recomputes its hash: the chain alone is happy.
        tip = s.get(AuditEvent, ids[-1])
        assert tip is not None
        tip.details = {"i": 42}
        tip.hash = audit._digest(tip.prev_hash, tip)
    with db.unit_of_work() as s:
        assert audit.verify(s).ok
        report = audit.verify_with_anchor(s, settings.data_dir)
        assert not report.ok and "a été modifiée" in (report.reason or "")
    (settings.data_dir / audit.ANCHOR_FILE).write_text("n'importe quoi")
    with db.unit_of_work() as s, pytest.raises(audit.Invalid, match="illisible"):
        audit.verify_with_anchor(s, settings.data_dir)


def test_audit_list_filters_and_json(db: Database, cli: Cli) -> None:
    write_events(db, 3, "dataset:a")
    write_events(db, 2, "dataset:b")
    with db.unit_of_work() as s:
        audit.record(s, ACTOR, "grant.create", "dataset:b", {"grant": 1})
    body = json.loads(cli("audit", "list", "--target", "dataset:b", "--json").stdout)
    assert body["total"] == 3 and body["events"][0]["action"] == "grant.create"
    body = json.loads(cli("audit", "list", "--action", "datastore.", "--limit", "2",
                          "--offset", "1", "--json").stdout)
    assert body["total"] == 5 and len(body["events"]) == 2
    table = cli("audit", "list", "--target", "dataset:*")
    assert table.returncode == 0 and "Journal d'audit : 6 entrée(s)" in table.stdout
    none = cli("audit", "list", "--actor", "personne")
    assert "Aucune entrée ne correspond." in none.stdout
    bad = cli("audit", "list", "--since", "hier")
    assert bad.returncode != 0


def test_audit_api_for_administrators_and_dpo(client: TestClient, db: Database) -> None:
    with db.unit_of_work() as s:
        ville = f.organisation(s)
        tokens = {}
        for email, role in (("dpo@ville.fr", Role.DPO), ("admin@ville.fr", Role.ADMINISTRATOR),
                            ("agent@ville.fr", Role.AGENT)):
            account = f.account(s, email, roles=[(ville, role, None)])
            tokens[email] = accounts.create_api_token(s, account, "tests")[1]
        # The entries are about a dataset of the readers' organisation: theirs to read.
        inventory.create_dataset(s, f.SYSTEM, inventory.DatasetInput(
            title="X", organisation_id=ville.id), slug="x")
    write_events(db, 7, "dataset:x")

    def call(path: str, email: str, **params: Any) -> Any:
        return client.get(path, params=params or None,
                          headers={"Authorization": f"Bearer {tokens[email]}"})

    page = call("/api/v1/audit", "dpo@ville.fr", target="dataset:x", limit=3, offset=3).json()
    assert page["total"] == 7 and [e["details"]["i"] for e in page["events"]] == [3, 2, 1]
    assert call("/api/v1/audit", "admin@ville.fr").status_code == 200
    refused = call("/api/v1/audit", "agent@ville.fr")
    assert refused.status_code == 403
    assert refused.json()["error"] == ("Votre compte n'a pas le droit de consulter le journal "
                                       "d'audit.")
    assert client.get("/api/v1/audit").status_code == 401
    verified = call("/api/v1/audit/verify", "dpo@ville.fr").json()
    # The anchor describes the whole chain: the instance administrator's, not theirs.
    assert verified["ok"] is True and verified["anchor"] is None
    with db.session() as s:
        assert verified["checked"] == s.scalar(select(func.count()).select_from(AuditEvent))
    with db.unit_of_work() as s:
        first = s.scalar(select(func.min(AuditEvent.id)))
        s.execute(update(AuditEvent).where(AuditEvent.id == first).values(action="x"))
    broken = call("/api/v1/audit/verify", "admin@ville.fr").json()
    assert broken["ok"] is False and broken["broken_at"] == first
