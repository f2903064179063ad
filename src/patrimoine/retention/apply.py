"""Applying the plan: each due item is done and recorded (retention_action, the dataset's
history, the audit log).

- destroy_versions: the versions' rows go, and every file holding their data: the Parquet
  file, the original it was loaded from, and every copy derived from it (query layouts, row
  stores, word and sort indexes, cached exports: `datastore.versions.derived_files`). Files
  are removed only once the transaction has ended, when no committed version uses them then
  (`datastore.versions.remove_file_when_unused`), so a failure leaves data whole. The files
  destroyed and their bytes are recorded in the audit log and, for a visa'd elimination,
  on the slip's item;
- purge_rows: a new version without the expired rows is written and added as ingest adds
  one (`datastore.versions.add_version`), then every version holding expired rows is
  destroyed, the former newest one included;
- anonymise: the protection module's anonymisation with the rule's plan;
- transfer (archives, sorting): a package (one CSV per version, metadata.json) is written to
  data_dir/archives/<organisation>/, the dataset is marked archived, and the transferred data
  leaves the live store (custody passes to the archives service).

Destruction (fate "destruction", and the originals of anonymised versions) is done only for
items listed on an elimination slip whose visa is recorded (Code du patrimoine R212-14).
"""

from __future__ import annotations

import json
import shutil
import tempfile
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

from sqlalchemy import delete, event, func, select
from sqlalchemy.orm import Session

from patrimoine.access import audit, registers
from patrimoine.access.principal import Principal
from patrimoine.core import csvcells
from patrimoine.core.clock import now
from patrimoine.core.errors import Invalid, PatrimoineError
from patrimoine.core.settings import Settings
from patrimoine.core.text import slugify
from patrimoine.datastore import versions as store
from patrimoine.datastore.engine import forget as forget_opened
from patrimoine.datastore.models import DatasetVersion
from patrimoine.inventory.models import Dataset, DatasetChange, LifecycleStage
from patrimoine.protection.findings import anonymise as anon
from patrimoine.protection.findings.service import (
    connect,
    parquet_source,
    quote,
    write_derived,
)
from patrimoine.retention import holds
from patrimoine.retention.models import (
    DatasetRetention,
    EliminationSlip,
    EliminationSlipItem,
    RetentionAction,
    SlipStatus,
)
from patrimoine.retention.planner import (
    ACTION_LABELS,
    Plan,
    PlanItem,
    build_plan,
    expired_condition,
)
from patrimoine.retention.rules import DurationUnit, FinalFate, RetentionRule, StartEvent
from patrimoine.retention.slips import SLIPS

ARCHIVES_DIR = "archives"


@dataclass
class Outcome:
    done: list[dict[str, Any]] = field(default_factory=list)
    skipped: list[dict[str, Any]] = field(default_factory=list)

    def as_json(self) -> dict[str, Any]:
        return {"done": self.done, "skipped": self.skipped}


# --- after commit: opened tables of destroyed data closed, written files kept ------------


def _forget_after_commit(session: Session, contents: list[str]) -> None:
    """Once committed, this process's opened tables of the destroyed contents are dropped
    (their files are removed by the datastore, see destroy_versions)."""
    pending: list[str] | None = session.info.get("retention_forget")
    if pending is None:
        pending = session.info["retention_forget"] = []

        def _committed(_session: Session) -> None:
            for content in session.info.pop("retention_forget", []):
                forget_opened(content)
            session.info.pop("retention_written", None)

        def _rolled_back(_session: Session) -> None:
            session.info.pop("retention_forget", None)
            for p in session.info.pop("retention_written", []):
                if p.is_dir():
                    shutil.rmtree(p, ignore_errors=True)
                else:
                    p.unlink(missing_ok=True)

        event.listen(session, "after_commit", _committed, once=True)
        event.listen(session, "after_rollback", _rolled_back, once=True)
    pending.extend(contents)


def _written(session: Session, path: Path) -> None:
    session.info.setdefault("retention_written", []).append(path)


# --- destruction -------------------------------------------------------------------------


