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

from sqlalchemy.orm import Session

from patrimoine.access.permissions import can_edit_dataset, can_view_findings
from patrimoine.access.principal import Principal
from patrimoine.core.errors import NotFound
from patrimoine.core.settings import Settings
from patrimoine.datastore import versions
from patrimoine.datastore.models import DatasetVersion
from patrimoine.inventory.models import AccessLevel, Dataset
from patrimoine.protection.findings import service
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


def stays_closed(session: Session, version: DatasetVersion) -> bool:
    """Whether `version` must not be served as open data even when its dataset is open: it
    was never scanned, it holds unresolved findings, or an anonymised version was derived
    from it (the original stays closed). For the readers of versions (API, portal)."""
    if service.scan_of(session, version) is None:
        return True
    if service.unresolved(session, version):
        return True
    return service.anonymised_from(session, version)


def readable_versions(session: Session, principal: Principal, dataset: Dataset,
                      settings: Settings | None = None) -> list[DatasetVersion]:
    """The versions `principal` may read, newest first. Of an open dataset, the public sees
    only the versions that passed the gate (with `settings`, a version never scanned is
    scanned now, once); its editors and its DPO see every version. Readers of a closed
    dataset are already allowed by `can_read_dataset`."""
    every = versions.list_versions(session, dataset)
    if dataset.access_level != AccessLevel.OPEN or can_edit_dataset(principal, dataset) \
            or can_view_findings(principal, dataset):
        return every
    if settings is not None:
        for version in every:
            service.ensure_scanned(session, settings, version)
    return [v for v in every if not stays_closed(session, v)]


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
