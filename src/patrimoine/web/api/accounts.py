"""JSON API of the current account and its personal tokens."""

from __future__ import annotations

from fastapi import APIRouter, Depends
from pydantic import BaseModel

from patrimoine.access import service as accounts
from patrimoine.core.db import DbInt
from patrimoine.web.api.guards import api_write
from patrimoine.web.api.responses import ERRORS
from patrimoine.web.deps import LoggedInDep, SessionDep

router = APIRouter(prefix="/api/v1", tags=["comptes"], responses=ERRORS)


class MeOut(BaseModel):
    id: int
    email: str
    full_name: str
    is_superadmin: bool
    roles: list[dict[str, object]]


class TokenIn(BaseModel):
    name: str


class TokenOut(BaseModel):
    id: int
    name: str
    prefix: str
    token: str | None = None


@router.get("/me", response_model=MeOut, summary="Le compte authentifié")
def me(session: SessionDep, principal: LoggedInDep) -> MeOut:
    account = accounts.get_account(session, principal.account_id or 0)
    return MeOut(
        id=account.id, email=account.email, full_name=account.full_name,
        is_superadmin=account.is_superadmin,
        roles=[{"organisation_id": m.organisation_id, "role": m.role.value,
                "department_id": m.department_id} for m in account.memberships],
    )


@router.post("/tokens", response_model=TokenOut, status_code=201,
             dependencies=[Depends(api_write)], summary="Créer un jeton d'API (montré une fois)")
def create_token(data: TokenIn, session: SessionDep, principal: LoggedInDep) -> TokenOut:
    account = accounts.get_account(session, principal.account_id or 0)
    token, secret = accounts.create_api_token(session, account, data.name)
    return TokenOut(id=token.id, name=token.name, prefix=token.prefix, token=secret)


@router.get("/tokens", response_model=list[TokenOut], summary="Mes jetons d'API")
def list_tokens(session: SessionDep, principal: LoggedInDep) -> list[TokenOut]:
    account = accounts.get_account(session, principal.account_id or 0)
    return [TokenOut(id=t.id, name=t.name, prefix=t.prefix)
            for t in accounts.list_api_tokens(session, account) if t.revoked_at is None]


@router.delete("/tokens/{token_id:int}", status_code=204, dependencies=[Depends(api_write)],
               summary="Révoquer un jeton")
def revoke_token(token_id: DbInt, session: SessionDep, principal: LoggedInDep) -> None:
    account = accounts.get_account(session, principal.account_id or 0)
    accounts.revoke_api_token(session, account, token_id)
