"""Setting and reading a dataset's retention rule (recorded in the dataset's history)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from patrimoine.access import audit
from patrimoine.access.permissions import can_edit_dataset, require
from patrimoine.access.principal import Principal
from patrimoine.core.clock import now
from patrimoine.core.errors import Invalid
from patrimoine.datastore import versions as store
from patrimoine.datastore.ingest.names import normalise_names
from patrimoine.inventory.models import Dataset, DatasetChange
from patrimoine.retention.models import DatasetRetention
from patrimoine.retention.rules import RetentionRule, parse_rule


def rule_of(session: Session, dataset: Dataset) -> DatasetRetention | None:
    return session.scalar(select(DatasetRetention).where(DatasetRetention.dataset_id == dataset.id))


def rule_json(own: DatasetRetention | None) -> dict[str, Any] | None:
    if own is None:
        return None
    rule = own.rule()
    return {**rule.model_dump(mode="json"), "description": rule.describe(),
            "transferred_at": own.transferred_at.isoformat() if own.transferred_at else None,
            "set_by": own.set_by, "updated_at": own.updated_at.isoformat()}


def _stored_column(session: Session, dataset: Dataset, column: str) -> str:
    """The column as the stored data names it (names are normalised on ingest)."""
    latest = store.latest_version(session, dataset)
    if latest is None:
        return column
    names = latest.column_names()
    if column in names:
        return column
    normalised = normalise_names([column])[0]
    if normalised in names:
        return normalised
    raise Invalid(f"La colonne « {column} » n'existe pas dans la dernière version de "
                  f"« {dataset.title} ».", errors=[f"Colonnes : {', '.join(names)}."])


def set_rule(session: Session, principal: Principal, dataset: Dataset,
             data: dict[str, Any] | RetentionRule) -> DatasetRetention:
    require(can_edit_dataset(principal, dataset), principal,
            f"régler la conservation de « {dataset.title} »")
    rule = data if isinstance(data, RetentionRule) else parse_rule(data)
    if rule.date_column:
        rule = rule.model_copy(update={"date_column": _stored_column(session, dataset,
                                                                     rule.date_column)})
    own = rule_of(session, dataset)
    before = own.rule().describe() if own else None
    if own is None:
        own = DatasetRetention(dataset_id=dataset.id)
        session.add(own)
    own.duration, own.unit, own.start_event = rule.duration, rule.unit, rule.start_event
    own.final_fate, own.event_date = rule.final_fate, rule.event_date
    own.date_column, own.legal_reference = rule.date_column, rule.legal_reference
    own.anonymisation = list(rule.anonymisation)
    own.set_by, own.updated_at = principal.label, now()
    session.flush()
    after = rule.describe()
    if before != after:
        session.add(DatasetChange(dataset_id=dataset.id, actor_id=principal.account_id,
                                  actor_label=principal.label, action="retention_rule",
                                  changes={"Conservation": [before, after]}))
        audit.record(session, principal, "retention.rule_set", f"dataset:{dataset.uid}",
                     {"slug": dataset.slug, "rule": rule.model_dump(mode="json")})
    return own


def clear_rule(session: Session, principal: Principal, dataset: Dataset) -> None:
    require(can_edit_dataset(principal, dataset), principal,
            f"régler la conservation de « {dataset.title} »")
    own = rule_of(session, dataset)
    if own is None:
        raise Invalid(f"« {dataset.title} » n'a pas de règle de conservation propre.")
    before = own.rule().describe()
    session.delete(own)
    session.add(DatasetChange(dataset_id=dataset.id, actor_id=principal.account_id,
                              actor_label=principal.label, action="retention_rule",
                              changes={"Conservation": [before, None]}))
    audit.record(session, principal, "retention.rule_cleared", f"dataset:{dataset.uid}",
                 {"slug": dataset.slug})
