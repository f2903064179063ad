"""JSON API of grants on restricted datasets."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path
from pydantic import BaseModel, Field

from patrimoine.core.clock import now
from patrimoine.core.db import DbInt
from patrimoine.grants import service as grants
from patrimoine.grants.models import DatasetGrant, GranteeKind
from patrimoine.inventory import service as inventory
from patrimoine.web.api.guards import api_write
from patrimoine.web.api.responses import ERRORS
from patrimoine.web.deps import LoggedInDep, SessionDep

router = APIRouter(prefix="/api/v1", tags=["accès aux données fermées"],
                   responses=ERRORS)

SlugPath = Annotated[str, Path(description="Identifiant (slug) du jeu de données.")]


class GrantIn(BaseModel):
    grantee_kind: GranteeKind = Field(description="account (un compte), organisation (tous "
                                      "ses membres) ou partner (un compte partenaire).")
    grantee: str = Field(description="Adresse électronique du compte, ou nom de l'organisation.")
    purpose: str = Field(description="Finalité de l'accès (obligatoire).")
    valid_from: datetime | None = Field(None, description="Début (maintenant par défaut), "
                                        "avec fuseau horaire.")
    valid_until: datetime = Field(description="Fin (exclue), avec fuseau horaire : l'accès "
                                  "cesse à cet instant.")
    row_filter: dict[str, Any] | str | None = Field(
        None, description="Lignes accessibles : arbre de filtres JSON de l'API de données "
                          "({\"column\": \"commune\", \"op\": \"eq\", \"value\": \"Lyon\"}, "
                          "{\"and\": [...]}, {\"or\": [...]}) ou lignes colonne:op:valeur.")
    hidden_columns: list[str] = Field(default_factory=list,
                                      description="Colonnes masquées au bénéficiaire.")


class RevokeIn(BaseModel):
    reason: str = Field("", description="Motif de la révocation.")


class GrantOut(BaseModel):
    id: int
    dataset: str
    grantee_kind: GranteeKind
    grantee: str
    account_id: int | None
    organisation_id: int | None
    purpose: str
    valid_from: datetime
    valid_until: datetime
    row_filter: dict[str, Any] | None
    hidden_columns: list[str]
    granted_by: str
    created_at: datetime
    revoked_at: datetime | None
    revoked_by: str | None
    revoke_reason: str | None
    state: str = Field(description="active, scheduled (à venir), expired ou revoked.")


def grant_out(grant: DatasetGrant, slug: str) -> GrantOut:
    return GrantOut(
        id=grant.id, dataset=slug, grantee_kind=grant.grantee_kind, grantee=grant.grantee_label,
        account_id=grant.account_id, organisation_id=grant.organisation_id,
        purpose=grant.purpose, valid_from=grant.valid_from, valid_until=grant.valid_until,
        row_filter=grant.row_filter, hidden_columns=list(grant.hidden_columns or []),
        granted_by=grant.granted_by_label, created_at=grant.created_at,
        revoked_at=grant.revoked_at, revoked_by=grant.revoked_by_label,
        revoke_reason=grant.revoke_reason, state=grant.state(now()),
    )


@router.get("/datasets/{slug}/grants", response_model=list[GrantOut],
            summary="Autorisations d'accès à un jeu restreint",
            description="Toutes les autorisations, des plus récentes aux plus anciennes "
                        "(administrateurs, administrateurs généraux des données et DPO de "
                        "l'organisation).")
def list_grants(slug: SlugPath, session: SessionDep, principal: LoggedInDep) -> list[GrantOut]:
    dataset = inventory.get_dataset(session, principal, slug)
    return [grant_out(g, dataset.slug) for g in grants.list_grants(session, principal, dataset)]


@router.post("/datasets/{slug}/grants", response_model=GrantOut, status_code=201,
             dependencies=[Depends(api_write)], summary="Donner un accès à un jeu restreint")
def create_grant(slug: SlugPath, data: GrantIn, session: SessionDep,
                 principal: LoggedInDep) -> GrantOut:
    dataset = inventory.get_dataset(session, principal, slug)
    grant = grants.create_grant(session, principal, dataset, grants.GrantInput(
        grantee_kind=data.grantee_kind, grantee=data.grantee, purpose=data.purpose,
        valid_from=data.valid_from, valid_until=data.valid_until, row_filter=data.row_filter,
        hidden_columns=data.hidden_columns))
    return grant_out(grant, dataset.slug)


@router.post("/datasets/{slug}/grants/{grant_id:int}/revoke", response_model=GrantOut,
             dependencies=[Depends(api_write)], summary="Révoquer un accès (effet immédiat)")
def revoke_grant(slug: SlugPath, grant_id: DbInt, data: RevokeIn, session: SessionDep,
                 principal: LoggedInDep) -> GrantOut:
    dataset = inventory.get_dataset(session, principal, slug)
    grant = grants.revoke_grant(session, principal, dataset, grant_id, data.reason)
    return grant_out(grant, dataset.slug)
