"""Sobriety: data nobody reads, data stored twice, storage that keeps growing."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator, Mapping
from datetime import date, timedelta
from typing import Any

from patrimoine.charter.rules import links
from patrimoine.charter.rules.base import Result, Severity, failed, not_applicable, passed, rule
from patrimoine.charter.snapshot import Snapshot


@rule("sobriety.read_within_year", "Données stockées lues dans l'année", "sobriety",
      "Charte : sobriété numérique", Severity.INFO, days=365)
def read_within_year(snapshot: Snapshot, params: Mapping[str, Any]) -> Iterator[Result]:
    """A dataset holding data was read (viewed, downloaded, queried) in the last `days`
    days, or holds data stored for less than that. Entries without data are not judged."""
    limit = snapshot.today - timedelta(days=params["days"])
    first: dict[int, date] = {}
    for v in snapshot.versions:
        day = v.created_at.date()
        first[v.dataset_id] = min(first.get(v.dataset_id, day), day)
    for d in snapshot.datasets:
        item, label, link = f"dataset:{d.id}", f"Jeu « {d.title} »", links.dataset(d.slug)
        stored = first.get(d.id)
        read = snapshot.last_read.get(d.id)
        if stored is None:
            yield not_applicable(item, label, d.organisation_id, "Aucune donnée stockée.", link)
        elif read is not None and read > limit:
            yield passed(item, label, d.organisation_id, f"Lu le {read:%d/%m/%Y}.", link)
        elif read is None and stored > limit:
            yield passed(item, label, d.organisation_id,
                         f"Stocké depuis le {stored:%d/%m/%Y}, pas encore lu.", link)
        else:
            last = f"dernière lecture le {read:%d/%m/%Y}" if read else "jamais lu"
            yield failed(item, label, d.organisation_id,
                         f"Non lu depuis plus de {params['days']} jours ({last}, stocké depuis "
                         f"le {stored:%d/%m/%Y}).", link)


@rule("sobriety.no_duplicate_files", "Pas de fichier stocké en double", "sobriety",
      "Charte : sobriété numérique", Severity.INFO)
def no_duplicate_files(snapshot: Snapshot, params: Mapping[str, Any]) -> Iterator[Result]:
    """No version of a dataset has the same content as a version of another dataset."""
    holders: dict[str, set[int]] = defaultdict(set)
    hashes: dict[int, set[str]] = defaultdict(set)
    for v in snapshot.versions:
        holders[v.content_hash].add(v.dataset_id)
        hashes[v.dataset_id].add(v.content_hash)
    titles = {d.id: d.title for d in snapshot.datasets}
    for d in snapshot.datasets:
        item, label, link = f"dataset:{d.id}", f"Jeu « {d.title} »", links.dataset(d.slug)
        if d.id not in hashes:
            yield not_applicable(item, label, d.organisation_id, "Aucune donnée stockée.", link)
            continue
        others = sorted({titles.get(o, str(o)) for h in hashes[d.id] for o in holders[h]
                         if o != d.id})
        if others:
            yield failed(item, label, d.organisation_id,
                         "Contenu identique à : " + ", ".join(f"« {t} »" for t in others[:5])
                         + (" …" if len(others) > 5 else "."), link)
        else:
            yield passed(item, label, d.organisation_id, "Aucun contenu en double.", link)


@rule("sobriety.storage_growth", "Croissance du stockage maîtrisée", "sobriety",
      "Charte : sobriété numérique", Severity.INFO, max_growth_percent=50)
def storage_growth(snapshot: Snapshot, params: Mapping[str, Any]) -> Iterator[Result]:
    """What an organisation stores (its versions' files) grew by no more than
    `max_growth_percent` in the last twelve months. An organisation that stored nothing a
    year ago is not judged."""
    year_ago = snapshot.at - timedelta(days=365)
    org_of = {d.id: d.organisation_id for d in snapshot.datasets}
    before: dict[int, int] = defaultdict(int)
    total: dict[int, int] = defaultdict(int)
    for v in snapshot.versions:
        org = org_of[v.dataset_id]
        total[org] += v.size_bytes
        if v.created_at <= year_ago:
            before[org] += v.size_bytes
    for o in snapshot.organisations:
        item, label, link = f"organisation:{o.id}", o.name, links.organisation(o.slug)
        if not before[o.id]:
            yield not_applicable(item, label, o.id, "Rien n'était stocké il y a un an.", link)
            continue
        growth = 100 * (total[o.id] - before[o.id]) / before[o.id]
        text = f"{growth:.0f} % en douze mois ({_mb(before[o.id])} → {_mb(total[o.id])})"
        if growth > params["max_growth_percent"]:
            yield failed(item, label, o.id, f"Stockage en hausse de {text}, au-delà de "
                                            f"{params['max_growth_percent']} %.", link)
        else:
            yield passed(item, label, o.id, f"Stockage en hausse de {text}.", link)


def _mb(size: int) -> str:
    return f"{size / 1_000_000:.1f} Mo".replace(".", ",")
