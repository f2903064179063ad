"""What the public portal shows, and the catalog's search, facets, sorts and pages.

What is public (decided once, in `access.permissions.public_clause`):
- a dataset appears on the portal when its life-cycle stage is *published* and the visitor
  may read it (`permissions.readable_datasets`);
- restricted ("closed") datasets never appear on the portal, whoever asks, even once
  published: they stay in the back-office;
- anonymous visitors therefore see the published open datasets only; signed-in accounts
  also see the published internal datasets of their own organisations.

The catalog reads one light row per visible dataset (a few hundred to a few thousand for a
territory), then filters facets, counts and sorts in memory: every facet is disjunctive (its
counts ignore its own selection) at the cost of one query.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session, selectinload

from patrimoine.access.permissions import public_clause
from patrimoine.access.principal import Principal
from patrimoine.charter import quality
from patrimoine.core.errors import Invalid, NotFound
from patrimoine.core.settings import Settings
from patrimoine.datastore.models import DatasetVersion
from patrimoine.inventory import search
from patrimoine.inventory.licences import Licence, licence
from patrimoine.inventory.models import Dataset, Organisation
from patrimoine.protection import gate
from patrimoine.usage import service as usage

PER_PAGE = 20
SORTS = {
    "pertinence": "Pertinence",
    "date": "Mise à jour la plus récente",
    "nom": "Nom (A → Z)",
    "popularite": "Les plus consultés",
}
FACETS = {
    "theme": "Thématique",
    "organisation": "Organisation",
    "licence": "Licence",
    "format": "Format",
    "mot_cle": "Mot-clé",
    "carte": "Carte",
    "qualite": "Qualité",
    "donnees": "Données",
}
FORMAT_LABELS = {"csv": "CSV", "xlsx": "Excel (XLSX)", "xls": "Excel (XLS)", "ods": "ODS",
                 "json": "JSON", "ndjson": "NDJSON", "geojson": "GeoJSON", "parquet": "Parquet"}
MAP_VALUES = {"oui": "Avec carte", "non": "Sans carte"}
# An inventory entry the public may read but with no data yet: a "fiche sans données".
DATA_VALUES = {"oui": "Avec données", "non": "Fiche sans données"}
_MD_LINK = re.compile(r"!?\[([^\]]*)\]\([^)]*\)")
_MD_MARKS = re.compile(r"[#*_`>|]+|^\s*[-+]\s", re.MULTILINE)
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def get_public_dataset(session: Session, principal: Principal, slug: str) -> Dataset:
    """The dataset if the portal shows it to `principal`; NotFound otherwise (never
    Forbidden, so that a closed dataset's existence stays hidden)."""
    dataset = session.scalar(
        select(Dataset).where(Dataset.slug == slug, public_clause(principal))
        .options(selectinload(Dataset.organisation))
    )
    if dataset is None:
        raise NotFound(f"Jeu de données « {slug} » introuvable.")
    return dataset


def as_utc(value: datetime | None) -> datetime:
    """An aware datetime whatever the driver returns (naive values are UTC); None is 1970."""
    if value is None:
        return _EPOCH
    return value if value.tzinfo else value.replace(tzinfo=UTC)


@dataclass
class Entry:
    """One dataset as the catalog lists it."""

    id: int
    slug: str
    title: str
    organisation: str
    organisation_slug: str
    theme: str | None
    licence: Licence | None
    keywords: list[str]
    created_at: datetime
    modified: datetime
    format: str | None
    has_map: bool
    row_count: int | None
    popularity: int
    rank: float = 0.0
    description: str = ""
    dataset: Dataset | None = field(default=None, repr=False)
    version: DatasetVersion | None = field(default=None, repr=False)
    quality: str | None = None  # band of the quality score (standards.quality)

    @property
    def excerpt(self) -> str:
        """The description as plain text, cut at a word near 240 characters."""
        text = _MD_LINK.sub(r"\1", self.description)
        text = " ".join(_MD_MARKS.sub(" ", text).split())
        if len(text) <= 240:
            return text
        return text[:240].rsplit(" ", 1)[0] + "…"

    @property
    def has_data(self) -> bool:
        return self.version is not None

    @property
    def format_label(self) -> str | None:
        return FORMAT_LABELS.get(self.format, self.format.upper()) if self.format else None

    def values(self, facet: str) -> list[str]:
        """The facet values this entry has (as they appear in URLs)."""
        if facet == "theme":
            return [self.theme] if self.theme else []
        if facet == "organisation":
            return [self.organisation_slug]
        if facet == "licence":
            return [self.licence.id] if self.licence else []
        if facet == "format":
            return [self.format] if self.format else []
        if facet == "mot_cle":
            return self.keywords
        if facet == "carte":
            return ["oui" if self.has_map else "non"]
        if facet == "qualite":
            return [self.quality] if self.quality else []
        if facet == "donnees":
            return ["oui" if self.has_data else "non"]
        raise KeyError(facet)


def entries(session: Session, principal: Principal, q: str = "",
            settings: Settings | None = None) -> list[Entry]:
    """Every dataset the portal shows to `principal` (matching `q` when given), described by
    the newest version `principal` may read (protection's gate: of an open dataset, the
    public sees only versions without unresolved personal data)."""
    pop = usage.popularity()
    stmt = (
        select(Dataset, Organisation.name, Organisation.slug, pop.c.score)
        .join(Organisation, Organisation.id == Dataset.organisation_id)
        .outerjoin(pop, pop.c.dataset_id == Dataset.id)
        .where(public_clause(principal))
    )
    matches = search.ranked_matches(session, q)
    if matches is not None:
        sub = matches.subquery()
        stmt = stmt.join(sub, sub.c.id == Dataset.id).add_columns(sub.c.rank)
    rows = list(session.execute(stmt))
    shown = gate.newest_readable_versions(session, principal, [r[0] for r in rows], settings)
    out = []
    for row in rows:
        d: Dataset = row[0]
        version = shown.get(d.id)
        modified = max(as_utc(d.updated_at), as_utc(version.created_at if version else None))
        out.append(Entry(
            id=d.id, slug=d.slug, title=d.title, organisation=row[1], organisation_slug=row[2],
            theme=d.theme, licence=licence(d.licence), keywords=list(d.keywords or []),
            created_at=as_utc(d.created_at), modified=modified,
            format=((version.source_format if version else "") or "").lower() or None,
            has_map=bool(version is not None and version.positions),
            row_count=version.row_count if version else None, popularity=int(row[3] or 0),
            rank=float(row[4]) if matches is not None else 0.0, dataset=d, version=version,
        ))
    return out


@dataclass
class Selection:
    """What the visitor asked the catalog for, as read from the query string."""

    q: str = ""
    facets: dict[str, list[str]] = field(default_factory=dict)
    sort: str = ""
    page: int = 1

    @property
    def effective_sort(self) -> str:
        if self.sort in SORTS and (self.sort != "pertinence" or self.q.strip()):
            return self.sort
        return "pertinence" if self.q.strip() else "date"

    def selected(self, facet: str) -> list[str]:
        return self.facets.get(facet, [])


def parse_selection(params: Iterable[tuple[str, str]]) -> Selection:
    sel = Selection()
    for name, value in params:
        value = value.strip()
        if name == "q":
            sel.q = value[:200]
        elif name == "tri":
            if value and value not in SORTS:
                raise Invalid(f"Tri « {value} » inconnu : choisissez parmi "
                              f"{', '.join(SORTS)}.")
            sel.sort = value
        elif name == "page":
            try:
                sel.page = max(1, int(value or 1))
            except ValueError as exc:
                raise Invalid(f"Numéro de page « {value} » invalide.") from exc
        elif name in FACETS and value:
            chosen = sel.facets.setdefault(name, [])
            if value not in chosen:
                chosen.append(value)
    return sel


@dataclass
class FacetValue:
    value: str
    label: str
    count: int
    selected: bool


@dataclass
class Facet:
    name: str
    label: str
    values: list[FacetValue]

    @property
    def has_selection(self) -> bool:
        return any(v.selected for v in self.values)


@dataclass
class Result:
    selection: Selection
    items: list[Entry]
    total: int
    page: int
    per_page: int
    facets: list[Facet]
    sort: str

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.per_page))


