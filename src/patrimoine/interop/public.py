"""The public catalog as the standards see it: what anonymous visitors may read, with the
latest version of each dataset, its download formats and the stable identifiers built from
the dataset's `uid` (never from its slug or title, which may change).

Shared by the DCAT-AP catalog (dcat.py) and the CKAN-compatible API (ckan.py). What is public
is decided once, by the portal (`access.permissions.public_clause`) for an anonymous principal;
the CKAN API passes the principal of a caller's API token instead, who may see more.

Only public datasets with data are exported: an entry of the inventory with no version the
public may read stays on the portal's pages (and in the data-catalogue export) but is left out
of both DCAT and CKAN, so that every harvester sees the same set (data.gouv.fr's CKAN harvester
skips packages without resources; its DCAT harvester would keep them as empty datasets).

With the settings, each entry is described for harvesters (`describe`): the byte size and
sha256 of every download (computed once per version and format on the very bytes the download
serves, then kept under `{data_dir}/cache/distributions/`), the extent of its data
(interop/geography.py) and the Table Schema it declares.
"""

from __future__ import annotations

import hashlib
import json
import os
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import Select, func, or_, select
from sqlalchemy.orm import Session, selectinload

from patrimoine import __version__
from patrimoine.access.permissions import is_public, public_clause
from patrimoine.access.principal import Principal
from patrimoine.core.errors import NotFound
from patrimoine.core.settings import Settings
from patrimoine.datastore.models import DatasetVersion
from patrimoine.interop import geography
from patrimoine.inventory.models import Dataset, Organisation
from patrimoine.protection import gate
from patrimoine.reading import language
from patrimoine.reading.service import Purpose, open_for_reader
from patrimoine.standards import queries as standards
from patrimoine.standards import schemas

ANONYMOUS = Principal.anonymous()
# Resource ids are UUIDs derived from the dataset uid and the format (stable, never stored).
RESOURCE_NAMESPACE = uuid.UUID("0b5c3f0e-6a52-4d3e-9f7c-5d1f0c2a7e41")
FORMAT_LABELS = {"csv": "CSV", "json": "JSON", "ndjson": "NDJSON", "geojson": "GeoJSON",
                 "parquet": "Parquet", "xlsx": "XLSX"}


@dataclass(frozen=True)
class FileFacts:
    """What a harvester is told of a download: its exact length and sha256."""

    size: int
    sha256: str


@dataclass(frozen=True)
class SchemaRef:
    """The Table Schema a dataset declares, as harvesters name it: where it is published."""

    url: str
    title: str
    version: str | None


@dataclass
class PublicDataset:
    dataset: Dataset
    version: DatasetVersion | None
    # Filled by `describe` (with the settings): download facts by format, extent, schema.
    files: dict[str, FileFacts] = field(default_factory=dict)
    extent: geography.Box | None = None
    schema: SchemaRef | None = None

    @property
    def formats(self) -> list[str]:
        return export_formats(self.version) if self.version else []

    @property
    def modified(self) -> datetime:
        times = [aware(self.dataset.updated_at)]
        if self.version is not None:
            times.append(aware(self.version.created_at))
        return max(times)


def aware(value: datetime) -> datetime:
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def export_formats(version: DatasetVersion) -> list[str]:
    """The formats a version downloads in (GeoJSON only when it has positions or shapes)."""
    geo = bool(version.positions) or any(c["type"] == "geometry" for c in version.columns)
    return [f for f in language.FORMATS if f != "geojson" or geo]


def dataset_uuid(dataset: Dataset) -> str:
    """The dataset's uid written as a UUID (CKAN clients expect that shape)."""
    try:
        return str(uuid.UUID(hex=dataset.uid))
    except ValueError:
        return str(uuid.uuid5(RESOURCE_NAMESPACE, dataset.uid))


def resource_uuid(dataset: Dataset, fmt: str) -> str:
    return str(uuid.uuid5(RESOURCE_NAMESPACE, f"{dataset.uid}/{fmt}"))


def public_query(principal: Principal = ANONYMOUS) -> Select[Dataset]:
    return (select(Dataset).where(public_clause(principal))
            .options(selectinload(Dataset.organisation)))


