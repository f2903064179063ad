"""Read-only records of transparency for the tiers above (the charter): the register of
public algorithms, read in one query of columns."""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass

from sqlalchemy import select, true
from sqlalchemy.orm import Session

from patrimoine.core.vocabulary import label
from patrimoine.transparency.models import AlgorithmStatus, DocumentKind, PublicAlgorithm


@dataclass(frozen=True)
class AlgorithmFacts:
    id: int
    organisation_id: int
    reference: str
    name: str
    status: str  # AlgorithmStatus value
    automation: str  # Automation value
    decisions_per_year: int | None
    documents: Mapping[str, Mapping[str, str]]  # DocumentKind value -> {"url", ...}
    source_code_url: str | None

    @property
    def withdrawn(self) -> bool:
        return self.status == AlgorithmStatus.WITHDRAWN

    @property
    def published(self) -> bool:
        return self.status == AlgorithmStatus.PUBLISHED

    def missing_documents(self) -> list[str]:
        """The French names of the four documents it lacks (the source code's address stands
        for the commented source)."""
        return [label(k) for k in DocumentKind
                if not (self.documents.get(k.value) or {}).get("url")
                and not (k == DocumentKind.SOURCE and self.source_code_url)]


def algorithm_facts(session: Session, organisation_ids: Collection[int] | None = None
                    ) -> list[AlgorithmFacts]:
    a = PublicAlgorithm
    where = true() if organisation_ids is None else a.organisation_id.in_(list(organisation_ids))
    return [AlgorithmFacts(r.id, r.organisation_id, r.reference, r.name, str(r.status),
                           str(r.automation), r.decisions_per_year, dict(r.documents or {}),
                           r.source_code_url)
            for r in session.execute(
        select(a.id, a.organisation_id, a.reference, a.name, a.status, a.automation,
               a.decisions_per_year, a.documents, a.source_code_url)
        .where(where).order_by(a.id))]
