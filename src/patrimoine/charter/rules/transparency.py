"""Transparency: the algorithms behind individual decisions are published with their four
documents, as Nantes does."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from patrimoine.charter.rules import links
from patrimoine.charter.rules.base import Result, Severity, failed, not_applicable, passed, rule
from patrimoine.charter.snapshot import Snapshot


@rule("transparency.algorithms_published",
      "Algorithmes fondant des décisions individuelles publiés avec leurs quatre documents",
      "transparency", "CRPA, articles L311-3-1 et L312-1-3", Severity.MAJOR)
def algorithms_published(snapshot: Snapshot, params: Mapping[str, Any]) -> Iterator[Result]:
    """An algorithm of the register (each one grounds individual decisions) is published,
    with its functional description, its diagram, its technical document and its commented
    source code (a document or the code's address). Withdrawn ones are not judged."""
    for a in snapshot.algorithms:
        item, label, link = f"algorithm:{a.id}", f"Algorithme {a.reference} « {a.name} »", \
            links.algorithm(a.id)
        if a.withdrawn:
            yield not_applicable(item, label, a.organisation_id, "Algorithme retiré.", link)
            continue
        missing = a.missing_documents()
        if not a.published:
            yield failed(item, label, a.organisation_id, "Algorithme non publié.", link)
        elif missing:
            yield failed(item, label, a.organisation_id,
                         "Document(s) manquant(s) : " + ", ".join(missing).lower() + ".", link)
        else:
            yield passed(item, label, a.organisation_id,
                         "Publié avec ses quatre documents.", link)
