"""Retention: every register entry says how long its data are kept, and data past their
retention period are eliminated (or archived) or awaiting the archives' visa."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator, Mapping
from datetime import date
from typing import Any

from patrimoine.charter.rules import links
from patrimoine.charter.rules.base import Result, Severity, failed, not_applicable, passed, rule
from patrimoine.charter.snapshot import Snapshot


@rule("retention.rule_everywhere", "Chaque traitement a une durée de conservation",
      "retention", "RGPD, articles 5.1.e et 30.1.f", Severity.MAJOR)
def rule_everywhere(snapshot: Snapshot, params: Mapping[str, Any]) -> Iterator[Result]:
    """Each entry of the register of processing activities states at least one retention
    rule (a duration, its starting event and the final fate). Drafts are not judged."""
    for a in snapshot.activities:
        item, label, link = f"activity:{a.id}", f"Traitement {a.reference} « {a.name} »", \
            links.activity(a.id)
        if a.draft:
            yield not_applicable(item, label, a.organisation_id, "Traitement en projet.", link)
        elif a.retention_rules:
            yield passed(item, label, a.organisation_id,
                         f"{len(a.retention_rules)} règle(s) de conservation.", link)
        else:
            yield failed(item, label, a.organisation_id,
                         "Aucune durée de conservation n'est indiquée.", link)


@rule("retention.past_due_handled",
      "Données échues éliminées, versées ou en attente du visa des Archives", "retention",
      "Code du patrimoine, articles L212-2 et R212-14 ; RGPD, article 5.1.e",
      Severity.CRITICAL)
def past_due_handled(snapshot: Snapshot, params: Mapping[str, Any]) -> Iterator[Result]:
    """A dataset whose own retention rule has run out (counted from each version's creation,
    from the newest version, or from the dated event) no longer holds the expired data,
    was transferred to the archives, or is listed on an elimination slip awaiting or holding
    the archives director's visa. Rules judged row by row on a date column are left to the
    retention plan."""
    created: dict[int, list[date]] = defaultdict(list)
    for v in snapshot.versions:
        created[v.dataset_id].append(v.created_at.date())
    slips: dict[int, list[str]] = defaultdict(list)
    for s in snapshot.slip_items:
        if s.pending:
            slips[s.dataset_id].append(s.slip_reference)
    for d in snapshot.datasets:
        item, label, link = f"dataset:{d.id}", f"Jeu « {d.title} »", \
            links.dataset_retention(d.slug)
        r = snapshot.dataset_rules.get(d.id)
        days = created.get(d.id)
        if r is None:
            yield not_applicable(item, label, d.organisation_id,
                                 "Pas de règle de conservation propre au jeu.", link)
            continue
        if not days:
            yield not_applicable(item, label, d.organisation_id,
                                 "Aucune donnée stockée.", link)
            continue
        if r.row_level:
            yield not_applicable(item, label, d.organisation_id,
                                 "Règle appliquée ligne à ligne : jugée par le plan de "
                                 "conservation.", link)
            continue
        if r.awaits_event:
            yield not_applicable(item, label, d.organisation_id,
                                 "Date de l'événement de départ non renseignée.", link)
            continue
        due = r.due_on(min(days), max(days))
        if due > snapshot.today:
            yield passed(item, label, d.organisation_id,
                         f"Durée de conservation courant jusqu'au {due:%d/%m/%Y}.", link)
        elif r.archived and r.transferred_at is not None:
            yield passed(item, label, d.organisation_id,
                         f"Versé aux Archives le {r.transferred_at:%d/%m/%Y}.", link)
        elif slips.get(d.id):
            yield passed(item, label, d.organisation_id,
                         f"Échu le {due:%d/%m/%Y}, en attente d'élimination (bordereau "
                         f"{', '.join(sorted(slips[d.id]))}).", link)
        else:
            yield failed(item, label, d.organisation_id,
                         f"Durée de conservation échue le {due:%d/%m/%Y} : les données sont "
                         "toujours là, sans bordereau d'élimination ni versement.", link)