def _matches(entry: Entry, sel: Selection, skip: str | None = None) -> bool:
    for name, wanted in sel.facets.items():
        if name == skip or not wanted:
            continue
        if not set(entry.values(name)) & set(wanted):
            return False
    return True


def _labeller(rows: list[Entry]) -> dict[str, Callable[[str], str]]:
    orgs = {e.organisation_slug: e.organisation for e in rows}
    licences = {e.licence.id: e.licence.title for e in rows if e.licence}
    return {
        "theme": lambda v: v,
        "organisation": lambda v: orgs.get(v, v),
        "licence": lambda v: licences.get(v, v),
        "format": lambda v: FORMAT_LABELS.get(v, v.upper()),
        "mot_cle": lambda v: v,
        "carte": lambda v: MAP_VALUES.get(v, v),
        "qualite": lambda v: quality.BAND_LABELS.get(v, v),
        "donnees": lambda v: DATA_VALUES.get(v, v),
    }


def _facets(rows: list[Entry], sel: Selection) -> list[Facet]:
    labels = _labeller(rows)
    out = []
    for name, title in FACETS.items():
        counts: Counter[str] = Counter()
        for entry in rows:
            if _matches(entry, sel, skip=name):
                counts.update(set(entry.values(name)))
        chosen = sel.selected(name)
        values = [FacetValue(v, labels[name](v), n, v in chosen) for v, n in counts.items()]
        values += [FacetValue(v, labels[name](v), 0, True) for v in chosen if v not in counts]
        values.sort(key=lambda f: (not f.selected, -f.count, f.label.casefold()))
        out.append(Facet(name, title, values))
    return out