def latest_versions(session: Session, datasets: list[Dataset],
                    settings: Settings | None = None,
                    principal: Principal = ANONYMOUS) -> dict[int, DatasetVersion]:
    """The newest version of each dataset that anonymous visitors may read: protection's
    gate (`gate.newest_readable_versions`) keeps back versions holding unresolved personal
    data, never scanned (scanned now when `settings` is given) or anonymised since."""
    return gate.newest_readable_versions(session, principal, datasets, settings)


def with_versions(session: Session, datasets: list[Dataset],
                  settings: Settings | None = None,
                  principal: Principal = ANONYMOUS) -> list[PublicDataset]:
    found = latest_versions(session, datasets, settings, principal)
    return [PublicDataset(d, found.get(d.id)) for d in datasets]


def _exported(session: Session, settings: Settings | None,
              principal: Principal = ANONYMOUS) -> list[PublicDataset]:
    """Public datasets with a version the public may read (with an API token: those the
    principal may see and read), in a stable order (creation)."""
    rows = list(session.scalars(public_query(principal).order_by(Dataset.id)))
    return [e for e in with_versions(session, rows, settings, principal)
            if e.version is not None]


def count(session: Session, settings: Settings | None = None) -> int:
    return len(_exported(session, settings))


def page(session: Session, offset: int, limit: int,
         settings: Settings | None = None) -> list[PublicDataset]:
    """One page of the exported datasets, for paged catalogs."""
    entries = _exported(session, settings)[offset:offset + limit]
    return describe(session, settings, entries) if settings is not None else entries


def everything(session: Session, settings: Settings | None = None,
               principal: Principal = ANONYMOUS) -> list[PublicDataset]:
    """Every exported dataset (public, with data), described when `settings` is given."""
    entries = _exported(session, settings, principal)
    return describe(session, settings, entries) if settings is not None else entries


def find(session: Session, ident: str, settings: Settings | None = None,
         principal: Principal = ANONYMOUS, *, described: bool = True) -> PublicDataset:
    """An exported dataset by slug, uid, or uid written as a UUID; NotFound otherwise (closed
    datasets are not found, so that their existence stays hidden, nor are those without data
    the public may read: they are not exported). Described (`describe`) when `settings` is
    given, unless `described` is false (a redirect needs no sizes)."""
    ident = ident.strip()
    keys = [ident]
    try:
        keys.append(uuid.UUID(ident).hex)
    except ValueError:
        pass
    dataset = session.scalar(public_query(principal).where(
        or_(Dataset.slug == ident, Dataset.uid.in_(keys))))
    entry = (with_versions(session, [dataset], settings, principal)[0] if dataset is not None
             else None)
    if entry is None or entry.version is None:
        raise NotFound(f"Jeu de données « {ident} » introuvable.")
    return describe(session, settings, [entry])[0] if settings and described else entry


# ------------------------------------------------------------ described for harvesters


def describe(session: Session, settings: Settings, entries: list[PublicDataset]
             ) -> list[PublicDataset]:
    """Fill each entry's download facts, extent and declared schema (see the module doc)."""
    shown = {e.dataset.id: e.version for e in entries if e.version is not None}
    facts = standards.schema_facts(session, list(shown), shown) if shown else {}
    for entry in entries:
        if entry.version is None:
            continue
        kept = None
        # Facts describe the public download: a dataset only a token shows is not measured.
        if is_public(entry.dataset):
            kept = _kept_facts(settings, entry.version)
            if kept is None or set(kept["files"]) != set(entry.formats):
                kept = _measure(session, settings, entry)
                _keep_facts(settings, entry.version, kept)
            entry.files = {fmt: FileFacts(**f) for fmt, f in kept["files"].items()}
        box = kept.get("positions") if kept else None
        entry.extent = (geography.Box(box[0], box[1], box[2], box[3], "positions des données")
                        if box else geography.organisation_territory(entry.dataset.organisation))
        found = facts.get(entry.dataset.id)
        entry.schema = _schema_ref(settings, entry, found.declaration) if found else None
    return entries


