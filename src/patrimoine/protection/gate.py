"""The publication gate: may this dataset version be published as open data?

`publication_blockers(session, version)` returns the reasons (in French) that forbid it;
an empty list means it may be published. A version is blocked while it holds personal-data
findings that are neither cleared by an anonymisation (column dropped, masked or
generalised in this version) nor dismissed by a recorded decision of the DPO (who, when,
why). Pseudonymised columns stay personal data and block until the DPO decides.

A version that was never scanned is scanned first when `settings` is given (to read its
file); without settings it is blocked until it is scanned.

An anonymised version is also judged by its risk (`risk_blockers`): over the
quasi-identifiers its anonymisation names, every class must hold at least
`settings.open_data_min_k` rows (k-anonymity) and, when a sensitive column is declared,
`settings.open_data_min_l` distinct sensitive values (l-diversity); the classes at fault are
named. Without settings (the file cannot be read) such a version is blocked.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from functools import cache
from typing import Any

from sqlalchemy import Select, bindparam, exists, or_, select
from sqlalchemy.orm import Session

from patrimoine.access.permissions import can_edit_dataset, can_view_findings, is_public
from patrimoine.access.principal import Principal
from patrimoine.core.errors import NotFound
from patrimoine.core.settings import Settings
from patrimoine.datastore import versions
from patrimoine.datastore.models import DatasetVersion
from patrimoine.inventory.models import Dataset
from patrimoine.protection.findings import disclosure, service
from patrimoine.protection.findings.models import (
    DISMISSALS,
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
    return ([blocker(view) for view in service.unresolved(session, version)]
            + risk_blockers(version, settings))


SHOWN_CLASSES = 5


def _class(values: dict[str, Any]) -> str:
    return ", ".join(f"{c} = {'(vide)' if v is None else v}" for c, v in values.items())


def risk_blockers(version: DatasetVersion, settings: Settings | None) -> list[str]:
    """Why an anonymised version is still too re-identifying to be published (French)."""
    record = (version.ingest_settings or {}).get("anonymisation") or {}
    names = version.column_names()
    quasi = [c for c in record.get("quasi_identifiers") or [] if c in names]
    sensitive = record.get("sensitive")
    if not quasi:
        return []
    if settings is None:
        return [f"Le risque de réidentification de la version {version.number} n'a pas pu "
                "être évalué (k-anonymat) : elle ne peut être publiée en l'état."]
    report = disclosure.k_anonymity(settings, version, quasi, target=settings.open_data_min_k,
                                    worst=SHOWN_CLASSES,
                                    sensitive=sensitive if sensitive in names else None)
    out = []
    if report.rows and report.k < settings.open_data_min_k:
        shown = [w for w in report.worst if w["size"] < settings.open_data_min_k]
        out.append(
            f"k-anonymat insuffisant sur {', '.join(quasi)} : k = {report.k}, le seuil de "
            f"l'ouverture est {settings.open_data_min_k} ; {report.classes_below_target} "
            f"classe(s) ({report.rows_below_target} ligne(s)) en dessous. Classes en défaut : "
            + " ; ".join(f"[{_class(w['values'])}] : {w['size']} ligne(s)" for w in shown)
            + ". Généralisez davantage ou supprimez un quasi-identifiant.")
    if report.l is not None and report.rows and report.l < settings.open_data_min_l:
        shown = [w for w in report.least_diverse if w["distinct"] < settings.open_data_min_l]
        out.append(
            f"l-diversité insuffisante pour « {sensitive} » : l = {report.l}, le seuil est "
            f"{settings.open_data_min_l} (valeurs sensibles distinctes par classe). Classes en "
            "défaut : " + " ; ".join(f"[{_class(w['values'])}] : {w['distinct']} valeur(s)"
                                     for w in shown) + ".")
    return out


def blocker(view: service.FindingView) -> str:
    """Why an unresolved finding blocks publication (French)."""
    f = view.finding
    what = f"Colonne « {f.column} » : {KIND_LABELS[f.kind].lower()}"
    if f.origin == service.ORIGIN_PSEUDONYMISATION:
        return (f"{what}, pseudonymisée : elle reste une donnée personnelle ; "
                "supprimez-la, ou le DPO doit accepter sa publication.")
    if view.status == "confirmed":
        return (f"{what} ({_percent(f.share)} des lignes examinées), confirmée : "
                "anonymisez la colonne avant de publier.")
    return (f"{what} ({_percent(f.share)} des lignes examinées), non traitée : "
            "anonymisez la colonne ou faites-la écarter par le DPO.")


BATCH = 500


def _batches(ids: Sequence[int]) -> Iterator[list[int]]:
    for start in range(0, len(ids), BATCH):
        yield list(ids[start:start + BATCH])


def _closure() -> tuple[Any, Any, Any]:
    """Per DatasetVersion row, three SQL booleans: never scanned; holding a finding neither
    cleared by an anonymisation nor dismissed by a decision (see FindingView.resolved);
    source of an anonymised version. A version is closed when any of them holds."""
    v, f, d = DatasetVersion, PersonalDataFinding, PersonalDataDecision
    unscanned = ~exists().where(PersonalDataScan.version_id == v.id)
    findings = exists().where(
        f.version_id == v.id, or_(f.cleared_by.is_(None), f.cleared_by == ""),
        ~exists().where(d.dataset_id == f.dataset_id, d.column == f.column, d.kind == f.kind,
                        d.decision.in_(DISMISSALS)))
    derived = exists().where(Anonymisation.source_version_id == v.id)
    return unscanned, findings, derived


def holds_unresolved_findings() -> Any:
    """SQL, per DatasetVersion row: it holds a finding neither cleared by an anonymisation
    nor dismissed by the DPO (what blocks its publication once scanned)."""
    return _closure()[1]


@dataclass(frozen=True)
class _Statements:
    """The gate's queries, built once: building and keying a statement costs more than
    running it (parameters: dataset, number, below)."""

    by_ids: Select[Any]
    versions: Select[Any]
    number: Select[Any]
    newest: Select[Any]
    newest_open: Select[Any]
    newest_maybe_open: Select[Any]


@cache
def _statements() -> _Statements:
    unscanned, findings, derived = _closure()
    flags = (unscanned.label("unscanned"), findings.label("findings"), derived.label("derived"))
    v = DatasetVersion
    rows = select(v, *flags).where(v.dataset_id == bindparam("dataset"))
    newest = rows.where(v.number < bindparam("below")).order_by(v.number.desc()).limit(1)
    # Closed whether scanned or not: unresolved findings, or source of an anonymisation.
    maybe_open = newest.where(~findings, ~derived)
    return _Statements(
        by_ids=select(v.id, *flags).where(v.id.in_(bindparam("ids", expanding=True))),
        versions=rows.order_by(v.number.desc()),
        number=rows.where(v.number == bindparam("number")),
        newest=select(v).where(v.dataset_id == bindparam("dataset"),
                               v.number < bindparam("below")).order_by(v.number.desc()).limit(1),
        newest_open=maybe_open.where(~unscanned),
        newest_maybe_open=maybe_open,
    )


def _why(unscanned: Any, findings: Any, derived: Any) -> str | None:
    if unscanned:
        return "unscanned"
    if findings:
        return "findings"
    return "anonymised" if derived else None


def closed_versions(session: Session, version_ids: Iterable[int]) -> dict[int, str]:
    """`stays_closed` for many versions in one query per 500: the ids of those that must not
    be served as open data, each with why ("unscanned", "findings" or "anonymised")."""
    ids = sorted(set(version_ids))
    closed: dict[int, str] = {}
    for chunk in _batches(ids):
        found = set()
        for vid, *flags in session.execute(_statements().by_ids, {"ids": chunk}):
            found.add(vid)
            if (why := _why(*flags)) is not None:
                closed[vid] = why
        closed.update((i, "unscanned") for i in chunk if i not in found)
    return closed


def stays_closed(session: Session, version: DatasetVersion) -> bool:
    """Whether `version` must not be served as open data even when its dataset is open: it
    was never scanned, it holds unresolved findings, or an anonymised version was derived
    from it (the original stays closed). For the readers of versions (API, portal)."""
    return version.id in closed_versions(session, [version.id])


def gated(principal: Principal, dataset: Dataset) -> bool:
    """Whether `principal` reads `dataset` through the gate: a public dataset read by anyone
    but its editors and its DPO (who see every version)."""
    return is_public(dataset) and not can_edit_dataset(
        principal, dataset) and not can_view_findings(principal, dataset)


def _open_after_scan(session: Session, version: DatasetVersion, why: str | None,
                     settings: Settings | None) -> bool:
    """Whether a version closed for `why` (None: open) passes the gate, scanning it first
    when it never was and `settings` allow reading its file (once: the scan is kept)."""
    if why == "unscanned" and settings is not None:
        service.ensure_scanned(session, settings, version)
        why = closed_versions(session, [version.id]).get(version.id)
    return why is None


def readable_versions(session: Session, principal: Principal, dataset: Dataset,
                      settings: Settings | None = None) -> list[DatasetVersion]:
    """The versions `principal` may read, newest first. Of an open dataset, the public sees
    only the versions that passed the gate (with `settings`, a version never scanned is
    scanned now, once); its editors and its DPO see every version. Readers of a closed
    dataset are already allowed by `can_read_dataset`."""
    if not gated(principal, dataset):
        return versions.list_versions(session, dataset)
    rows = session.execute(_statements().versions, {"dataset": dataset.id}).all()
    return [version for version, *flags in rows
            if _open_after_scan(session, version, _why(*flags), settings)]


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
    """Version `number` (the newest readable one when None), or NotFound in French: what
    `readable_versions` holds, in one query (and one per version scanned on the way)."""
    through_gate = gated(principal, dataset)
    statements = _statements()
    if number is not None:
        row = session.execute(statements.number,
                              {"dataset": dataset.id, "number": number}).first()
        if row is not None and (not through_gate or _open_after_scan(
                session, row[0], _why(*row[1:]), settings)):
            return row[0]
        raise NotFound(f"La version {number} du jeu de données « {dataset.slug} » n'existe "
                       "pas.")
    stmt = statements.newest
    if through_gate:
        stmt = statements.newest_maybe_open if settings is not None else statements.newest_open
    below = 2**31 - 1  # above any version number (an SQL INTEGER)
    while (row := session.execute(stmt, {"dataset": dataset.id, "below": below}).first()):
        version: DatasetVersion = row[0]
        if not through_gate or _open_after_scan(session, version, _why(*row[1:]), settings):
            return version
        below = version.number
    raise NotFound(f"Le jeu de données « {dataset.slug} » n'a encore aucune donnée publiée.")
