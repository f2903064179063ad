"""The audit chain covers every column of an entry (old entries keep verifying under their
formula), and its head is published every day on the portal: a rewrite of the whole chain
no longer matches a head copied before it."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

from fastapi.testclient import TestClient
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from patrimoine.access import audit
from patrimoine.access.models import AuditEvent, AuditHead
from patrimoine.access.principal import Principal
from patrimoine.core.db import Database
from patrimoine.core.settings import Settings
from patrimoine.web.audit_heads import until_next_publication
from tests.conftest import Cli

ACTOR = Principal.system("tests")


def write_events(db: Database, count: int) -> list[int]:
    ids = []
    for i in range(count):
        with db.unit_of_work() as s:
            event = audit.record(s, ACTOR, "datastore.read", "dataset:a", {"i": i})
            s.flush()
            ids.append(event.id)
    return ids


def rehash(s: Session, first_id: int, change: Callable[[AuditEvent], None] = lambda e: None
           ) -> None:
    """What someone with database access can do: change an entry and recompute the chain
    from it to the end."""
    events = list(s.scalars(select(AuditEvent).where(AuditEvent.id >= first_id)
                            .order_by(AuditEvent.id)))
    prev = events[0].prev_hash
    for event in events:
        change(event)
        event.prev_hash = prev
        event.hash = audit._digest(prev, event)
        prev = event.hash
    s.flush()


def test_editing_an_entrys_note_breaks_the_chain(db: Database, cli: Cli) -> None:
    ids = write_events(db, 4)
    with db.unit_of_work() as s:
        s.execute(update(AuditEvent).where(AuditEvent.id == ids[1])
                  .values(note="Consultation justifiée par le service."))
    broken = cli("audit", "verify")
    assert broken.returncode == 1
    assert f"entrée n° {ids[1]} — contenu de l'entrée modifié" in " ".join(broken.stderr.split())


def test_entries_written_before_keep_verifying_and_cannot_be_downgraded(db: Database) -> None:
    ids = write_events(db, 3)
    with db.unit_of_work() as s:  # the chain as an installation before format 2 holds it
        rehash(s, ids[0], lambda e: setattr(e, "hash_format", 1))
    ids += write_events(db, 2)
    with db.session() as s:
        formats = s.scalars(select(AuditEvent.hash_format).order_by(AuditEvent.id)).all()
        assert formats == [1, 1, 1, 2, 2]
        assert audit.verify(s).ok
    with db.unit_of_work() as s:  # old formula, but a note was never part of it
        s.execute(update(AuditEvent).where(AuditEvent.id == ids[1]).values(note="ajoutée"))
        report = audit.verify(s)
        assert report.broken_at == ids[1] and report.reason == "note ajoutée à une entrée " \
                                                               "ancienne"
        s.rollback()
    with db.unit_of_work() as s:  # a new entry passed off as an old one
        s.execute(update(AuditEvent).where(AuditEvent.id == ids[4]).values(hash_format=1))
        assert audit.verify(s).broken_at == ids[4]
        s.rollback()


def test_heads_are_published_once_a_day_and_public(db: Database, cli: Cli,
                                                   client: TestClient) -> None:
    ids = write_events(db, 3)
    published = cli("audit", "publish-head", "--json")
    assert published.returncode == 0, published.stderr
    head = json.loads(published.stdout)
    today = audit.publication_day()
    assert head["day"] == today.isoformat() and head["last_id"] == ids[-1]
    assert head["count"] == 3
    write_events(db, 1)
    # Another process, the server or a second timer run: the day's head stays as published.
    again = json.loads(cli("audit", "publish-head", "--json").stdout)
    assert again == head
    with db.session() as s:
        assert len(s.scalars(select(AuditHead)).all()) == 1

    page = client.get("/journal/empreintes")  # anonymous
    assert page.status_code == 200
    assert today.strftime("%d/%m/%Y") in page.text and head["hash"] in page.text
    assert "Comment vérifier" in page.text
    listed = client.get("/journal/empreintes.json").json()
    assert listed["heads"] == [head]


def test_a_rewritten_chain_no_longer_matches_a_head_copied_before(
        db: Database, settings: Settings, cli: Cli, client: TestClient,
        tmp_path: Path) -> None:
    ids = write_events(db, 5)
    with db.unit_of_work() as s:
        assert audit.publish_head(s) is not None
    copy = tmp_path / "empreintes.json"  # what a citizen or an archive keeps
    copy.write_text(client.get("/journal/empreintes.json").text, encoding="utf-8")
    assert cli("audit", "verify", "--empreintes", str(copy)).returncode == 0

    # The whole chain rewritten from an early entry, the anchor file removed.
    with db.unit_of_work() as s:
        rehash(s, ids[1], lambda e: setattr(e, "details", {"i": 99}) if e.id == ids[1] else None)
    (settings.data_dir / audit.ANCHOR_FILE).unlink()
    with db.session() as s:
        assert audit.verify(s).ok  # the chain alone cannot tell
    stored = cli("audit", "verify")
    assert stored.returncode == 1
    assert "ne correspond plus à l'empreinte publiée le" in " ".join(stored.stderr.split())

    # The published heads rewritten as well: only a copy kept outside shows it.
    with db.unit_of_work() as s:
        s.execute(update(AuditHead).values(hash=s.get(AuditEvent, ids[-1]).hash))
    assert cli("audit", "verify").returncode == 0
    outside = cli("audit", "verify", "--empreintes", str(copy))
    assert outside.returncode == 1
    assert "les empreintes ont été réécrites" in " ".join(outside.stderr.split())


def test_a_head_whose_entry_disappeared_is_reported(db: Database) -> None:
    ids = write_events(db, 3)
    with db.unit_of_work() as s:
        audit.publish_head(s)
        s.execute(AuditEvent.__table__.delete().where(AuditEvent.id == ids[-1]))
        report = audit.verify(s, audit.published_heads(s))
        assert report.broken_at == ids[-1] and "a disparu" in (report.reason or "")


def test_the_next_publication_is_just_after_midnight_in_paris() -> None:
    # 22:30 UTC in winter is 23:30 in Paris: 31 minutes to 00:01.
    assert until_next_publication(datetime(2026, 1, 15, 22, 30, tzinfo=UTC)) == 31 * 60
    # Summer time (UTC+2): 21:59 UTC is 23:59 in Paris.
    assert until_next_publication(datetime(2026, 7, 15, 21, 59, tzinfo=UTC)) == 120
