"""The publication gate: may this dataset version be published as open data?

`publication_blockers(session, version)` returns the reasons (in French) that forbid it;
an empty list means it may be published. A version is blocked while it holds personal-data
findings that are neither cleared by an anonymisation (column dropped, masked or
generalised in this version) nor dismissed by a recorded decision of the DPO (who, when,
why). Pseudonymised columns stay personal data and block until the DPO decides.

A version that was never scanned is scanned first when `settings` is given (to read its
file); without settings it is blocked until it is scanned.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence

from sqlalchemy import select
from sqlalchemy.orm import Session

from patrimoine.access.permissions import can_edit_dataset, can_view_findings
from patrimoine.access.principal import Principal
from patrimoine.core.errors import NotFound
from patrimoine.core.settings import Settings
from patrimoine.datastore import versions
from patrimoine.datastore.models import DatasetVersion
from patrimoine.inventory.models import AccessLevel, Dataset
from patrimoine.protection.findings import service
from patrimoine.protection.findings.models import (
    Anonymisation,
    PersonalDataDecision,
    PersonalDataFinding,
    PersonalDataScan,
)
from patrimoine.protection.scanner import KIND_LABELS


def _percent(share: float) -> str:
    value = share * 100
    text = f"{value:.0f}" if value >= 10 or value == 0 else f"{value:.1f}"
    return text.replace(".", ",") + " %"


def publication_blockers(session: Session, version: DatasetVersion,
                         settings: Settings | None = None) -> list[str]:
    """Reasons (French) why `version` may not be published as open data; [] = it may."""
    if service.scan_of(session, version) is None:
        if settings is None:
            return [f"La version {version.number} n'a pas encore été analysée (recherche de "
                    "données personnelles) : lancez l'analyse avant de la publier."]
        service.ensure_scanned(session, settings, version)
    reasons = []
    for view in service.unresolved(session, version):
        f = view.finding
        what = f"Colonne « {f.column} » : {KIND_LABELS[f.kind].lower()}"
        if f.origin == service.ORIGIN_PSEUDONYMISATION:
            reasons.append(f"{what}, pseudonymisée : elle reste une donnée personnelle ; "
                           "supprimez-la, ou le DPO doit accepter sa publication.")
        elif view.status == "confirmed":
            reasons.append(f"{what} ({_percent(f.share)} des lignes examinées), confirmée : "
                           "anonymisez la colonne avant de publier.")
        else:
            reasons.append(f"{what} ({_percent(f.share)} des lignes examinées), non traitée : "
                           "anonymisez la colonne ou faites-la écarter par le DPO.")
    return reasons


BATCH = 500


def _batches(ids: Sequence[int]) -> Iterator[list[int]]:
    for start in range(0, len(ids), BATCH):
        yield list(ids[start:start + BATCH])


def closed_versions(session: Session, version_ids: Iterable[int]) -> dict[int, str]:
    """`stays_closed` for many versions in a few queries: the ids of those that must not be
    served as open data, each with why ("unscanned", "findings" or "anonymised")."""
    ids = sorted(set(version_ids))
    scanned: set[int] = set()
    derived: set[int] = set()
    findings: list[PersonalDataFinding] = []
    for chunk in _batches(ids):
        scanned.update(session.scalars(select(PersonalDataScan.version_id)
                                       .where(PersonalDataScan.version_id.in_(chunk))))
        derived.update(v for v in session.scalars(
            select(Anonymisation.source_version_id)
            .where(Anonymisation.source_version_id.in_(chunk))) if v is not None)
        findings += session.scalars(select(PersonalDataFinding)
                                    .where(PersonalDataFinding.version_id.in_(chunk)))
    decisions: dict[tuple[int, str, str], PersonalDataDecision] = {}
    for chunk in _batches(sorted({f.dataset_id for f in findings})):
        for d in session.scalars(select(PersonalDataDecision)
                                 .where(PersonalDataDecision.dataset_id.in_(chunk))):
            decisions[(d.dataset_id, d.column, d.kind)] = d
    closed = {i: "unscanned" for i in ids if i not in scanned}
    for f in findings:
        if f.version_id not in closed and \
                not service.FindingView(f, decisions.get((f.dataset_id, *f.key))).resolved:
            closed[f.version_id] = "findings"
    for i in derived:
        closed.setdefault(i, "anonymised")
    return closed


def stays_closed(session: Session, version: DatasetVersion) -> bool:
    """Whether `version` must not be served as open data even when its dataset is open: it
    was never scanned, it holds unresolved findings, or an anonymised version was derived
    from it (the original stays closed). For the readers of versions (API, portal)."""
    return version.id in closed_versions(session, [version.id])


def gated(principal: Principal, dataset: Dataset) -> bool:
    """Whether `principal` reads `dataset` through the gate: an open dataset read by anyone
    but its editors and its DPO (who see every version)."""
    return dataset.access_level == AccessLevel.OPEN and not can_edit_dataset(
        principal, dataset) and not can_view_findings(principal, dataset)


def readable_versions(session: Session, principal: Principal, dataset: Dataset,
                      settings: Settings | None = None) -> list[DatasetVersion]:
    """The versions `principal` may read, newest first. Of an open dataset, the public sees
    only the versions that passed the gate (with `settings`, a version never scanned is
    scanned now, once); its editors and its DPO see every version. Readers of a closed
    dataset are already allowed by `can_read_dataset`."""
    every = versions.list_versions(session, dataset)
    if not gated(principal, dataset):
        return every
    if settings is not None:
        for version in every:
            service.ensure_scanned(session, settings, version)
    closed = closed_versions(session, [v.id for v in every])
    return [v for v in every if v.id not in closed]


def newest_readable_versions(session: Session, principal: Principal,
                             datasets: Sequence[Dataset], settings: Settings | None = None
                             ) -> dict[int, DatasetVersion]:
    """`readable_versions(...)[0]` for many datasets in a few queries (catalogs, feeds, DCAT,
    CKAN): dataset id -> the newest version `principal` may read; datasets without one are
    left out. With `settings`, a version never scanned is scanned when it is the newest
    candidate left (once: the scan is kept)."""
    if not datasets:
        return {}
    numbered: dict[int, list[int]] = {}
    for chunk in _batches([d.id for d in datasets]):
        for vid, did in session.execute(
                select(DatasetVersion.id, DatasetVersion.dataset_id)
                .where(DatasetVersion.dataset_id.in_(chunk))
                .order_by(DatasetVersion.dataset_id, DatasetVersion.number.desc())):
            numbered.setdefault(did, []).append(vid)
    through_gate = {d.id for d in datasets if gated(principal, d)}
    closed = closed_versions(session, [v for did in through_gate
                                       for v in numbered.get(did, [])])
    chosen: dict[int, int] = {}
    for did, ids in numbered.items():
        for vid in ids:
            why = closed.get(vid) if did in through_gate else None
            if why == "unscanned" and settings is not None:
                version = session.get(DatasetVersion, vid)
                assert version is not None
                service.ensure_scanned(session, settings, version)
                why = closed_versions(session, [vid]).get(vid)
            if why is None:
                chosen[did] = vid
                break
    found: dict[int, DatasetVersion] = {}
    for chunk in _batches(sorted(chosen.values())):
        for v in session.scalars(select(DatasetVersion).where(DatasetVersion.id.in_(chunk))):
            found[v.dataset_id] = v
    return found


def readable_version(session: Session, principal: Principal, dataset: Dataset,
                     number: int | None = None, settings: Settings | None = None
                     ) -> DatasetVersion:
    """Version `number` (the newest readable one when None), or NotFound in French."""
    found = readable_versions(session, principal, dataset, settings)
    if number is None:
        if not found:
            raise NotFound(f"Le jeu de données « {dataset.slug} » n'a encore aucune donnée "
                           "publiée.")
        return found[0]
    for version in found:
        if version.number == number:
            return version
    raise NotFound(f"La version {number} du jeu de données « {dataset.slug} » n'existe pas.")
