"""The publication workflow of a dataset, from uploaded file to open data.

Steps, each written to the dataset's history (DatasetChange) and to the audit log:
1. upload and preview (`plan_upload`): what sniffing found, with per-column type overrides;
   nothing is written;
2. load (`add_version`): the file becomes the dataset's next immutable version;
3. ask (`request_publication`): a department referent asks for publication once the
   metadata check passes; the request waits in `Dataset.extra["publication_request"]`;
4. publish (`publish`): the chief data officer or an administrator (`can_publish`) makes
   the dataset open and published, if it has data, complete metadata (title, description,
   organisation, an open licence: Licence Ouverte 2.0 or ODbL) and no publication blocker
   (the personal-data gate, the inventory saying it holds personal or confidential data);
5. unpublish (`unpublish`): back to internal and stored; every version stays.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from patrimoine.access import audit
from patrimoine.access.models import Role
from patrimoine.access.permissions import (
    can_edit_dataset,
    can_publish,
    can_read_dataset,
    is_public,
    require,
)
from patrimoine.access.principal import Principal
from patrimoine.core.clock import now
from patrimoine.core.errors import Invalid
from patrimoine.core.settings import Settings
from patrimoine.datastore import versions
from patrimoine.datastore.diff import VersionDiff, diff
from patrimoine.datastore.ingest import IngestPlan, Overrides, ingest, sniff
from patrimoine.datastore.ingest.service import as_overrides
from patrimoine.datastore.models import DatasetVersion
from patrimoine.inventory import service as inventory
from patrimoine.inventory.licences import LICENCE_OUVERTE, ODBL, licence
from patrimoine.inventory.models import (
    AccessLevel,
    Dataset,
    DatasetChange,
    LifecycleStage,
    YesNoUndefined,
)
from patrimoine.notifications import service as notifications
from patrimoine.notifications.models import Kind
from patrimoine.protection.gate import publication_blockers

OPEN_LICENCES = {LICENCE_OUVERTE.id: LICENCE_OUVERTE.title, ODBL.id: ODBL.title}
REQUEST_KEY = "publication_request"
NOTE_MAX = 1000

# History actions of the workflow, with their French labels for the back-office.
ACTION_LABELS = {
    "version_published": "Nouvelle version des données",
    "data_previewed": "Fichier envoyé et prévisualisé",
    "publication_requested": "Demande de publication",
    "publication_withdrawn": "Demande de publication retirée",
    "publication_rejected": "Demande de publication refusée",
    "published": "Publication en données ouvertes",
    "unpublished": "Dépublication",
}


def open_licence_id(text: str | None) -> str | None:
    """The id of the open licence `text` names (etalab-2.0 or ODbL-1.0), else None."""
    found = licence(text)
    return found.id if found is not None and found.id in OPEN_LICENCES else None


def missing_metadata(dataset: Dataset, latest: DatasetVersion | None) -> list[str]:
    """What the dataset lacks to be published as open data, in French (empty when ready)."""
    missing = []
    if latest is None:
        missing.append("Aucune donnée chargée : chargez un fichier (CSV, tableur, JSON, "
                       "GeoJSON ou Parquet).")
    if not (dataset.title or "").strip():
        missing.append("Le titre est obligatoire.")
    if len((dataset.description or "").strip()) < 20:
        missing.append("La description est absente ou trop courte (20 caractères au moins) : "
                       "dites ce que contiennent les données, d'où elles viennent et comment "
                       "les lire.")
    if dataset.organisation_id is None:
        missing.append("L'organisation productrice est obligatoire.")
    if not (dataset.licence or "").strip():
        missing.append("La licence est obligatoire pour des données ouvertes : Licence Ouverte "
                       "2.0 (etalab-2.0) ou ODbL (ODbL-1.0).")
    elif open_licence_id(dataset.licence) is None:
        missing.append(f"La licence « {dataset.licence} » n'est pas une licence de données "
                       "ouvertes admise : choisissez la Licence Ouverte 2.0 (etalab-2.0) ou "
                       "l'ODbL (ODbL-1.0).")
    return missing


def personal_data_blockers(session: Session, version: DatasetVersion,
                           settings: Settings | None) -> list[str]:
    """The personal-data gate's reasons against publishing this version (protection.gate);
    with settings, a version never scanned is scanned first."""
    return list(publication_blockers(session, version, settings))


def blockers(session: Session, dataset: Dataset, latest: DatasetVersion | None,
             settings: Settings | None = None, gate: list[str] | None = None) -> list[str]:
    """Why the dataset may not be opened even with complete metadata, in French (`gate`:
    the personal-data gate's reasons against `latest`, when already known)."""
    found = []
    if dataset.contains_personal_data:
        found.append("La fiche de l'inventaire indique que ce jeu de données contient des "
                     "données personnelles : anonymisez-les puis corrigez la fiche avant de "
                     "publier.")
    if dataset.confidentiality == YesNoUndefined.YES:
        found.append("La fiche de l'inventaire indique des données confidentielles : elles ne "
                     "peuvent pas être publiées en données ouvertes.")
    if gate is not None:
        found.extend(gate)
    elif latest is not None:
        found.extend(personal_data_blockers(session, latest, settings))
    return found


@dataclass
class PublicationRequest:
    by: str
    by_id: int | None
    at: datetime
    version: int | None
    note: str

    def as_json(self) -> dict[str, Any]:
        return {"by": self.by, "by_id": self.by_id, "at": self.at.isoformat(),
                "version": self.version, "note": self.note}

    @classmethod
    def of(cls, dataset: Dataset) -> PublicationRequest | None:
        held = (dataset.extra or {}).get(REQUEST_KEY)
        if not isinstance(held, dict):
            return None
        return cls(by=str(held.get("by", "")), by_id=held.get("by_id"),
                   at=datetime.fromisoformat(str(held["at"])), version=held.get("version"),
                   note=str(held.get("note", "")))


@dataclass
class PublicationStatus:
    dataset: Dataset
    public: bool
    latest: DatasetVersion | None
    versions: list[DatasetVersion]
    missing: list[str]
    blockers: list[str]
    request: PublicationRequest | None
    can_prepare: bool
    can_publish: bool
    licence_id: str | None = None
    notes: list[str] = field(default_factory=list)
    # The personal-data gate's reasons against the latest version (part of `blockers`):
    # while there are any, the version cannot be sent for review.
    gate: list[str] = field(default_factory=list)

    @property
    def ready(self) -> bool:
        return not self.missing and not self.blockers

    def as_dict(self) -> dict[str, Any]:
        return {
            "dataset": self.dataset.slug,
            "public": self.public,
            "access_level": self.dataset.access_level.value,
            "lifecycle_stage": self.dataset.lifecycle_stage.value,
            "licence": self.licence_id,
            "latest_version": self.latest.number if self.latest else None,
            "versions": len(self.versions),
            "ready": self.ready,
            "missing": self.missing,
            "blockers": self.blockers,
            "request": self.request.as_json() if self.request else None,
            "can_prepare": self.can_prepare,
            "can_publish": self.can_publish,
        }


def status(session: Session, principal: Principal, dataset: Dataset,
           settings: Settings | None = None) -> PublicationStatus:
    """Where the dataset stands: versions, what is missing, what blocks, who may act
    (with settings, the latest version is scanned for personal data if it never was)."""
    require(can_read_dataset(principal, dataset), principal, "lire ce jeu de données")
    all_versions = versions.list_versions(session, dataset)
    latest = all_versions[0] if all_versions else None
    gate = personal_data_blockers(session, latest, settings) if latest is not None else []
    return PublicationStatus(
        dataset=dataset, public=is_public(dataset), latest=latest, versions=all_versions,
        missing=missing_metadata(dataset, latest),
        blockers=blockers(session, dataset, latest, settings, gate), gate=gate,
        request=PublicationRequest.of(dataset),
        can_prepare=can_edit_dataset(principal, dataset),
        can_publish=can_publish(principal, dataset),
        licence_id=open_licence_id(dataset.licence),
    )


# ------------------------------------------------------------------ upload, preview, load


def plan_upload(path: Path | str,
                overrides: Overrides | Mapping[str, Any] | None = None
                ) -> tuple[IngestPlan, Overrides]:
    """Sniff the file with the user's corrections; return the plan and the corrections that
    still apply (a type equal to the detected one, or naming a column the file no longer has
    after another correction, is dropped). Nothing is written."""
    options = as_overrides(overrides)
    wanted = dict(options.types)
    base = options.model_copy(update={"types": {}})
    plan = sniff(path, base)
    detected = {c.name: c.type for c in plan.columns}
    by_source = {c.source_name: c.name for c in plan.columns}
    types = {}
    for column, type_ in wanted.items():
        name = column if column in detected else by_source.get(column)
        if name is not None and detected[name] != type_:
            types[name] = type_
    kept = base.model_copy(update={"types": types})
    if types:
        plan = sniff(path, kept)
    return plan, kept


def _change(session: Session, principal: Principal, dataset: Dataset, action: str,
            changes: dict[str, list[Any]], details: dict[str, Any]) -> None:
    session.add(DatasetChange(dataset_id=dataset.id, actor_id=principal.account_id,
                              actor_label=principal.label, action=action, changes=changes))
    audit.record(session, principal, f"dataset.{action}", f"dataset:{dataset.uid}",
                 {"slug": dataset.slug, **details})
    session.flush()


def record_preview(session: Session, principal: Principal, dataset: Dataset,
                   plan: IngestPlan, filename: str) -> None:
    """Write to the history that a file was sent and previewed (nothing else changes)."""
    require(can_edit_dataset(principal, dataset), principal,
            f"charger des données dans « {dataset.title} »")
    _change(session, principal, dataset, "data_previewed", {"file": [None, filename]},
            {"file": filename, "format": plan.format, "size_bytes": plan.size_bytes,
             "columns": len(plan.columns), "problems": len(plan.problems)})


def add_version(session: Session, settings: Settings, principal: Principal, dataset: Dataset,
                path: Path | str, overrides: Overrides | Mapping[str, Any] | None = None,
                *, filename: str | None = None, accept_rejects: bool = False) -> DatasetVersion:
    """Load the file as the dataset's next version (or return the latest one, `unchanged`,
    when the content is the same). A dataset already open keeps its gate: a version the
    personal-data gate blocks is refused and nothing is written."""
    require(can_edit_dataset(principal, dataset), principal,
            f"charger des données dans « {dataset.title} »")
    path = Path(path)
    options = as_overrides(overrides)
    if options.types:  # keep only real corrections (sniffing costs; done only then)
        _plan, options = plan_upload(path, options)
    name = Path(filename or path.name).name or path.name
    # A savepoint: a version refused (or failing) is undone, not the caller's other work.
    savepoint = session.begin_nested()
    try:
        with tempfile.TemporaryDirectory(prefix=".named-", dir=path.parent) as work:
            # Ingest records the file's name: give it the name the user sent, without a copy.
            named = Path(work) / name
            try:
                os.link(path, named)
            except OSError:
                shutil.copyfile(path, named)
            version = ingest(session, settings, principal, dataset, named, options,
                             accept_rejects=accept_rejects)
        # Scanned now, while the file is fresh, so the gate's answer is ready for the request.
        reasons = ([] if version.unchanged
                   else personal_data_blockers(session, version, settings))
    except BaseException:
        if savepoint.is_active:
            savepoint.rollback()
        raise
    if not (reasons and is_public(dataset)):
        savepoint.commit()
        return version
    target, relative = versions.version_path(settings, version), version.path
    savepoint.rollback()
    # The same content may be an older version's file: remove it only if it is no one's.
    if session.scalar(select(DatasetVersion.id).where(DatasetVersion.path == relative)
                      .limit(1)) is None:
        target.unlink(missing_ok=True)
    raise Invalid("Ce jeu de données est publié en données ouvertes : la nouvelle version "
                  "n'est pas chargée tant que le contrôle des données personnelles la "
                  "bloque.", errors=reasons)


# ------------------------------------------------------------------ request, publish


def request_publication(session: Session, principal: Principal, dataset: Dataset,
                        note: str = "", settings: Settings | None = None) -> PublicationRequest:
    """A referent (or anyone who may edit the dataset) asks for its publication."""
    require(can_edit_dataset(principal, dataset), principal,
            f"demander la publication de « {dataset.title} »")
    state = status(session, principal, dataset, settings)
    if state.public:
        raise Invalid("Ce jeu de données est déjà publié en données ouvertes.")
    if state.request is not None:
        raise Invalid(f"Une demande de publication est déjà en attente (faite par "
                      f"{state.request.by.split(' <')[0]}).")
    if state.missing:
        raise Invalid("La fiche n'est pas prête pour une publication en données ouvertes.",
                      errors=state.missing)
    if state.gate:
        raise Invalid(f"La version {state.latest.number if state.latest else ''} est bloquée "
                      "par le contrôle des données personnelles : elle ne peut pas être "
                      "soumise à la publication tant que le DPO n'a pas décidé ou que les "
                      f"colonnes ne sont pas anonymisées ({findings_link(dataset)}).",
                      errors=state.gate)
    note = " ".join(note.split())[:NOTE_MAX]
    request = PublicationRequest(by=principal.label, by_id=principal.account_id, at=now(),
                                 version=state.latest.number if state.latest else None,
                                 note=note)
    dataset.extra = {**(dataset.extra or {}), REQUEST_KEY: request.as_json()}
    changes: dict[str, list[Any]] = {"version": [None, request.version]}
    if note:
        changes["note"] = [None, note]
    _change(session, principal, dataset, "publication_requested", changes,
            {"version": request.version, "blockers": len(state.blockers)})
    # The chief data officers decide; an organisation without one has its administrators.
    deciders = (notifications.holders(session, dataset.organisation_id,
                                      [Role.CHIEF_DATA_OFFICER])
                or notifications.holders(session, dataset.organisation_id,
                                         [Role.ADMINISTRATOR]))
    notifications.notify(
        session, deciders, Kind.PUBLICATION_REQUESTED,
        f"Publication demandée : « {dataset.title} »", review_link(dataset),
        f"{principal.label.split(' <')[0]} demande la publication de la version "
        f"{request.version}." + (f" Message : {note}" if note else ""),
        skip=principal.account_id)
    return request


def review_link(dataset: Dataset) -> str:
    """The back-office page where the approver reviews the version to publish."""
    return f"/admin/inventaire/{dataset.slug}/publication/revue"


def findings_link(dataset: Dataset) -> str:
    """The back-office page where the DPO decides on the personal-data findings."""
    return f"/admin/inventaire/{dataset.slug}/donnees-personnelles"


def status_link(dataset: Dataset) -> str:
    return f"/admin/inventaire/{dataset.slug}/publication"


def _drop_request(dataset: Dataset) -> None:
    extra = dict(dataset.extra or {})
    extra.pop(REQUEST_KEY, None)
    dataset.extra = extra


def withdraw_request(session: Session, principal: Principal, dataset: Dataset) -> None:
    """The referent takes the request back."""
    require(can_edit_dataset(principal, dataset), principal,
            f"retirer la demande de publication de « {dataset.title} »")
    request = PublicationRequest.of(dataset)
    if request is None:
        raise Invalid("Aucune demande de publication n'est en attente.")
    _drop_request(dataset)
    _change(session, principal, dataset, "publication_withdrawn",
            {"version": [request.version, None]}, {"version": request.version})


def reject_request(session: Session, principal: Principal, dataset: Dataset,
                   reason: str) -> None:
    """The chief data officer or an administrator declines the request, saying why."""
    require(can_publish(principal, dataset), principal,
            f"refuser la publication de « {dataset.title} »")
    request = PublicationRequest.of(dataset)
    if request is None:
        raise Invalid("Aucune demande de publication n'est en attente.")
    reason = " ".join(reason.split())[:NOTE_MAX]
    if not reason:
        raise Invalid("Dites pourquoi la demande est refusée : le référent saura quoi corriger.")
    _drop_request(dataset)
    _change(session, principal, dataset, "publication_rejected",
            {"version": [request.version, None], "reason": [None, reason]},
            {"version": request.version, "reason": reason})
    if request.by_id is not None:
        notifications.notify(session, [request.by_id], Kind.PUBLICATION_REFUSED,
                             f"Publication refusée : « {dataset.title} »",
                             status_link(dataset), f"Motif : {reason}",
                             skip=principal.account_id)


def publish(session: Session, principal: Principal, dataset: Dataset,
            settings: Settings | None = None) -> dict[str, list[Any]]:
    """Open the dataset: access level open, life-cycle stage published, the licence written
    by its id. Refused (Invalid, with every reason) while something is missing or blocks."""
    require(can_publish(principal, dataset), principal,
            f"publier « {dataset.title} » en données ouvertes")
    state = status(session, principal, dataset, settings)
    if state.public:
        raise Invalid("Ce jeu de données est déjà publié en données ouvertes.")
    if not state.ready:
        raise Invalid("Publication impossible pour l'instant.",
                      errors=[*state.missing, *state.blockers])
    data = inventory.dataset_input(dataset).model_copy(update={
        "access_level": AccessLevel.OPEN,
        "lifecycle_stage": LifecycleStage.PUBLISHED,
        "licence": state.licence_id,
    })
    _drop_request(dataset)
    changes = inventory.update_dataset(session, principal, dataset, data, action="published")
    audit.record(session, principal, "dataset.publication", f"dataset:{dataset.uid}",
                 {"slug": dataset.slug, "version": state.latest.number if state.latest else None,
                  "requested_by": state.request.by if state.request else None})
    session.flush()
    if state.request is not None and state.request.by_id is not None:
        notifications.notify(session, [state.request.by_id], Kind.PUBLICATION_DONE,
                             f"Publié : « {dataset.title} »", status_link(dataset),
                             skip=principal.account_id)
    return changes


def unpublish(session: Session, principal: Principal, dataset: Dataset) -> dict[str, list[Any]]:
    """Withdraw the dataset from the portal: back to internal (a restricted one stays
    restricted) and stored; versions stay."""
    require(can_publish(principal, dataset), principal, f"dépublier « {dataset.title} »")
    if dataset.lifecycle_stage != LifecycleStage.PUBLISHED:
        raise Invalid("Ce jeu de données n'est pas publié.")
    closed = dataset.access_level == AccessLevel.RESTRICTED
    data = inventory.dataset_input(dataset).model_copy(update={
        "access_level": AccessLevel.RESTRICTED if closed else AccessLevel.INTERNAL,
        "lifecycle_stage": LifecycleStage.STORED,
    })
    return inventory.update_dataset(session, principal, dataset, data, action="unpublished")


# ------------------------------------------------------------------ review


def baseline_version(session: Session, dataset: Dataset, version: DatasetVersion
                     ) -> DatasetVersion | None:
    """The version to compare `version` with before publishing it: the one that was last
    published (the newest version loaded before the last publication), else the previous one."""
    published_at = session.scalar(
        select(DatasetChange.at).where(DatasetChange.dataset_id == dataset.id,
                                       DatasetChange.action == "published")
        .order_by(DatasetChange.id.desc()).limit(1))
    query = select(DatasetVersion).where(DatasetVersion.dataset_id == dataset.id,
                                         DatasetVersion.number < version.number)
    if published_at is not None:
        found = session.scalar(query.where(DatasetVersion.created_at <= published_at)
                               .order_by(DatasetVersion.number.desc()).limit(1))
        if found is not None:
            return found
    return session.scalar(query.order_by(DatasetVersion.number.desc()).limit(1))


def changes_since(session: Session, settings: Settings, dataset: Dataset,
                  version: DatasetVersion) -> tuple[DatasetVersion | None, VersionDiff | None]:
    """What changed in `version` since its baseline (None, None for a first version)."""
    base = baseline_version(session, dataset, version)
    if base is None:
        return None, None
    return base, diff(settings, base, version)


@dataclass
class PendingRequest:
    dataset: Dataset
    request: PublicationRequest


def pending_requests(session: Session, principal: Principal) -> list[PendingRequest]:
    """Requests waiting for a decision the principal may take, oldest first."""
    asked = select(DatasetChange.dataset_id).where(
        DatasetChange.action == "publication_requested").distinct()
    found = []
    for dataset in session.scalars(select(Dataset).where(Dataset.id.in_(asked))):
        request = PublicationRequest.of(dataset)
        if request is not None and can_publish(principal, dataset):
            found.append(PendingRequest(dataset, request))
    return sorted(found, key=lambda p: p.request.at)