def _schema_ref(settings: Settings, entry: PublicDataset,
                declaration: standards.Declaration | None) -> SchemaRef | None:
    """Where the declared schema is published: a shipped schema's own `path` (the URL its
    publisher gives, the one schema.data.gouv.fr lists), else this portal's copy."""
    if declaration is None:
        return None
    if declaration.schema_name:
        try:
            shipped = schemas.get_schema(declaration.schema_name)
        except NotFound:
            shipped = None
        if shipped is not None:
            path = str(shipped.descriptor().get("path") or "")
            if path.startswith(("https://", "http://")):
                return SchemaRef(path, shipped.title, shipped.version)
    base = settings.public_url.rstrip("/")
    return SchemaRef(f"{base}/datasets/uid/{entry.dataset.uid}/schema.json", declaration.title,
                     None)


def _facts_path(settings: Settings, version: DatasetVersion) -> Path:
    return (settings.data_dir / "cache" / "distributions"
            / f"{version.content_hash}-{version.id}.json")


def _kept_facts(settings: Settings, version: DatasetVersion) -> dict[str, Any] | None:
    try:
        kept = json.loads(_facts_path(settings, version).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    # Exports may change from one release to the next: facts are remeasured then.
    return kept if isinstance(kept, dict) and kept.get("patrimoine") == __version__ else None


def _keep_facts(settings: Settings, version: DatasetVersion, facts: dict[str, Any]) -> None:
    path = _facts_path(settings, version)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.{uuid.uuid4().hex}.tmp")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp.write_text(json.dumps(facts), encoding="utf-8")
        os.replace(tmp, path)
    except OSError:  # nowhere to keep them: measured again next time
        tmp.unlink(missing_ok=True)


def download_request(version: DatasetVersion, fmt: str) -> language.ExportRequest:
    """The export a distribution's download URL serves: the whole version, as the export API
    builds it for a request without parameters (web/api/datastore.py)."""
    at = aware(version.created_at).astimezone(UTC).replace(microsecond=0)
    return language.ExportRequest(format=fmt, published=at)


def _measure(session: Session, settings: Settings, entry: PublicDataset) -> dict[str, Any]:
    """Stream each download once, as the anonymous public gets it, to measure it; and read
    the extent of the version's positions."""
    assert entry.version is not None
    readable = open_for_reader(session, settings, ANONYMOUS, entry.dataset,
                               entry.version.number,
                               Purpose("interop.describe", "/catalog", ""))
    files: dict[str, dict[str, Any]] = {}
    for fmt in entry.formats:
        result = readable.export(language.Query(), download_request(entry.version, fmt))
        digest, size = hashlib.sha256(), 0
        for chunk in result.chunks:
            digest.update(chunk)
            size += len(chunk)
        files[fmt] = {"size": size, "sha256": digest.hexdigest()}
    positions = None
    if entry.version.positions:
        lat, lon = entry.version.positions["lat"], entry.version.positions["lon"]
        metrics = [language.Metric(f, c) for c in (lat, lon) for f in ("min", "max")]
        row = readable.aggregate(language.Query(), [], metrics).rows[0]
        box = geography.positions_box((row[f"min_{lat}"], row[f"max_{lat}"]),
                                      (row[f"min_{lon}"], row[f"max_{lon}"]))
        positions = [box.west, box.south, box.east, box.north] if box else None
    return {"patrimoine": __version__, "files": files, "positions": positions}


def last_modified(session: Session) -> datetime | None:
    """When the public catalog last changed (an entry or a published version)."""
    entry = session.scalar(select(func.max(Dataset.updated_at)).where(public_clause(ANONYMOUS)))
    version = session.scalar(
        select(func.max(DatasetVersion.created_at))
        .join(Dataset, Dataset.id == DatasetVersion.dataset_id)
        .where(public_clause(ANONYMOUS)))
    times = [aware(t) for t in (entry, version) if t is not None]
    return max(times) if times else None


def first_issued(session: Session) -> datetime | None:
    """When the oldest public dataset was entered."""
    first = session.scalar(select(func.min(Dataset.created_at)).where(public_clause(ANONYMOUS)))
    return aware(first) if first is not None else None


def root_organisation(session: Session) -> Organisation | None:
    """The organisation at the top of the territory (the catalog's publisher)."""
    return session.scalar(select(Organisation).where(Organisation.parent_id.is_(None))
                          .order_by(Organisation.id).limit(1))
