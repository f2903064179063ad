"""Open data and its quality: what the charter promises of every open dataset. The verdicts
come from the dataset's quality score (charter/quality.py), computed once in the snapshot.
The items are the open datasets only (open access and published): the others are not open
data, so these rules do not judge them at all (no result, rather than tens of thousands of
« sans objet »)."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from patrimoine.charter import quality
from patrimoine.charter.rules import links
from patrimoine.charter.rules.base import Result, Severity, failed, not_applicable, passed, rule
from patrimoine.charter.snapshot import Snapshot


def _by_criterion(snapshot: Snapshot, criterion: str, *, unjudged_na: bool = True,
                  na_reasons: tuple[str, ...] = ()) -> Iterator[Result]:
    for d in snapshot.datasets:
        score = snapshot.quality.get(d.id)
        if score is None or not d.is_open:
            continue
        item, label, link = f"dataset:{d.id}", f"Jeu « {d.title} »", links.dataset(d.slug)
        c = next(c for c in score.criteria if c.id == criterion)
        if c.met is None or c.reason in na_reasons:
            yield not_applicable(item, label, d.organisation_id, c.reason, link)
        elif c.met:
            yield passed(item, label, d.organisation_id, c.reason, link)
        else:
            yield failed(item, label, d.organisation_id, c.reason, link)


@rule("openness.no_undecided_personal_data",
      "Aucune donnée ouverte avec un constat de données personnelles non tranché", "openness",
      "RGPD, articles 5 et 6 ; CRPA, article L312-1-2", Severity.CRITICAL)
def no_undecided_personal_data(snapshot: Snapshot, params: Mapping[str, Any]
                               ) -> Iterator[Result]:
    """An open dataset's published version holds no personal-data finding still undecided
    (the publication gate's verdict). A version not yet scanned is not judged."""
    return _by_criterion(snapshot, "no_personal_data_findings")


@rule("openness.open_licence", "Données ouvertes sous licence ouverte", "openness",
      "CRPA, articles L323-2 et D323-2-1 (Licence Ouverte, ODbL)", Severity.MAJOR)
def open_licence(snapshot: Snapshot, params: Mapping[str, Any]) -> Iterator[Result]:
    """An open dataset names a licence of the official list: Licence Ouverte 2.0 or ODbL."""
    return _by_criterion(snapshot, "licence")


@rule("openness.described", "Données ouvertes décrites", "openness",
      "Charte : documentation des données publiées", Severity.WARNING)
def described(snapshot: Snapshot, params: Mapping[str, Any]) -> Iterator[Result]:
    """An open dataset has a description of more than 100 characters."""
    return _by_criterion(snapshot, "description")


@rule("openness.updated_on_time", "Données ouvertes mises à jour à la fréquence annoncée",
      "openness", "Charte : qualité et fraîcheur des données", Severity.WARNING)
def updated_on_time(snapshot: Snapshot, params: Mapping[str, Any]) -> Iterator[Result]:
    """An open dataset's latest version is no older than its declared update frequency allows
    (plus 10 %); an unknown frequency fails, irregular or punctual data pass."""
    return _by_criterion(snapshot, "updated_on_time")


@rule("openness.schema_conformity", "Données ouvertes conformes à leur schéma déclaré",
      "openness", "Charte : standards et interopérabilité (schema.data.gouv.fr)",
      Severity.MAJOR)
def schema_conformity(snapshot: Snapshot, params: Mapping[str, Any]) -> Iterator[Result]:
    """An open dataset that declares a Table Schema has its latest version validated and
    conforming to it. A dataset declaring no schema is not judged."""
    return _by_criterion(snapshot, "schema_conformity", na_reasons=(quality.NO_SCHEMA_REASON,))
