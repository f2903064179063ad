"""Give, revoke and list grants on restricted datasets; the scope a reader gets from them.

Rules (the decision of who may read is in access/permissions.py):
- only restricted datasets take grants (open data needs none; internal data is read by the
  organisation's staff and shown on the portal, which applies no grant scope);
- a grant names one grantee: an account, a partner account (an account holding the partner
  role somewhere), or every member of an organisation;
- a purpose is required; the grant applies from `valid_from` (now by default) to
  `valid_until` (required, exclusive): at that instant it stops working;
- it may limit the rows (a filter in the datastore's grammar, checked against the columns
  of the latest version) and hide columns (which then cannot be read, filtered, sorted,
  grouped or searched): `read_scope` says what a reader gets, reading/service.py applies it;
- when several grants apply to the same reader, the reader gets the rows of any of them
  and only the columns that every one of them shows (so no grant reveals a column another
  one hides);
- creating and revoking are written to the audit log.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from patrimoine.access import audit
from patrimoine.access.models import Account, Role
from patrimoine.access.permissions import (
    can_grant,
    can_view_grants,
    grant_clause,
    reads_by_role,
    require,
)
from patrimoine.access.principal import Principal
from patrimoine.core.clock import now
from patrimoine.core.errors import Forbidden, Invalid, NotFound
from patrimoine.datastore import query as queries
from patrimoine.datastore import versions
from patrimoine.datastore.engine import Column
from patrimoine.grants.models import GRANTEE_LABELS, DatasetGrant, GranteeKind
from patrimoine.inventory import service as inventory
from patrimoine.inventory.models import AccessLevel, Dataset

MAX_PURPOSE = 2000


@dataclass
class GrantInput:
    grantee_kind: GranteeKind | str
    grantee: str  # e-mail of the account, or name / slug of the organisation
    purpose: str
    valid_until: datetime
    valid_from: datetime | None = None  # None: now
    # A JSON filter tree, or lines `colonne:op:valeur` that must all hold; None/"" = all rows.
    row_filter: str | dict[str, Any] | None = None
    hidden_columns: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class ReadScope:
    """What a grantee may see of a dataset: some rows, not some columns; the grants that
    give it and their stated purposes (what the audit log records of a read)."""

    grant_ids: tuple[int, ...]
    rows: queries.Filter | None
    hidden: frozenset[str]
    purposes: tuple[str, ...] = ()

    @property
    def key(self) -> str:
        body = json.dumps([self.grant_ids, queries.filter_tree(self.rows) if self.rows else None,
                           sorted(self.hidden)], default=str, ensure_ascii=False)
        return hashlib.sha256(body.encode()).hexdigest()[:16]


# --------------------------------------------------------------------------- parsing


def parse_row_filter(value: str | dict[str, Any] | None) -> queries.Filter | None:
    """A JSON tree ({"and": [...]}, {"column": …}) or one `colonne:op:valeur` per line."""
    if value is None:
        return None
    if isinstance(value, dict):
        return queries.parse_filter_json(json.dumps(value))
    text = value.strip()
    if not text:
        return None
    if text.startswith("{"):
        return queries.parse_filter_json(text)
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    return queries.build_filter(lines, [], None)


def _columns_of(session: Session, dataset: Dataset) -> list[Column] | None:
    latest = versions.latest_version(session, dataset)
    if latest is None:
        return None
    return [Column(c["name"], c["type"]) for c in latest.columns]


def _grantee(session: Session, kind: GranteeKind, name: str) -> tuple[int | None, int | None,
                                                                       str]:
    name = name.strip()
    if not name:
        raise Invalid("Indiquez à qui l'accès est donné.",
                      errors=["Bénéficiaire : l'adresse électronique du compte, ou le nom de "
                              "l'organisation."])
    if kind == GranteeKind.ORGANISATION:
        org = inventory.find_organisation(session, name)
        if org is None:
            raise Invalid(f"Organisation « {name} » introuvable.")
        return None, org.id, org.name
    account = session.scalar(select(Account).where(func.lower(Account.email) == name.lower()))
    if account is None or not account.is_active:
        raise Invalid(f"Aucun compte actif n'a l'adresse « {name} ».")
    if kind == GranteeKind.PARTNER and not any(m.role == Role.PARTNER
                                               for m in account.memberships):
        raise Invalid(f"Le compte « {account.email} » n'a le rôle de partenaire dans aucune "
                      "organisation : choisissez « Compte ».")
    return account.id, None, f"{account.full_name} <{account.email}>"


def _kind(value: GranteeKind | str) -> GranteeKind:
    try:
        return GranteeKind(value)
    except ValueError as exc:
        raise Invalid(f"Type de bénéficiaire « {value} » inconnu.",
                      errors=["Types : account (compte), organisation, partner "
                              "(compte partenaire)."]) from exc


# ------------------------------------------------------------------------ operations


def create_grant(session: Session, principal: Principal, dataset: Dataset,
                 data: GrantInput) -> DatasetGrant:
    """Give a grant on a restricted dataset (administrators and chief data officers of its
    organisation). Checked: purpose, dates, grantee, filter and columns against the latest
    version. Audited."""
    require(can_grant(principal, dataset), principal,
            "donner des accès à ce jeu de données")
    if dataset.access_level != AccessLevel.RESTRICTED:
        raise Invalid("Seuls les jeux de données à accès restreint reçoivent des autorisations "
                      "d'accès : les données ouvertes n'en ont pas besoin, les données internes "
                      "sont lues par les agents de l'organisation.")
    errors: list[str] = []
    kind = _kind(data.grantee_kind)
    purpose = (data.purpose or "").strip()
    if not purpose:
        errors.append("Finalité : indiquez pourquoi cet accès est donné (obligatoire).")
    elif len(purpose) > MAX_PURPOSE:
        errors.append(f"Finalité : {MAX_PURPOSE} caractères au plus.")
    start = data.valid_from or now()
    until = data.valid_until
    for label, moment in (("début", start), ("fin", until)):
        if moment.tzinfo is None:
            raise Invalid(f"La date de {label} doit préciser son fuseau horaire.")
    if until <= start:
        errors.append("Dates : la fin doit être postérieure au début.")
    elif until <= now():
        errors.append("Dates : la fin est déjà passée.")
    if errors:
        raise Invalid("L'autorisation n'est pas valide.", errors=errors)
    account_id, organisation_id, label = _grantee(session, kind, data.grantee)
    rows = parse_row_filter(data.row_filter)
    hidden = sorted({c.strip() for c in data.hidden_columns if c.strip()})
    columns = _columns_of(session, dataset)
    if columns is not None:
        names = {c.name for c in columns}
        unknown = [c for c in hidden if c not in names]
        if unknown:
            raise Invalid("Colonnes à masquer inconnues : " + ", ".join(unknown) + ".",
                          errors=["Colonnes de la dernière version : "
                                  + ", ".join(c.name for c in columns) + "."])
        if len(hidden) >= len(names):
            raise Invalid("Toutes les colonnes seraient masquées : laissez-en au moins une.")
        if rows is not None:
            queries.check_filter(columns, rows)
    grant = DatasetGrant(
        dataset_id=dataset.id, grantee_kind=kind, account_id=account_id,
        organisation_id=organisation_id, grantee_label=label, purpose=purpose,
        valid_from=start, valid_until=until,
        row_filter=queries.filter_tree(rows) if rows is not None else None,
        hidden_columns=hidden, granted_by_id=principal.account_id,
        granted_by_label=principal.label, created_at=now(),
    )
    session.add(grant)
    session.flush()
    audit.record(session, principal, "grant.create", f"dataset:{dataset.slug}", {
        "grant": grant.id, "grantee_kind": kind.value, "grantee": label, "purpose": purpose,
        "valid_from": start.isoformat(), "valid_until": until.isoformat(),
        "row_filter": grant.row_filter, "hidden_columns": hidden,
    })
    return grant


def get_grant(session: Session, dataset: Dataset, grant_id: int) -> DatasetGrant:
    grant = session.get(DatasetGrant, grant_id)
    if grant is None or grant.dataset_id != dataset.id:
        raise NotFound(f"Autorisation n° {grant_id} introuvable pour ce jeu de données.")
    return grant


def revoke_grant(session: Session, principal: Principal, dataset: Dataset, grant_id: int,
                 reason: str = "") -> DatasetGrant:
    """End a grant now (it stays listed, as revoked). Audited."""
    require(can_grant(principal, dataset), principal,
            "révoquer des accès à ce jeu de données")
    grant = get_grant(session, dataset, grant_id)
    if grant.revoked_at is not None:
        raise Invalid(f"L'autorisation n° {grant_id} est déjà révoquée.")
    grant.revoked_at = now()
    grant.revoked_by_label = principal.label
    grant.revoke_reason = reason.strip() or None
    audit.record(session, principal, "grant.revoke", f"dataset:{dataset.slug}",
                 {"grant": grant.id, "grantee": grant.grantee_label,
                  "reason": grant.revoke_reason})
    return grant


def list_grants(session: Session, principal: Principal, dataset: Dataset) -> list[DatasetGrant]:
    """Every grant of the dataset, newest first (its managers and its DPO)."""
    require(can_view_grants(principal, dataset), principal,
            "voir les accès à ce jeu de données")
    return list(session.scalars(select(DatasetGrant).where(DatasetGrant.dataset_id == dataset.id)
                                .order_by(DatasetGrant.created_at.desc(),
                                          DatasetGrant.id.desc())))


def active_grants(session: Session, principal: Principal, dataset: Dataset,
                  at: datetime | None = None) -> list[DatasetGrant]:
    """The grants through which `principal` reads `dataset` at `at` (now)."""
    return list(session.scalars(select(DatasetGrant).where(
        DatasetGrant.dataset_id == dataset.id, grant_clause(principal, at))
        .order_by(DatasetGrant.id)))


def read_scope(session: Session, principal: Principal, dataset: Dataset) -> ReadScope | None:
    """None when `principal` reads the whole dataset through a role; else the scope its
    active grants give (Forbidden when none applies)."""
    if reads_by_role(principal, dataset):
        return None
    grants = active_grants(session, principal, dataset) \
        if dataset.access_level == AccessLevel.RESTRICTED else []
    if not grants:
        raise Forbidden("Votre compte n'a pas d'autorisation en cours sur ce jeu de données.")
    filters: list[queries.Filter] = []
    every_row = False
    for grant in grants:
        if grant.row_filter is None:
            every_row = True
        else:
            filters.append(queries.parse_filter_json(json.dumps(grant.row_filter)))
    rows: queries.Filter | None = None
    if not every_row:
        rows = filters[0] if len(filters) == 1 else queries.Group("or", tuple(filters))
    hidden = frozenset().union(*(set(g.hidden_columns or ()) for g in grants))
    return ReadScope(tuple(g.id for g in grants), rows, hidden,
                     tuple(dict.fromkeys(g.purpose for g in grants)))


def describe_grantee(grant: DatasetGrant) -> str:
    return f"{GRANTEE_LABELS[grant.grantee_kind]} : {grant.grantee_label}"