def destroy_versions(session: Session, settings: Settings, principal: Principal,
                     dataset: Dataset, numbers: list[int]) -> list[dict[str, Any]]:
    """Delete the versions' rows now and their files (with every copy derived from them)
    once the transaction has ended; returns what went, each version with the files
    destroyed and their bytes (a file another version still uses is kept, and not listed)."""
    gone: list[dict[str, Any]] = []
    for number in sorted(set(numbers)):
        version = session.scalar(select(DatasetVersion).where(
            DatasetVersion.dataset_id == dataset.id, DatasetVersion.number == number))
        if version is None:
            continue
        files = store.remove_file_when_unused(session, settings, version)
        gone.append({"version": number, "rows": version.row_count,
                     "size_bytes": version.size_bytes, "content_hash": version.content_hash,
                     "files": [{"file": f.file, "bytes": f.bytes} for f in files],
                     "bytes": sum(f.bytes for f in files)})
        session.execute(delete(DatasetVersion).where(DatasetVersion.id == version.id))
    session.expire_all()
    _forget_after_commit(session, [g["content_hash"] for g in gone])
    if gone:
        remaining = session.scalar(select(func.count()).select_from(DatasetVersion).where(
            DatasetVersion.dataset_id == dataset.id))
        changes: dict[str, Any] = {"versions détruites": [None, [g["version"] for g in gone]]}
        if not remaining and dataset.lifecycle_stage != LifecycleStage.ARCHIVED:
            changes["lifecycle_stage"] = [dataset.lifecycle_stage.value,
                                          LifecycleStage.DELETED.value]
            dataset.lifecycle_stage = LifecycleStage.DELETED
        session.add(DatasetChange(dataset_id=dataset.id, actor_id=principal.account_id,
                                  actor_label=principal.label, action="retention_destroyed",
                                  changes=changes))
        audit.record(session, principal, "retention.versions_destroyed",
                     f"dataset:{dataset.uid}", {"slug": dataset.slug, "versions": gone})
    return gone


# --- row-level purge ---------------------------------------------------------------------


def _register(session: Session, settings: Settings, principal: Principal, dataset: Dataset,
              source: DatasetVersion, tmp: Path, digest: str, row_count: int,
              purge: dict[str, Any]) -> DatasetVersion | None:
    """The purged file as the dataset's next version (None when nothing changed)."""
    added = store.add_version(
        session, settings, dataset, tmp, content_hash=digest, row_count=row_count,
        columns=source.columns, positions=source.positions,
        source_filename=source.source_filename, source_format=source.source_format,
        ingest_settings={**(source.ingest_settings or {}),
                         "retention_purge": {"source_version": source.number, **purge}},
        created_by=principal.account_id)
    if not added.created:
        return None
    version = added.version
    session.add(DatasetChange(
        dataset_id=dataset.id, actor_id=principal.account_id, actor_label=principal.label,
        action="version_purged",
        changes={"version": [source.number, version.number],
                 "row_count": [source.row_count, row_count]}))
    audit.record(session, principal, "retention.version_purged", f"dataset:{dataset.uid}",
                 {"slug": dataset.slug, "source_version": source.number,
                  "version": version.number, "rows": row_count,
                  "removed": source.row_count - row_count, "content_hash": digest})
    return version


def _purge_rule(purge: dict[str, Any]) -> tuple[RetentionRule, date]:
    rule = RetentionRule(duration=int(purge["duration"]), unit=DurationUnit(purge["unit"]),
                         start_event=StartEvent.DATE_COLUMN, final_fate=FinalFate.DESTRUCTION,
                         date_column=purge["column"])
    return rule, date.fromisoformat(purge["asof"])


def purge_rows(session: Session, settings: Settings, principal: Principal, dataset: Dataset,
               target: dict[str, Any]) -> dict[str, Any]:
    purge = target["purge"]
    rule, asof = _purge_rule(purge)
    latest = store.latest_version(session, dataset)
    result: dict[str, Any] = {"new_version": None, "removed_rows": 0, "destroyed": []}
    to_destroy = set(target.get("versions") or [])
    if latest is not None and purge["column"] in latest.column_names():
        cond = expired_condition(purge["column"], rule, asof)
        names = ", ".join(quote(c) for c in latest.column_names())
        sql = f"SELECT {names} FROM {parquet_source(settings, latest)} WHERE NOT ({cond})"
        tmp, row_count, digest = write_derived(settings, dataset, sql, "retention")
        version = _register(session, settings, principal, dataset, latest, tmp, digest,
                            row_count, purge)
        if version is not None:
            result["new_version"] = version.number
            result["removed_rows"] = latest.row_count - row_count
            to_destroy.add(latest.number)
    result["destroyed"] = destroy_versions(session, settings, principal, dataset,
                                           sorted(to_destroy))
    return result


