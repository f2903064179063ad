"""Sobriety figures: what is stored, what nobody reads, what is stored twice.

- volume per organisation: bytes of its versions' Parquet files, of the DuckDB layouts built
  from them (data_dir/cache/duckdb/<content hash>-v*.duckdb, counted for each organisation
  holding that content) and of its archives packages;
- datasets not read for a year: datasets holding data whose last read (portal daily counters
  `dataset_daily_usage`, views or downloads, and reads of the audit log) is older than 365
  days, or which were never read although their data is more than a year old;
- duplicates: identical content hashes across datasets, and inventory entries whose titles
  have the same words (accents, case, punctuation, small words and word order aside) or
  differ by one word among at least three shared.

The capabilities are read only through their `queries` modules (read-only records).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

from sqlalchemy.orm import Session

from patrimoine.access import audit
from patrimoine.core.clock import now
from patrimoine.core.settings import Settings
from patrimoine.core.text import tokens
from patrimoine.datastore import queries as stored
from patrimoine.inventory import queries as inventory
from patrimoine.retention import queries as retention
from patrimoine.usage import queries as usage

READ_ACTIONS = ("datastore.read", "dataset.read", "dataset.downloaded", "datastore.export")
STOP_WORDS = frozenset({"de", "des", "du", "la", "le", "les", "l", "d", "et", "en", "a", "au",
                        "aux", "un", "une", "par", "pour", "sur"})


@dataclass
class OrganisationVolume:
    organisation_id: int
    organisation: str
    datasets: int = 0
    versions: int = 0
    versions_bytes: int = 0
    cache_bytes: int = 0
    archives_bytes: int = 0

    @property
    def total_bytes(self) -> int:
        return self.versions_bytes + self.cache_bytes + self.archives_bytes


@dataclass
class Sobriety:
    volumes: list[OrganisationVolume] = field(default_factory=list)
    unread: list[dict[str, Any]] = field(default_factory=list)
    same_content: list[dict[str, Any]] = field(default_factory=list)
    similar_titles: list[dict[str, Any]] = field(default_factory=list)

    def as_json(self) -> dict[str, Any]:
        return {
            "volumes": [{"organisation_id": v.organisation_id, "organisation": v.organisation,
                         "datasets": v.datasets, "versions": v.versions,
                         "versions_bytes": v.versions_bytes, "cache_bytes": v.cache_bytes,
                         "archives_bytes": v.archives_bytes, "total_bytes": v.total_bytes}
                        for v in self.volumes],
            "unread": self.unread, "same_content": self.same_content,
            "similar_titles": self.similar_titles,
        }


def compute(session: Session, settings: Settings, organisation_ids: list[int] | None = None,
            today: date | None = None) -> Sobriety:
    today = today or now().date()
    result = Sobriety()
    organisations = {o.id: o for o in inventory.organisation_facts(session, organisation_ids)}
    entries = inventory.dataset_facts(session, organisation_ids=list(organisations))
    datasets = {d.id: d for d in entries}
    versions = stored.stored_versions(session, list(datasets))
    layouts = stored.layout_bytes(settings)
    archives = retention.archives_bytes(settings, [o.slug for o in organisations.values()])
    volumes = {oid: OrganisationVolume(oid, o.name) for oid, o in organisations.items()}
    hashes_of: dict[int, set[str]] = defaultdict(set)
    datasets_of: dict[int, set[int]] = defaultdict(set)
    oldest: dict[int, date] = {}
    for version in versions:
        org_id = datasets[version.dataset_id].organisation_id
        v = volumes[org_id]
        v.versions += 1
        v.versions_bytes += int(version.size_bytes)
        hashes_of[org_id].add(version.content_hash)
        datasets_of[org_id].add(version.dataset_id)
        day = version.created_at.date()
        oldest[version.dataset_id] = min(oldest.get(version.dataset_id, day), day)
    for org_id, v in volumes.items():
        v.datasets = len(datasets_of[org_id])
        v.cache_bytes = sum(layouts.get(h, 0) for h in hashes_of[org_id])
        v.archives_bytes = archives[organisations[org_id].slug]
    result.volumes = sorted(volumes.values(), key=lambda v: -v.total_bytes)
    result.unread = _unread(session, datasets, oldest, today)
    result.same_content = _same_content(datasets, versions)
    result.similar_titles = _similar_titles(entries)
    return result


def _unread(session: Session, datasets: dict[int, inventory.DatasetFacts], oldest: dict[int, date],
            today: date) -> list[dict[str, Any]]:
    if not oldest:
        return []
    year_ago = today - timedelta(days=365)
    last = usage.last_read(session, list(oldest))
    targets = {}
    for dataset_id in oldest:
        d = datasets[dataset_id]
        targets[f"dataset:{d.slug}"] = d.id
        targets[f"dataset:{d.uid}"] = d.id
    for target, at in audit.last_at(session, READ_ACTIONS, list(targets)).items():
        dataset_id = targets[target]
        day = at.date()
        last[dataset_id] = max(last.get(dataset_id, day), day)
    out = []
    for dataset_id, first in oldest.items():
        read = last.get(dataset_id)
        if (read is not None and read > year_ago) or (read is None and first > year_ago):
            continue
        d = datasets[dataset_id]
        out.append({"dataset": d.slug, "title": d.title, "organisation_id": d.organisation_id,
                    "last_read": read.isoformat() if read else None,
                    "stored_since": first.isoformat()})
    return sorted(out, key=lambda r: (r["last_read"] or "", r["title"]))


def _same_content(datasets: dict[int, inventory.DatasetFacts],
                  versions: Sequence[stored.StoredVersion]) -> list[dict[str, Any]]:
    groups: dict[str, set[tuple[str, str]]] = defaultdict(set)
    sizes: dict[str, int] = {}
    for version in versions:
        d = datasets[version.dataset_id]
        groups[version.content_hash].add((d.slug, d.title))
        sizes[version.content_hash] = int(version.size_bytes)
    return [{"content_hash": h, "size_bytes": sizes[h],
             "datasets": [{"dataset": s, "title": t} for s, t in sorted(members)]}
            for h, members in sorted(groups.items()) if len(members) > 1]


def _words(title: str) -> frozenset[str]:
    return frozenset(t for t in tokens(title) if t not in STOP_WORDS)


def _similar_titles(datasets: Sequence[inventory.DatasetFacts]) -> list[dict[str, Any]]:
    entries = [(d.slug, d.title, _words(d.title)) for d in datasets]
    # Alike: the same words, or one word added, removed or replaced among at least three. Then
    # each title less at most one word gives the same set, so titles are compared only within
    # the groups of one such set (each title in 1 + its number of words groups), not in pairs.
    groups: dict[frozenset[str], list[int]] = defaultdict(list)
    for i, (_, _, words) in enumerate(entries):
        if not words:
            continue
        groups[words].append(i)
        for w in words:
            if len(words) > 3:  # less one word, three or more remain to share
                groups[words - {w}].append(i)
    pairs: set[tuple[int, int]] = set()
    for members in groups.values():
        for x, i in enumerate(members):
            words = entries[i][2]
            for j in members[x + 1:]:
                other = entries[j][2]
                if words == other or (len(words - other) <= 1 and len(other - words) <= 1
                                      and len(words & other) >= 3):
                    pairs.add((i, j))
    return [{"a": {"dataset": entries[i][0], "title": entries[i][1]},
             "b": {"dataset": entries[j][0], "title": entries[j][1]},
             "same_words": entries[i][2] == entries[j][2]} for i, j in sorted(pairs)]
