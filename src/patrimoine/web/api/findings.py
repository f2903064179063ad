"""JSON API of personal-data findings, anonymisation and disclosure checks of a version.

The disclosure checks read the version through the reading service (reading/service.py):
the personal-data gate, the reader's grants and the audit log apply to them as to the
datastore's reads."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from pydantic import BaseModel, Field
from sqlalchemy.orm import Session

from patrimoine.access.permissions import can_view_findings, require
from patrimoine.access.principal import Principal
from patrimoine.core.db import DbInt
from patrimoine.datastore import versions
from patrimoine.datastore.models import DatasetVersion
from patrimoine.inventory import service as inventory
from patrimoine.inventory.models import Dataset
from patrimoine.protection.findings import anonymise as anon
from patrimoine.protection.findings import disclosure, service
from patrimoine.protection.gate import publication_blockers
from patrimoine.reading.service import Purpose, ReadableVersion, open_for_reader
from patrimoine.web.api.guards import api_write
from patrimoine.web.api.responses import ERRORS
from patrimoine.web.deps import PrincipalDep, SessionDep, prepare_layout, services

router = APIRouter(prefix="/api/v1", tags=["données personnelles"],
                   responses=ERRORS)

VERSION_PATH = "/datasets/{slug}/versions/{number:int}"


class DecisionIn(BaseModel):
    column: str = Field(description="Colonne du constat.")
    kind: str = Field(description="Nature : email, phone, nir, iban, name, address, "
                                  "birth_date, plate, position.")
    decision: str = Field(description="confirmed (donnée personnelle confirmée), not_personal "
                                      "(pas une donnée personnelle, DPO), accepted (publication "
                                      "acceptée avec motif, DPO).")
    reason: str = Field("", description="Motif, obligatoire pour not_personal et accepted.")


class PlanIn(BaseModel):
    operations: list[dict[str, Any]] = Field(description=(
        "Opérations, une par colonne : {\"op\": \"drop\", \"column\": \"nom\"} ; "
        "{\"op\": \"mask\", \"column\": \"nom\", \"keep_first\": 1, \"keep_last\": 1} ; "
        "{\"op\": \"pseudonymise\", \"column\": \"email\"} (pseudonymisation HMAC-SHA256 : "
        "les données restent personnelles) ; {\"op\": \"generalise\", \"column\": \"date\", "
        "\"level\": \"month\"|\"year\"|\"band\"|\"grid\"|\"department\", \"size\": N} "
        "(largeur des tranches ou maille de la grille en mètres)."))
    quasi_identifiers: list[str] = Field(default_factory=list, description=(
        "Quasi-identifiants désignés par le DPO (en plus des colonnes généralisées) : le "
        "k-anonymat de la version est calculé sur eux avant toute publication."))
    sensitive: str | None = Field(default=None, description=(
        "Colonne sensible (l-diversité vérifiée sur les classes des quasi-identifiants)."))


def _target(session: Session, principal: Principal, slug: str,
            number: int) -> tuple[Dataset, DatasetVersion]:
    dataset = inventory.get_dataset(session, principal, slug)
    return dataset, versions.get_version(session, dataset, number)


def _read(request: Request, session: Session, principal: Principal, dataset: Dataset | str,
          number: int, action: str) -> ReadableVersion:
    return open_for_reader(session, services(request).settings, principal, dataset, number,
                           Purpose(action, request.url.path, str(request.url.query)))


def _findings_out(request: Request, session: Session, dataset: Dataset,
                  version: DatasetVersion, views: list[service.FindingView]) -> dict[str, Any]:
    scan = service.scan_of(session, version)
    return {
        "dataset": dataset.slug, "version": version.number,
        "scanned_at": scan.scanned_at.isoformat() if scan else None,
        "sampled_rows": scan.sampled_rows if scan else 0,
        "row_count": version.row_count,
        "blockers": publication_blockers(session, version, services(request).settings),
        "findings": [v.to_dict() for v in views],
    }


@router.get(VERSION_PATH + "/findings", summary="Données personnelles détectées dans une "
            "version (analysée à la première demande)")
def list_findings(request: Request, slug: str, number: DbInt, session: SessionDep,
                  principal: PrincipalDep) -> dict[str, Any]:
    dataset, version = _target(session, principal, slug, number)
    views = service.list_findings(session, services(request).settings, principal, dataset,
                                  version)
    return _findings_out(request, session, dataset, version, views)


@router.post(VERSION_PATH + "/findings/scan", dependencies=[Depends(api_write)],
             summary="Analyser de nouveau la version (les décisions sont conservées)")
def rescan(request: Request, slug: str, number: DbInt, session: SessionDep,
           principal: PrincipalDep) -> dict[str, Any]:
    dataset, version = _target(session, principal, slug, number)
    require(can_view_findings(principal, dataset), principal,
            f"analyser les données de « {dataset.title} »")
    service.scan_version(session, services(request).settings, version, principal)
    return _findings_out(request, session, dataset, version, service.views(session, version))


@router.post(VERSION_PATH + "/findings/decisions", dependencies=[Depends(api_write)],
             summary="Confirmer ou écarter un constat (écarter : DPO, avec motif)")
def decide(request: Request, slug: str, number: DbInt, data: DecisionIn, session: SessionDep,
           principal: PrincipalDep) -> dict[str, Any]:
    dataset, version = _target(session, principal, slug, number)
    service.ensure_scanned(session, services(request).settings, version, principal)
    service.decide(session, principal, dataset, version, data.column, data.kind,
                   data.decision, data.reason)
    return _findings_out(request, session, dataset, version, service.views(session, version))


@router.post(VERSION_PATH + "/anonymise", dependencies=[Depends(api_write)], status_code=201,
             summary="Créer une version anonymisée (la version d'origine reste inchangée)")
def anonymise(request: Request, slug: str, number: DbInt, data: PlanIn, session: SessionDep,
              principal: PrincipalDep) -> dict[str, Any]:
    dataset, source = _target(session, principal, slug, number)
    plan = anon.parse_plan(data.operations)
    version = anon.anonymise(session, services(request).settings, principal, dataset, source,
                             plan, data.quasi_identifiers, data.sensitive)
    prepare_layout(request, session, version)
    out = _findings_out(request, session, dataset, version, service.views(session, version))
    out["source_version"] = source.number
    record = version.ingest_settings["anonymisation"]
    out["operations"] = record["operations"]
    out["quasi_identifiers"] = record["quasi_identifiers"]
    out["sensitive"] = record["sensitive"]
    out["warnings"] = record["warnings"]
    out["columns"] = version.columns
    return out


@router.get(VERSION_PATH + "/k-anonymity", summary="k-anonymat sur des quasi-identifiants")
def k_anonymity(
    request: Request, slug: str, number: DbInt, session: SessionDep, principal: PrincipalDep,
    columns: Annotated[str, Query(description="Quasi-identifiants séparés par des virgules.")],
    k: Annotated[DbInt | None, Query(description="k visé (par défaut le seuil des petits "
                                               "effectifs, 11).")] = None,
    worst: Annotated[int, Query(ge=0, le=100, description="Nombre de plus petites classes "
                                                          "montrées.")] = 10,
) -> dict[str, Any]:
    dataset = inventory.get_dataset(session, principal, slug)
    require(can_view_findings(principal, dataset), principal,
            f"évaluer le risque de réidentification de « {dataset.title} »")
    readable = _read(request, session, principal, dataset, number, "dataset.k_anonymity_read")
    # Computed over the version's file, whole: only for those whose grants show all of it.
    readable.require_whole("le k-anonymat")
    report = disclosure.k_anonymity(services(request).settings, readable.version,
                                    columns.split(","), target=k, worst=worst)
    return {"dataset": dataset.slug, "version": readable.version.number, **report.to_dict()}


@router.get(VERSION_PATH + "/counts", summary="Effectifs par groupe, petits effectifs masqués")
def counts(
    request: Request, slug: str, number: DbInt, session: SessionDep, principal: PrincipalDep,
    by: Annotated[str, Query(description="Colonnes de regroupement séparées par des virgules.")],
) -> dict[str, Any]:
    readable = _read(request, session, principal, slug, number, "dataset.counts_read")
    result = readable.counts(by.split(","))
    return {"dataset": readable.dataset.slug, "version": readable.version.number,
            **result.to_dict()}