# --- archives ----------------------------------------------------------------------------


def archives_root(settings: Settings) -> Path:
    return Path(settings.data_dir) / ARCHIVES_DIR


def export_package(session: Session, settings: Settings, dataset: Dataset, item: PlanItem
                   ) -> Path:
    """Write the archives package of the item (CSV per version + metadata.json)."""
    stamp = now().strftime("%Y%m%d-%H%M%S")
    folder = (archives_root(settings) / dataset.organisation.slug
              / f"{stamp}-{slugify(dataset.slug, 60)}-{item.key.rsplit(':', 1)[-1][:8]}")
    folder.mkdir(parents=True, exist_ok=False)
    _written(session, folder)
    purge = item.target.get("purge")
    files = []
    workdir = Path(tempfile.mkdtemp(prefix="retention-"))
    try:
        con = connect(workdir)
        try:
            for number in item.versions:
                version = store.get_version(session, dataset, number)
                names = ", ".join(quote(c) for c in version.column_names())
                where = ""
                if purge:
                    rule, asof = _purge_rule(purge)
                    where = f" WHERE {expired_condition(purge['column'], rule, asof)}"
                name = f"version-{number}.csv"
                rows = con.execute(f"SELECT {names} FROM {parquet_source(settings, version)}"
                                   f"{where}").fetchall()
                with open(folder / name, "w", encoding="utf-8", newline="") as fh:
                    writer = csvcells.writer(fh)
                    writer.writerow(version.column_names())
                    for row in rows:
                        writer.writerow(["" if v is None else v for v in row])
                files.append({"file": name, "version": number, "rows": len(rows),
                              "created_at": version.created_at.isoformat(),
                              "content_hash": version.content_hash,
                              "columns": version.columns})
        finally:
            con.close()
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    metadata = {
        "service_versant": item.service,
        "organisation": dataset.organisation.name,
        "dataset": {"uid": dataset.uid, "slug": dataset.slug, "title": dataset.title,
                    "description": dataset.description, "producer": dataset.producer,
                    "theme": dataset.theme, "keywords": dataset.keywords,
                    "temporal_start": dataset.temporal_start.isoformat()
                    if dataset.temporal_start else None,
                    "temporal_end": dataset.temporal_end.isoformat()
                    if dataset.temporal_end else None},
        "rule": item.rule, "legal_reference": item.legal_reference,
        "final_fate": item.fate,
        "sorting_requested": item.fate == FinalFate.SORTING.value,
        "rows_selection": purge,
        "dates_extremes": [item.date_start.isoformat() if item.date_start else None,
                           item.date_end.isoformat() if item.date_end else None],
        "files": files,
        "transferred_at": now().isoformat(),
    }
    (folder / "metadata.json").write_text(json.dumps(metadata, ensure_ascii=False, indent=2),
                                          encoding="utf-8")
    return folder


def transfer(session: Session, settings: Settings, principal: Principal, dataset: Dataset,
             item: PlanItem) -> dict[str, Any]:
    folder = export_package(session, settings, dataset, item)
    relative = folder.relative_to(settings.data_dir).as_posix()
    own = session.scalar(select(DatasetRetention).where(DatasetRetention.dataset_id == dataset.id))
    if own is not None:
        own.transferred_at = now()
    if item.target.get("purge"):
        result = purge_rows(session, settings, principal, dataset, item.target)
    else:
        result = {"destroyed": destroy_versions(session, settings, principal, dataset,
                                                item.versions)}
        if dataset.lifecycle_stage != LifecycleStage.ARCHIVED and not store.latest_version(
                session, dataset):
            session.add(DatasetChange(
                dataset_id=dataset.id, actor_id=principal.account_id,
                actor_label=principal.label, action="retention_transferred",
                changes={"lifecycle_stage": [dataset.lifecycle_stage.value,
                                             LifecycleStage.ARCHIVED.value],
                         "versement": [None, relative]}))
            dataset.lifecycle_stage = LifecycleStage.ARCHIVED
    audit.record(session, principal, "retention.transferred", f"dataset:{dataset.uid}",
                 {"slug": dataset.slug, "package": relative, "versions": item.versions,
                  "sorting": item.fate == FinalFate.SORTING.value})
    return {"package": relative, **result}


# --- anonymisation -----------------------------------------------------------------------