def _sort(items: list[Entry], how: str) -> None:
    if how == "nom":
        items.sort(key=lambda e: e.title.casefold())
    elif how == "popularite":
        items.sort(key=lambda e: (-e.popularity, -e.modified.timestamp(), e.title.casefold()))
    elif how == "pertinence":
        items.sort(key=lambda e: (e.rank, -e.modified.timestamp()))
    else:
        items.sort(key=lambda e: (-e.modified.timestamp(), e.title.casefold()))


def load_descriptions(session: Session, items: list[Entry]) -> None:
    if not items:
        return
    found = dict((r[0], r[1]) for r in session.execute(
        select(Dataset.id, Dataset.description).where(Dataset.id.in_([e.id for e in items]))
    ))
    for entry in items:
        entry.description = found.get(entry.id) or ""


def add_quality(session: Session, rows: list[Entry], settings: Settings | None = None) -> None:
    """The band of each entry's quality score, judged on the version the entry shows."""
    datasets = [e.dataset for e in rows if e.dataset is not None]
    shown = {e.id: e.version for e in rows if e.version is not None}
    bands = {i: s.band for i, s in
             quality.quality_scores(session, datasets, settings, shown).items()}
    for entry in rows:
        entry.quality = bands.get(entry.id)


def search_catalog(session: Session, principal: Principal, sel: Selection,
                   per_page: int = PER_PAGE, settings: Settings | None = None) -> Result:
    """One page of the catalog under the visitor's search, facets and sort."""
    rows = entries(session, principal, sel.q, settings)
    add_quality(session, rows, settings)
    facets = _facets(rows, sel)
    items = [e for e in rows if _matches(e, sel)]
    how = sel.effective_sort
    _sort(items, how)
    pages = max(1, -(-len(items) // per_page))
    page = min(sel.page, pages)
    shown = items[(page - 1) * per_page: page * per_page]
    load_descriptions(session, shown)
    return Result(sel, shown, len(items), page, per_page, facets, how)


# ----------------------------------------------------------------------- summaries


@dataclass
class Count:
    value: str
    label: str
    count: int


@dataclass
class Summary:
    total: int
    without_data: int  # entries with no data yet, left out of the home page's lists
    themes: list[Count]
    organisations: list[Count]
    latest: list[Entry]
    most_used: list[Entry]
    with_map: int


def summary(session: Session, principal: Principal, size: int = 6,
            settings: Settings | None = None) -> Summary:
    """What the territory publishes, for the home page."""
    everything = entries(session, principal, settings=settings)
    rows = [e for e in everything if e.has_data]
    themes = Counter(e.theme for e in rows if e.theme)
    orgs = Counter(e.organisation_slug for e in rows)
    org_names = {e.organisation_slug: e.organisation for e in rows}
    latest = sorted(rows, key=lambda e: (-e.modified.timestamp(), e.title.casefold()))[:size]
    used = sorted((e for e in rows if e.popularity > 0),
                  key=lambda e: (-e.popularity, e.title.casefold()))[:size]
    load_descriptions(session, latest + used)
    return Summary(
        total=len(rows), without_data=len(everything) - len(rows),
        themes=[Count(t, t, n) for t, n in sorted(themes.items(), key=lambda i: (-i[1], i[0]))],
        organisations=[Count(s, org_names[s], n)
                       for s, n in sorted(orgs.items(), key=lambda i: (-i[1], org_names[i[0]]))],
        latest=latest, most_used=used, with_map=sum(1 for e in rows if e.has_map),
    )


@dataclass
class OrganisationCount:
    organisation: Organisation
    count: int


def organisations(session: Session, principal: Principal) -> list[OrganisationCount]:
    """Every organisation with the number of datasets the portal shows of it."""
    counts = dict((r[0], r[1]) for r in session.execute(
        select(Dataset.organisation_id, func.count(Dataset.id))
        .where(public_clause(principal)).group_by(Dataset.organisation_id)
    ))
    orgs = session.scalars(select(Organisation).order_by(Organisation.name))
    return [OrganisationCount(o, int(counts.get(o.id, 0))) for o in orgs]


def get_organisation(session: Session, slug: str) -> Organisation:
    org = session.scalar(select(Organisation).where(Organisation.slug == slug))
    if org is None:
        raise NotFound(f"Organisation « {slug} » introuvable.")
    return org


def organisation_entries(session: Session, principal: Principal, org: Organisation,
                         settings: Settings | None = None) -> list[Entry]:
    rows = [e for e in entries(session, principal, settings=settings)
            if e.organisation_slug == org.slug]
    _sort(rows, "nom")
    load_descriptions(session, rows)
    return rows


def feed_entries(session: Session, principal: Principal, limit: int = 50,
                 settings: Settings | None = None) -> list[Entry]:
    """The datasets most recently published or updated, newest first (for the Atom feed)."""
    rows = entries(session, principal, settings=settings)
    _sort(rows, "date")
    shown = rows[:limit]
    load_descriptions(session, shown)
    return shown

