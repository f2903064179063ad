"""The quality score of a dataset, with its reasons.

udata's nine criteria (data.gouv.fr's "qualité des métadonnées") plus three of ours:

| id | met when |
| --- | --- |
| licence | a licence is given |
| temporal_coverage | a start or an end of temporal coverage is given |
| spatial_coverage | a spatial coverage is given |
| update_frequency | the update frequency is known |
| updated_on_time | the last update is no older than the frequency allows (+10 %) |
| description | the description is longer than 100 characters |
| open_format | a version is published: it downloads as CSV, JSON, GeoJSON, Parquet |
| resources_available | the latest version's file is there (checked with settings) |
| documentation | a documentation link, or a declared Table Schema, documents the data |
| columns_documented | each column of the latest version has a description or a recognised meaning |
| schema_conformity | the latest version conforms to the declared schema |
| no_personal_data_findings | protection finds no unresolved personal data blocking publication |

A criterion that cannot be judged (met is None) says why and is left out of the score:
value = 100 × met / judged, rounded. Everything is computed in a few queries for many
datasets (`quality_scores`), for lists, facets and the annual report's catalog average.

The capabilities are read only through their `queries` modules (read-only records); the
datasets and versions given by callers are read through the fields named in `DatasetFields`
and `VersionFields`: an inventory row or a `DatasetFacts` record both do.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any, Protocol

from sqlalchemy.orm import Session

from patrimoine.access.principal import Principal
from patrimoine.core.clock import now
from patrimoine.core.settings import Settings
from patrimoine.datastore import queries as stored
from patrimoine.inventory import queries as inventory
from patrimoine.protection import queries as protection
from patrimoine.standards import queries as standards

DESCRIPTION_MIN = 100
LATE_MARGIN = 1.1  # an update is late past its frequency's period plus 10 %
OPEN_EXPORTS = "CSV, JSON, GeoJSON et Parquet"
NO_SCHEMA_REASON = "Aucun schéma de données n'est déclaré."
DOCUMENTATION_KEYS = ("documentation", "documentation_url", "landing_page", "page")

CRITERIA_TITLES = {
    "licence": "Licence",
    "temporal_coverage": "Couverture temporelle",
    "spatial_coverage": "Couverture spatiale",
    "update_frequency": "Fréquence de mise à jour",
    "updated_on_time": "Mise à jour à temps",
    "description": "Description détaillée",
    "open_format": "Format ouvert",
    "resources_available": "Ressources disponibles",
    "documentation": "Documentation",
    "columns_documented": "Colonnes documentées",
    "schema_conformity": "Conformité au schéma",
    "no_personal_data_findings": "Pas de données personnelles non traitées",
}
UDATA_CRITERIA = tuple(list(CRITERIA_TITLES)[:9])

BANDS = (("bonne", 75), ("moyenne", 50), ("faible", 0))
BAND_LABELS = {"bonne": "Bonne qualité (75 et plus)", "moyenne": "Qualité moyenne (50 à 74)",
               "faible": "Qualité faible (moins de 50)"}


@dataclass(frozen=True)
class Criterion:
    id: str
    met: bool | None  # None: cannot be judged (left out of the score)
    reason: str  # French

    @property
    def title(self) -> str:
        return CRITERIA_TITLES[self.id]

    def as_dict(self) -> dict[str, Any]:
        return {"id": self.id, "title": self.title, "met": self.met, "reason": self.reason,
                "udata": self.id in UDATA_CRITERIA}


@dataclass(frozen=True)
class Score:
    value: int  # 0 to 100
    criteria: list[Criterion] = field(default_factory=list)

    @property
    def band(self) -> str:
        return band_of(self.value)

    @property
    def met(self) -> int:
        return sum(1 for c in self.criteria if c.met)

    @property
    def judged(self) -> int:
        return sum(1 for c in self.criteria if c.met is not None)

    def as_dict(self) -> dict[str, Any]:
        return {"value": self.value, "band": self.band, "band_label": BAND_LABELS[self.band],
                "met": self.met, "judged": self.judged,
                "criteria": [c.as_dict() for c in self.criteria]}


def band_of(value: float) -> str:
    return next(name for name, floor in BANDS if value >= floor)


class DatasetFields(Protocol):
    """What the score reads of a dataset (`inventory.queries.DatasetFacts` has it all)."""

    @property
    def id(self) -> int: ...
    @property
    def licence(self) -> str | None: ...
    @property
    def temporal_start(self) -> date | None: ...
    @property
    def temporal_end(self) -> date | None: ...
    @property
    def spatial_coverage(self) -> str | None: ...
    @property
    def update_frequency(self) -> str: ...
    @property
    def updated_at(self) -> datetime: ...
    @property
    def description(self) -> str: ...
    @property
    def extra(self) -> Mapping[str, Any]: ...
    @property
    def contains_personal_data(self) -> bool | None: ...


class VersionFields(Protocol):
    """What the score reads of a version (`datastore.queries.VersionFacts` has it all)."""

    @property
    def id(self) -> int: ...
    @property
    def number(self) -> int: ...
    @property
    def path(self) -> str: ...
    @property
    def columns(self) -> Sequence[Mapping[str, Any]]: ...
    @property
    def created_at(self) -> datetime: ...
    @property
    def ingest_settings(self) -> Mapping[str, Any] | None: ...


# ---------------------------------------------------------------------------------------------
# Personal data: protection's publication gate
# ---------------------------------------------------------------------------------------------


def _personal_data(dataset: DatasetFields, version: VersionFields | None,
                   closed: Mapping[int, protection.Closed]) -> Criterion:
    """`closed`: the gate's verdict on the versions scored (a score never starts a scan:
    reading the data is protection's work, not a page's)."""
    cid = "no_personal_data_findings"
    if version is None:
        if dataset.contains_personal_data:
            return Criterion(cid, False, "La fiche indique des données personnelles ; aucune "
                                         "version publiée n'a pu être analysée.")
        return Criterion(cid, None, "Aucune version publiée à analyser.")
    verdict = closed.get(version.id)
    if verdict is not None and verdict.why == "unscanned":
        return Criterion(cid, None, f"Inconnu : la version {version.number} n'a pas encore été "
                                    "analysée (recherche de données personnelles).")
    if verdict is not None and verdict.blockers:
        blockers = verdict.blockers
        return Criterion(cid, False, f"{len(blockers)} constat(s) de données personnelles non "
                                     f"résolu(s) bloquent la publication de la version "
                                     f"{version.number} : {blockers[0]}")
    return Criterion(cid, True, f"Aucun constat de données personnelles non résolu sur la "
                                f"version {version.number}.")


# ---------------------------------------------------------------------------------------------
# Criteria
# ---------------------------------------------------------------------------------------------


def _licence(dataset: DatasetFields) -> Criterion:
    title = inventory.licence_title(dataset.licence)
    if title is None:
        return Criterion("licence", False, "Aucune licence n'est indiquée.")
    return Criterion("licence", True, f"Licence indiquée : {title}.")


def _temporal(dataset: DatasetFields) -> Criterion:
    start, end = dataset.temporal_start, dataset.temporal_end
    if not start and not end:
        return Criterion("temporal_coverage", False, "La couverture temporelle n'est pas "
                                                     "renseignée.")
    text = " ".join(x for x in (f"du {start:%d/%m/%Y}" if start else "",
                                f"au {end:%d/%m/%Y}" if end else "") if x)
    return Criterion("temporal_coverage", True, f"Couverture temporelle : {text}.")


def _spatial(dataset: DatasetFields) -> Criterion:
    if not dataset.spatial_coverage:
        return Criterion("spatial_coverage", False, "La couverture spatiale n'est pas "
                                                    "renseignée.")
    return Criterion("spatial_coverage", True,
                     f"Couverture spatiale : {dataset.spatial_coverage}.")


def _frequency(dataset: DatasetFields) -> Criterion:
    frequency = inventory.frequency(dataset.update_frequency)
    if not frequency.known:
        return Criterion("update_frequency", False, "La fréquence de mise à jour est inconnue.")
    return Criterion("update_frequency", True,
                     f"Fréquence de mise à jour : {frequency.label.lower()}.")


def _on_time(dataset: DatasetFields, version: VersionFields | None, at: datetime) -> Criterion:
    cid = "updated_on_time"
    frequency = inventory.frequency(dataset.update_frequency)
    name = frequency.label.lower()
    if not frequency.known:
        return Criterion(cid, False, "Sans fréquence connue, la fraîcheur ne peut être jugée.")
    days = frequency.days
    if days is None:  # irregular, punctual: no deadline to miss
        return Criterion(cid, True, f"Mise à jour {name} : pas d'échéance.")
    last, what = ((version.created_at, f"version {version.number} publiée")
                  if version is not None else (dataset.updated_at, "fiche modifiée"))
    limit = timedelta(days=days * LATE_MARGIN)
    age = at - last
    when = f"{last:%d/%m/%Y}"
    if age <= limit:
        return Criterion(cid, True, f"À jour : dernière mise à jour le {when} ({what}), "
                                    f"fréquence {name}.")
    late = (age - timedelta(days=days)).days
    return Criterion(cid, False, f"En retard de {late} jour(s) : dernière mise à jour le {when} "
                                 f"({what}) pour une fréquence {name}.")


def _description(dataset: DatasetFields) -> Criterion:
    size = len((dataset.description or "").strip())
    if size > DESCRIPTION_MIN:
        return Criterion("description", True, f"Description de {size} caractères.")
    if size == 0:
        return Criterion("description", False, "Aucune description.")
    return Criterion("description", False, f"Description trop courte : {size} caractères "
                                           f"(plus de {DESCRIPTION_MIN} attendus).")


def _open_format(version: VersionFields | None) -> Criterion:
    if version is None:
        return Criterion("open_format", False, "Aucune ressource publiée dans l'entrepôt.")
    return Criterion("open_format", True, f"La version {version.number} se télécharge en "
                                          f"{OPEN_EXPORTS}, formats ouverts.")


def _available(version: VersionFields | None, settings: Settings | None) -> Criterion:
    cid = "resources_available"
    if version is None:
        return Criterion(cid, False, "Aucune ressource publiée dans l'entrepôt.")
    if settings is None:
        return Criterion(cid, True, f"La version {version.number} est publiée.")
    if stored.has_file(settings, version.path):
        return Criterion(cid, True, f"Le fichier de la version {version.number} est disponible.")
    return Criterion(cid, False, f"Le fichier de la version {version.number} est introuvable.")


def _documentation(dataset: DatasetFields,
                   declaration: standards.Declaration | None) -> Criterion:
    extra = dataset.extra or {}
    link = next((str(extra[k]) for k in DOCUMENTATION_KEYS if extra.get(k)), None)
    if link:
        return Criterion("documentation", True, f"Documentation en ligne : {link}.")
    if declaration is not None:
        return Criterion("documentation", True, f"Les données suivent un schéma documenté : "
                                                f"{declaration.title}.")
    return Criterion("documentation", False, "Ni lien de documentation ni schéma de données "
                                             "déclaré.")


def _columns(dataset: DatasetFields, version: VersionFields | None,
             declaration: standards.Declaration | None) -> Criterion:
    cid = "columns_documented"
    if version is None or not version.columns:
        return Criterion(cid, False, "Aucune version publiée dont décrire les colonnes.")
    fields = declaration.field_descriptions if declaration is not None else {}
    described = {k: v for k, v in fields.items() if v}
    extra_columns = (dataset.extra or {}).get("columns") or {}
    if isinstance(extra_columns, dict):
        described.update({str(k): str(v) for k, v in extra_columns.items() if v})
    # A meaning recognised at load (core.meanings: SIRET with valid keys, code commune INSEE,
    # date…) says what the column holds, as a description would.
    meanings = (version.ingest_settings or {}).get("meanings") or {}
    by_meaning = {c["name"]: meanings[c["name"]]["label"] for c in version.columns
                  if c["name"] in meanings and not (
                      described.get(c["name"]) or described.get(str(c.get("source_name"))))}
    missing = [c.get("source_name") or c["name"] for c in version.columns
               if not (described.get(c["name"]) or described.get(str(c.get("source_name"))))
               and c["name"] not in by_meaning]
    total = len(version.columns)
    recognised = (f" ({len(by_meaning)} par le sens reconnu à leur chargement : "
                  + ", ".join(sorted(set(by_meaning.values()))) + ")") if by_meaning else ""
    if not missing:
        return Criterion(cid, True, f"Les {total} colonnes sont décrites{recognised}.")
    # French quotes hold their word with no-break spaces; an ellipsis ends the list alone.
    shown = ", ".join(f"«\u00a0{m}\u00a0»" for m in missing[:5]) + (
        " …" if len(missing) > 5 else ".")
    return Criterion(cid, False, f"{len(missing)} colonne(s) sur {total} sans description ni "
                                 f"sens reconnu : {shown}")


def _conformity(badge: standards.Conformity) -> Criterion:
    cid = "schema_conformity"
    if badge.status == standards.CONFORM:
        return Criterion(cid, True, f"La version {badge.version} est conforme au schéma "
                                    f"{badge.schema_title}.")
    if badge.status == standards.NOT_CONFORM:
        return Criterion(cid, False, f"La version {badge.version} n'est pas conforme au schéma "
                                     f"{badge.schema_title} ({badge.error_count} erreur(s)).")
    if badge.status == standards.NOT_CHECKED:
        return Criterion(cid, False, f"La conformité de la version {badge.version} au schéma "
                                     f"{badge.schema_title} n'a pas encore été vérifiée.")
    if badge.status == standards.NO_DATA:
        return Criterion(cid, False, f"Schéma {badge.schema_title} déclaré, mais aucune donnée "
                                     "publiée.")
    assert badge.status == standards.NO_SCHEMA
    return Criterion(cid, False, NO_SCHEMA_REASON)


# ---------------------------------------------------------------------------------------------
# Scores
# ---------------------------------------------------------------------------------------------


def quality_scores(session: Session, datasets: Sequence[DatasetFields],
                   settings: Settings | None = None,
                   shown: Mapping[int, VersionFields] | None = None) -> dict[int, Score]:
    """The score of each dataset (by id), reading versions, schemas and the gate in a few
    queries.

    `shown` (dataset id -> version) scores those versions instead of the latest ones: the
    portal passes the versions the public may read (a dataset left out has none)."""
    ids = [d.id for d in datasets]
    if not ids:
        return {}
    latest: Mapping[int, VersionFields]
    if shown is not None:
        latest = {i: v for i, v in shown.items() if i in set(ids)}
    else:
        latest = stored.latest_versions(session, ids)
    closed = protection.closed_versions(session, [v.id for v in latest.values()])
    declared = standards.schema_facts(session, ids, latest)
    at = now()
    scores: dict[int, Score] = {}
    for dataset in datasets:
        version = latest.get(dataset.id)
        facts = declared[dataset.id]
        criteria = [
            _licence(dataset), _temporal(dataset), _spatial(dataset), _frequency(dataset),
            _on_time(dataset, version, at), _description(dataset), _open_format(version),
            _available(version, settings), _documentation(dataset, facts.declaration),
            _columns(dataset, version, facts.declaration), _conformity(facts.conformity),
            _personal_data(dataset, version, closed),
        ]
        judged = [c for c in criteria if c.met is not None]
        value = round(100 * sum(1 for c in judged if c.met) / len(judged)) if judged else 0
        scores[dataset.id] = Score(value, criteria)
    return scores


def quality_score(session: Session, dataset: DatasetFields, settings: Settings | None = None,
                  shown: Mapping[int, VersionFields] | None = None) -> Score:
    """The score of one dataset, 0 to 100, with each criterion met or not and why."""
    return quality_scores(session, [dataset], settings, shown)[dataset.id]


def quality_bands(session: Session, datasets: Sequence[DatasetFields],
                  shown: Mapping[int, VersionFields] | None = None) -> dict[int, str]:
    """The band (bonne, moyenne, faible) of each dataset: the quality facet."""
    return {i: s.band for i, s in quality_scores(session, datasets, shown=shown).items()}


def band_counts(session: Session, datasets: Sequence[DatasetFields]) -> dict[str, int]:
    """How many datasets fall in each band, every band listed."""
    counts = {name: 0 for name, _ in BANDS}
    for band in quality_bands(session, datasets).values():
        counts[band] += 1
    return counts


@dataclass(frozen=True)
class CatalogQuality:
    datasets: int
    average: float | None  # None when the catalog is empty
    bands: dict[str, int]
    criteria_met: dict[str, int]  # criterion id -> datasets meeting it

    def as_dict(self) -> dict[str, Any]:
        return {"datasets": self.datasets, "average": self.average, "bands": self.bands,
                "criteria_met": self.criteria_met}


def catalog_quality(session: Session, principal: Principal | None = None,
                    datasets: Sequence[DatasetFields] | None = None,
                    batch: int = 500) -> CatalogQuality:
    """The catalog's average score (every dataset the principal may read, or those given),
    with the bands and how many datasets meet each criterion: a figure of the annual report."""
    if datasets is None:
        datasets = inventory.dataset_facts(session, principal=principal)
    total = 0
    count = 0
    bands = {name: 0 for name, _ in BANDS}
    met = {cid: 0 for cid in CRITERIA_TITLES}
    for start in range(0, len(datasets), batch):
        for score in quality_scores(session, datasets[start:start + batch]).values():
            total += score.value
            count += 1
            bands[score.band] += 1
            for c in score.criteria:
                if c.met:
                    met[c.id] += 1
    average = round(total / count, 1) if count else None
    return CatalogQuality(datasets=count, average=average, bands=bands, criteria_met=met)


def catalog_average(session: Session, principal: Principal | None = None) -> float | None:
    """The average quality score of the catalog, 0 to 100 (None when it is empty)."""
    return catalog_quality(session, principal).average
