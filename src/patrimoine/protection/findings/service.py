"""Scanning dataset versions for personal data, storing the findings, recording decisions.

- `scan_version` reads an evenly spaced sample of the version's Parquet file through DuckDB
  (bounded memory: only the sampled rows leave DuckDB), runs the scanner and stores what it
  found. Rescanning a version replaces its scan findings; decisions are not touched.
- Decisions are stored per (dataset, column, kind), the finding's stable key: a decision
  taken on version 3 holds for the same column and kind in version 4.
- A finding is *resolved* when the column was dropped, masked or generalised by the
  anonymisation that produced the version (`cleared_by`), or when the DPO dismissed it
  (not personal data, or publication accepted with a reason). Confirmed and undecided
  findings are unresolved and block publication as open data (see protection/gate.py).
  Pseudonymised columns stay personal data (GDPR recital 26): an anonymisation carries
  their findings into the new version, where they stay unresolved until the DPO decides.
- Restricted by default: when the first scan of a dataset's first version finds personal
  data (a finding the scanner does not itself suggest dismissing) in an internal dataset,
  the dataset becomes restricted (its managers, its DPO and its department's agents read
  it, not every agent of the organisation), written to its history and the audit log with
  a French note, until a person who may edit the entry decides otherwise. The access level
  chosen when the entry was created was chosen before anyone had seen the data.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Callable, Collection
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import duckdb
from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from patrimoine.access import audit
from patrimoine.access.permissions import (
    can_decide_findings,
    can_view_findings,
    require,
)
from patrimoine.access.principal import Principal
from patrimoine.core.clock import now
from patrimoine.core.errors import Invalid
from patrimoine.core.settings import Settings
from patrimoine.datastore import versions
from patrimoine.datastore.ingest.writer import write_parquet
from patrimoine.datastore.models import DatasetVersion
from patrimoine.inventory.models import AccessLevel, Dataset, DatasetChange
from patrimoine.protection.findings.models import (
    CONFIRMED,
    DECISION_LABELS,
    DECISIONS,
    DISMISSALS,
    ORIGIN_PSEUDONYMISATION,
    ORIGIN_SCAN,
    Anonymisation,
    PersonalDataDecision,
    PersonalDataFinding,
    PersonalDataScan,
)
from patrimoine.protection.scanner import KIND_LABELS, KINDS, ScanOptions, scan_samples

MEMORY_LIMIT = "256MB"
RESTRICTED_ACTION = "access_restricted_personal_data"
ROW_COLUMN = "_row"

STATUS_LABELS = {
    "cleared": "traité par anonymisation",
    "dismissed": "écarté par le DPO",
    "confirmed": "confirmé, à traiter",
    "undecided": "à examiner",
}
OPERATION_LABELS = {
    "drop": "colonne supprimée",
    "mask": "valeurs masquées",
    "pseudonymise": "pseudonymisée (reste une donnée personnelle)",
    "generalise": "valeurs généralisées",
}


def quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def connect(workdir: Path | None = None) -> duckdb.DuckDBPyConnection:
    """A DuckDB connection with bounded memory for reading and writing versions."""
    con = duckdb.connect(config={"threads": max(1, min(os.cpu_count() or 2, 2)),
                                 "memory_limit": MEMORY_LIMIT})
    if workdir is not None:
        con.execute(f"SET temp_directory = {literal(str(workdir))}")
    con.execute("SET TimeZone = 'UTC'")
    return con


def parquet_source(settings: Settings, version: DatasetVersion) -> str:
    path = versions.version_path(settings, version)
    if not path.is_file():
        raise Invalid(f"Le fichier de la version {version.number} est introuvable ({path.name}).")
    return f"read_parquet({literal(str(path))})"


def write_derived(settings: Settings, dataset: Dataset, sql: str, purpose: str,
                  prepare: Callable[[duckdb.DuckDBPyConnection], None] | None = None
                  ) -> tuple[Path, int, str]:
    """Write the rows `sql` selects (from an existing version) as a Parquet file beside the
    dataset's versions, under a temporary name for `versions.add_version`: (path, row
    count, sha256). `prepare` sets up the connection first (e.g. session variables)."""
    tmp = versions.temporary_path(settings, dataset, purpose)
    workdir = Path(tempfile.mkdtemp(prefix=".work-", dir=tmp.parent))
    try:
        con = connect(workdir)
        try:
            if prepare is not None:
                prepare(con)
            row_count, digest = write_parquet(con, sql, tmp)
        finally:
            con.close()
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    return tmp, row_count, digest


# --- scanning ------------------------------------------------------------------------------


def read_sample(settings: Settings, version: DatasetVersion,
                rows: int) -> dict[str, list[Any]]:
    """Every column's values on about `rows` evenly spaced rows (by `_row`, 1..n)."""
    names = version.column_names()
    if not names:
        return {}
    total = max(int(version.row_count), 0)
    step = max(1, -(-total // rows)) if total else 1
    cols = ", ".join(quote(n) for n in names)
    where = f"WHERE {quote(ROW_COLUMN)} % {step} = {1 % step}" if step > 1 else ""
    sql = (f"SELECT {cols} FROM {parquet_source(settings, version)} {where} "
           f"ORDER BY {quote(ROW_COLUMN)} LIMIT {int(rows)}")
    con = connect()
    try:
        table = con.sql(sql).to_arrow_table()
    finally:
        con.close()
    return {name: table.column(i).to_pylist() for i, name in enumerate(names)}


def applied_operations(session: Session, version: DatasetVersion) -> dict[str, str]:
    """column -> operation applied by the anonymisations that produced `version`: its own,
    then those of its source for the columns it kept unchanged, and so on up the lineage."""
    ops: dict[str, str] = {}
    seen: set[int] = set()
    current: DatasetVersion | None = version
    names = set(version.column_names())
    while current is not None and current.id not in seen:
        seen.add(current.id)
        record = session.scalar(select(Anonymisation)
                                .where(Anonymisation.result_version_id == current.id))
        if record is None:
            break
        for op in record.operations:
            if op["column"] in names:
                ops.setdefault(op["column"], op["op"])
        if record.source_version_id is None:
            break
        current = session.get(DatasetVersion, record.source_version_id)
    return ops


def anonymised_from(session: Session, version: DatasetVersion) -> bool:
    """Whether an anonymised version was derived from `version`."""
    return session.scalar(select(Anonymisation.id).where(
        Anonymisation.source_version_id == version.id).limit(1)) is not None


def scan_version(session: Session, settings: Settings, version: DatasetVersion,
                 principal: Principal | None = None,
                 options: ScanOptions | None = None) -> list[PersonalDataFinding]:
    """Scan the version and store its findings (replacing those of an earlier scan)."""
    options = options or ScanOptions()
    sample = read_sample(settings, version, options.sample_rows)
    dataset = session.get(Dataset, version.dataset_id)
    result = scan_samples(sample, options, total_rows=int(version.row_count),
                          subject=dataset.title if dataset is not None else "")
    applied = applied_operations(session, version)
    session.execute(delete(PersonalDataFinding).where(
        PersonalDataFinding.version_id == version.id,
        PersonalDataFinding.origin == ORIGIN_SCAN))
    kept = {f.key for f in session.scalars(select(PersonalDataFinding).where(
        PersonalDataFinding.version_id == version.id))}
    for f in result.findings:
        op = applied.get(f.column)
        if f.key in kept or op == "pseudonymise":
            # A pseudonymised column is represented by the findings carried over from the
            # source; what the scanner sees in hexadecimal digests is noise.
            continue
        session.add(PersonalDataFinding(
            version_id=version.id, dataset_id=version.dataset_id, column=f.column,
            kind=f.kind, share=f.share, count=f.count, sampled=f.sampled,
            examples=list(f.examples), confidence=f.confidence, severity=f.severity,
            reason=f.reason, origin=ORIGIN_SCAN, suggestion=f.suggestion,
            cleared_by=op if op in ("drop", "mask", "generalise") else None))
    scan = session.scalar(select(PersonalDataScan)
                          .where(PersonalDataScan.version_id == version.id))
    first_scan = scan is None
    if scan is None:
        scan = PersonalDataScan(version_id=version.id)
        session.add(scan)
    scan.scanned_at = now()
    scan.sampled_rows = result.sampled_rows
    scan.total_rows = int(version.row_count)
    scan.scanned_by = principal.label if principal else "Patrimoine"
    session.flush()
    if principal is not None and dataset is not None:
        audit.record(session, principal, "personal_data.scanned", f"dataset:{dataset.uid}",
                     {"slug": dataset.slug, "version": version.number,
                      "findings": [list(f.key) for f in result.findings]})
    if first_scan and version.number == 1 and dataset is not None:
        _restrict_by_default(session, dataset, version)
    return findings_of(session, version)


HISTORY_LABELS = {RESTRICTED_ACTION: "Accès restreint : données personnelles détectées"}


def _restrict_by_default(session: Session, dataset: Dataset, version: DatasetVersion) -> None:
    """An internal dataset whose first version holds personal data becomes restricted (see
    the module docstring): the application's rule, recorded as its own act, not as the act
    of whoever's request ran the scan."""
    if dataset.access_level != AccessLevel.INTERNAL:
        return
    found = sorted({v.finding.column for v in unresolved(session, version)
                    if v.finding.suggestion != "not_personal"})
    if not found:
        return
    note = ("Données personnelles détectées dans la première version (colonnes : "
            + ", ".join(found) + ") : le jeu passe de l'accès interne à l'accès restreint "
            "(responsables du jeu, DPO, agents de sa direction) jusqu'à la décision d'une "
            "personne habilitée à modifier sa fiche.")
    actor = Principal.system("Patrimoine (analyse des données personnelles)")
    dataset.access_level = AccessLevel.RESTRICTED
    session.add(DatasetChange(
        dataset_id=dataset.id, actor_id=actor.account_id, actor_label=actor.label,
        action=RESTRICTED_ACTION,
        changes={"access_level": [AccessLevel.INTERNAL.value, AccessLevel.RESTRICTED.value],
                 "note": [None, note]}))
    audit.record(session, actor, f"dataset.{RESTRICTED_ACTION}", f"dataset:{dataset.uid}",
                 {"slug": dataset.slug, "version": version.number, "columns": found,
                  "access_level": [AccessLevel.INTERNAL.value, AccessLevel.RESTRICTED.value],
                  "note": note})
    session.flush()


def scan_of(session: Session, version: DatasetVersion) -> PersonalDataScan | None:
    return session.scalar(select(PersonalDataScan)
                          .where(PersonalDataScan.version_id == version.id))


def ensure_scanned(session: Session, settings: Settings, version: DatasetVersion,
                   principal: Principal | None = None) -> PersonalDataScan:
    scan = scan_of(session, version)
    if scan is None and session.get_bind().dialect.name == "postgresql":
        # Two first requests at once: the second waits, then finds the first one's scan.
        session.execute(select(DatasetVersion.id).where(DatasetVersion.id == version.id)
                        .with_for_update())
        scan = scan_of(session, version)
    if scan is None:
        scan_version(session, settings, version, principal)
        scan = scan_of(session, version)
        assert scan is not None
    return scan


def findings_of(session: Session, version: DatasetVersion) -> list[PersonalDataFinding]:
    return list(session.scalars(
        select(PersonalDataFinding).where(PersonalDataFinding.version_id == version.id)
        .order_by(PersonalDataFinding.id)))


def decisions_of(session: Session, dataset_id: int
                 ) -> dict[tuple[str, str], PersonalDataDecision]:
    return {(d.column, d.kind): d for d in session.scalars(
        select(PersonalDataDecision).where(PersonalDataDecision.dataset_id == dataset_id))}


# --- status --------------------------------------------------------------------------------


@dataclass
class FindingView:
    finding: PersonalDataFinding
    decision: PersonalDataDecision | None

    @property
    def status(self) -> str:
        if self.finding.cleared_by:
            return "cleared"
        if self.decision is not None and self.decision.decision in DISMISSALS:
            return "dismissed"
        if self.decision is not None and self.decision.decision == CONFIRMED:
            return "confirmed"
        return "undecided"

    @property
    def resolved(self) -> bool:
        return self.status in ("cleared", "dismissed")

    def to_dict(self) -> dict[str, Any]:
        f, d = self.finding, self.decision
        return {
            "id": f.id, "column": f.column, "kind": f.kind, "kind_label": KIND_LABELS[f.kind],
            "share": round(f.share, 4), "count": f.count, "sampled": f.sampled,
            "examples": list(f.examples), "confidence": round(f.confidence, 2),
            "severity": f.severity, "reason": f.reason, "origin": f.origin,
            "cleared_by": f.cleared_by, "suggestion": f.suggestion, "status": self.status,
            "status_label": STATUS_LABELS[self.status], "resolved": self.resolved,
            "decision": None if d is None else {
                "decision": d.decision, "label": DECISION_LABELS[d.decision],
                "reason": d.reason, "decided_by": d.decided_by_label,
                "decided_at": d.decided_at.isoformat(), "version": d.version_number,
            },
        }


def views(session: Session, version: DatasetVersion) -> list[FindingView]:
    decisions = decisions_of(session, version.dataset_id)
    return [FindingView(f, decisions.get(f.key)) for f in findings_of(session, version)]


def unresolved(session: Session, version: DatasetVersion) -> list[FindingView]:
    return [v for v in views(session, version) if not v.resolved]


def unresolved_of(session: Session, version_ids: Collection[int]
                  ) -> dict[int, list[FindingView]]:
    """`unresolved` for many versions in two queries: version id -> its unresolved findings
    (versions without any left out)."""
    if not version_ids:
        return {}
    found = list(session.scalars(
        select(PersonalDataFinding).where(PersonalDataFinding.version_id.in_(list(version_ids)))
        .order_by(PersonalDataFinding.id)))
    decisions: dict[tuple[int, str, str], PersonalDataDecision] = {}
    if found:
        for d in session.scalars(select(PersonalDataDecision).where(
                PersonalDataDecision.dataset_id.in_(sorted({f.dataset_id for f in found})))):
            decisions[(d.dataset_id, d.column, d.kind)] = d
    out: dict[int, list[FindingView]] = {}
    for f in found:
        view = FindingView(f, decisions.get((f.dataset_id, *f.key)))
        if not view.resolved:
            out.setdefault(f.version_id, []).append(view)
    return out


def list_findings(session: Session, settings: Settings, principal: Principal,
                  dataset: Dataset, version: DatasetVersion) -> list[FindingView]:
    """The version's findings (scanning it first when it never was)."""
    require(can_view_findings(principal, dataset), principal,
            f"voir les données personnelles de « {dataset.title} »")
    ensure_scanned(session, settings, version, principal)
    return views(session, version)


# --- decisions -----------------------------------------------------------------------------


def decide(session: Session, principal: Principal, dataset: Dataset, version: DatasetVersion,
           column: str, kind: str, decision: str, reason: str = "") -> PersonalDataDecision:
    """Record a decision about the finding (column, kind) of `version`, kept for every
    later version. Confirming is open to whoever sees the findings; dismissing (not
    personal data, accepted) only to the DPO of the dataset's organisation, with a reason."""
    reason = (reason or "").strip()
    if decision not in DECISIONS:
        raise Invalid(f"Décision inconnue : « {decision} ». Décisions possibles : "
                      + ", ".join(DECISIONS) + ".")
    if kind not in KINDS:
        raise Invalid(f"Nature de donnée inconnue : « {kind} ».")
    if decision in DISMISSALS:
        require(can_decide_findings(principal, dataset), principal,
                "écarter un constat de données personnelles (réservé au DPO)")
        if not reason:
            raise Invalid("Indiquez le motif de la décision : il est conservé avec elle.")
    else:
        require(can_view_findings(principal, dataset), principal,
                f"confirmer un constat de données personnelles dans « {dataset.title} »")
    if len(reason) > 2000:
        raise Invalid("Le motif est trop long (2 000 caractères au plus).")
    finding = session.scalar(select(PersonalDataFinding).where(
        PersonalDataFinding.version_id == version.id, PersonalDataFinding.column == column,
        PersonalDataFinding.kind == kind))
    if finding is None:
        raise Invalid(f"Aucun constat « {KIND_LABELS[kind]} » sur la colonne « {column} » "
                      f"dans la version {version.number}.")
    record = session.scalar(select(PersonalDataDecision).where(
        PersonalDataDecision.dataset_id == dataset.id, PersonalDataDecision.column == column,
        PersonalDataDecision.kind == kind))
    before = DECISION_LABELS[record.decision] if record else None
    if record is None:
        record = PersonalDataDecision(dataset_id=dataset.id, column=column, kind=kind)
        session.add(record)
    record.decision = decision
    record.reason = reason
    record.decided_at = now()
    record.decided_by = principal.account_id
    record.decided_by_label = principal.label
    record.version_number = version.number
    after = DECISION_LABELS[decision] + (f" ({reason})" if reason else "")
    session.add(DatasetChange(
        dataset_id=dataset.id, actor_id=principal.account_id, actor_label=principal.label,
        action="personal_data_decision",
        changes={f"Données personnelles, colonne « {column} » ({KIND_LABELS[kind]})":
                 [before, after]}))
    audit.record(session, principal, "personal_data.decided", f"dataset:{dataset.uid}",
                 {"slug": dataset.slug, "version": version.number, "column": column,
                  "kind": kind, "decision": decision, "reason": reason})
    session.flush()
    return record


def carry_pseudonymised(session: Session, source: DatasetVersion, result: DatasetVersion,
                        pseudonymised: list[str], untouched: list[str]) -> None:
    """Pseudonymised columns stay personal data: the source's findings on the columns
    pseudonymised now, and the carried findings of columns pseudonymised earlier and kept
    unchanged, go into the new version (unresolved until the DPO decides)."""
    now_ = set(pseudonymised)
    kept = set(untouched)
    for f in findings_of(session, source):
        if f.cleared_by:
            continue
        if f.column in now_:
            reason = (f"Colonne pseudonymisée (HMAC-SHA256 à clé secrète) depuis la version "
                      f"{source.number} : une pseudonymisation laisse des données personnelles "
                      "au sens du RGPD. Constat d'origine : " + f.reason)
        elif f.column in kept and f.origin == ORIGIN_PSEUDONYMISATION:
            reason = f.reason
        else:
            continue
        session.add(PersonalDataFinding(
            version_id=result.id, dataset_id=result.dataset_id, column=f.column, kind=f.kind,
            share=f.share, count=f.count, sampled=f.sampled, examples=[],
            confidence=f.confidence, severity=f.severity, reason=reason,
            origin=ORIGIN_PSEUDONYMISATION))
    session.flush()