def anonymise_versions(session: Session, settings: Settings, principal: Principal,
                       dataset: Dataset, numbers: list[int]) -> dict[str, Any]:
    own = session.scalar(select(DatasetRetention).where(DatasetRetention.dataset_id == dataset.id))
    if own is None or not own.anonymisation:
        raise Invalid(f"« {dataset.title} » : aucun plan d'anonymisation dans sa règle de "
                      "conservation.")
    operations = anon.parse_plan(own.anonymisation)
    made = []
    for number in numbers:
        source = store.get_version(session, dataset, number)
        version = anon.anonymise(session, settings, principal, dataset, source, operations)
        made.append({"source_version": number, "version": version.number})
    return {"anonymised": made}


# --- running the plan --------------------------------------------------------------------


def _do(session: Session, settings: Settings, principal: Principal, dataset: Dataset,
        item: PlanItem) -> dict[str, Any]:
    if item.action == "destroy_versions":
        return {"destroyed": destroy_versions(session, settings, principal, dataset,
                                              item.target["versions"])}
    if item.action == "purge_rows":
        return purge_rows(session, settings, principal, dataset, item.target)
    if item.action == "transfer":
        return transfer(session, settings, principal, dataset, item)
    return anonymise_versions(session, settings, principal, dataset, item.target["anonymise"])


def _do_authorised(session: Session, settings: Settings, principal: Principal,
                   dataset: Dataset, target: dict[str, Any]) -> dict[str, Any]:
    """An elimination exactly as the visa'd slip lists it."""
    if target.get("action") == "purge_rows":
        return purge_rows(session, settings, principal, dataset, target)
    return {"destroyed": destroy_versions(session, settings, principal, dataset,
                                          list(target.get("versions") or []))}


class _Files:
    """Marks of what a savepoint queued or wrote, to undo it if it rolls back."""

    def __init__(self, session: Session) -> None:
        self.session = session
        self.forget = len(session.info.get("retention_forget", []))
        self.written = len(session.info.get("retention_written", []))

    def undo(self) -> None:
        # The savepoint is gone: its versions stay (so do their files), drop what it wrote.
        del self.session.info.get("retention_forget", [])[self.forget:]
        written = self.session.info.get("retention_written", [])
        for path in written[self.written:]:
            if path.is_dir():
                shutil.rmtree(path, ignore_errors=True)
            else:
                path.unlink(missing_ok=True)
        del written[self.written:]


def _record(session: Session, principal: Principal, *, organisation_id: int,
            dataset_id: int | None, activity_reference: str | None, key: str, action: str,
            fate: str, slip: EliminationSlip | None, description: str,
            details: dict[str, Any]) -> None:
    session.add(RetentionAction(
        organisation_id=organisation_id, dataset_id=dataset_id,
        activity_reference=activity_reference, item_key=key, action=action, fate=fate,
        slip_id=slip.id if slip else None, actor_id=principal.account_id,
        actor_label=principal.label, description=description,
        details=json.loads(json.dumps(details, default=str))))


def _destruction_summary(details: dict[str, Any]) -> dict[str, Any]:
    """What an elimination destroyed, as its slip keeps it: the versions, their rows, and
    the files removed with their bytes."""
    gone = details.get("destroyed") or []
    # A purge keeps the rows still due in a new version: only the expired ones went.
    rows = details["removed_rows"] if "removed_rows" in details else sum(
        int(g["rows"] or 0) for g in gone)
    return {"versions": [g["version"] for g in gone], "rows": rows,
            "files": sum(len(g["files"]) for g in gone),
            "bytes": sum(int(g["bytes"]) for g in gone)}


def _close_if_done(session: Session, principal: Principal, slip: EliminationSlip) -> None:
    session.flush()
    left = session.scalar(select(func.count()).select_from(EliminationSlipItem).where(
        EliminationSlipItem.slip_id == slip.id, EliminationSlipItem.executed_at.is_(None)))
    if not left:
        slip.status = SlipStatus.EXECUTED
        slip.executed_at = now()
        registers.record(session, principal, SLIPS, slip, "slip_executed")


def _run_slips(session: Session, settings: Settings, principal: Principal,
               organisation_ids: list[int] | None, keys: list[str] | None,
               outcome: Outcome, today: date) -> set[str]:
    """Execute the items of visa'd slips; returns their keys."""
    query = (select(EliminationSlip, EliminationSlipItem)
             .join(EliminationSlipItem, EliminationSlipItem.slip_id == EliminationSlip.id)
             .where(EliminationSlip.status == SlipStatus.APPROVED,
                    EliminationSlipItem.executed_at.is_(None))
             .order_by(EliminationSlip.id, EliminationSlipItem.id))
    if organisation_ids is not None:
        query = query.where(EliminationSlip.organisation_id.in_(organisation_ids))
    handled: set[str] = set()
    in_force = holds.holds_in_force(session, today)
    for slip, slip_item in session.execute(query).all():
        if keys is not None and slip_item.item_key not in keys:
            continue
        handled.add(slip_item.item_key)
        dataset = session.get(Dataset, slip_item.dataset_id) if slip_item.dataset_id else None
        target = slip_item.target or {}
        held = holds.holding(in_force.get(slip_item.dataset_id or 0, []),
                             target.get("versions") or [])
        if held:  # visa'd before the hold: the hold wins until it is released
            outcome.skipped.append({"key": slip_item.item_key,
                                    "dataset": dataset.slug if dataset else None,
                                    "reason": holds.held_text(held)})
            continue
        files = _Files(session)
        try:
            with session.begin_nested():
                details: dict[str, Any] = {}
                if dataset is not None:
                    details = _do_authorised(session, settings, principal, dataset,
                                             slip_item.target or {})
                slip_item.destroyed = _destruction_summary(details)
                _record(session, principal, organisation_id=slip.organisation_id,
                        dataset_id=slip_item.dataset_id, activity_reference=None,
                        key=slip_item.item_key,
                        action=str((slip_item.target or {}).get("action", "destroy_versions")),
                        fate=slip_item.fate, slip=slip,
                        description=f"Élimination visée ({slip.reference}, visa "
                                    f"{slip.visa_reference}) — {slip_item.description}",
                        details=details)
                slip_item.executed_at = now()
                _close_if_done(session, principal, slip)
                session.flush()
        except PatrimoineError as exc:
            files.undo()
            outcome.skipped.append({"key": slip_item.item_key,
                                    "dataset": dataset.slug if dataset else None,
                                    "reason": exc.message})
            continue
        outcome.done.append({"key": slip_item.item_key,
                             "dataset": dataset.slug if dataset else None,
                             "action": (slip_item.target or {}).get("action",
                                                                    "destroy_versions"),
                             "fate": slip_item.fate, "slip": slip.reference,
                             "details": json.loads(json.dumps(details, default=str))})
    return handled


def apply_plan(session: Session, settings: Settings, principal: Principal,
               organisation_ids: list[int] | None = None, keys: list[str] | None = None,
               today: date | None = None) -> Outcome:
    """Do what may be done now, each action recorded: first the eliminations of visa'd slips
    (exactly as listed on the slip), then the due items needing no visa (versement, tri,
    anonymisation). Items needing a visa without one are reported as skipped."""
    outcome = Outcome()
    handled = _run_slips(session, settings, principal, organisation_ids, keys, outcome,
                         today or now().date())
    plan: Plan = build_plan(session, settings, organisation_ids, today)
    for item in plan.items:
        if (keys is not None and item.key not in keys) or item.key in handled:
            continue
        if item.held:
            outcome.skipped.append({"key": item.key, "dataset": item.dataset_slug,
                                    "reason": item.held})
            continue
        if item.needs_visa:
            outcome.skipped.append({"key": item.key, "dataset": item.dataset_slug,
                                    "reason": item.blocked or "Visa non enregistré."})
            continue
        dataset = session.get(Dataset, item.dataset_id)
        assert dataset is not None
        files = _Files(session)
        try:
            with session.begin_nested():
                details = _do(session, settings, principal, dataset, item)
                _record(session, principal, organisation_id=item.organisation_id,
                        dataset_id=item.dataset_id, activity_reference=item.activity_reference,
                        key=item.key, action=item.action, fate=item.fate, slip=None,
                        description=f"{ACTION_LABELS[item.action]} — {item.dataset_title} : "
                                    f"{item.reason}", details=details)
                session.flush()
        except PatrimoineError as exc:
            files.undo()
            outcome.skipped.append({"key": item.key, "dataset": item.dataset_slug,
                                    "reason": exc.message})
            continue
        outcome.done.append({"key": item.key, "dataset": item.dataset_slug,
                             "action": item.action, "fate": item.fate, "slip": None,
                             "details": json.loads(json.dumps(details, default=str))})
    return outcome
