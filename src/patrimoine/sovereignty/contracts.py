"""Contracts and the charter's data clauses: the contracts register (supplier SIRET checked
with python-stdnum, links to applications and processing activities, history and audit via
access/registers), an organisation's clause set (the seven Orléans clauses by default, which
it edits), each clause's status in each contract with its evidence, reversibility tests,
and the reversibility watch: contracts ending within a horizon whose reversibility clause is
missing or was never tested."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator
from sqlalchemy import select
from sqlalchemy.orm import Session

from patrimoine.access import audit, registers
from patrimoine.access.permissions import (
    can_edit_sovereignty,
    require,
    sovereignty_organisations,
)
from patrimoine.access.principal import Principal
from patrimoine.core.clock import now
from patrimoine.core.db import DbInt
from patrimoine.core.errors import Invalid
from patrimoine.core.values import plain
from patrimoine.inventory.models import Organisation
from patrimoine.protection.deadlines import add_months, legal_today
from patrimoine.protection.register.models import ProcessingActivity
from patrimoine.sovereignty.models import (
    Application,
    CharterClause,
    ClauseStatus,
    Contract,
    ContractChange,
    ContractClause,
    ContractKind,
    ReversibilityTest,
    TestResult,
)
from patrimoine.standards.tableschema import siret_is_valid

CONTRACTS = registers.Register(
    entity=Contract, audit="sovereignty.contract", readers=sovereignty_organisations,
    reading="consulter les contrats de cette organisation", not_found="Contrat introuvable.",
    numbering=registers.Numbering("CTR", 4, yearly=False), key="uid",
    history=lambda c: ContractChange(contract_id=c.id))

EDITING = "modifier les contrats de cette organisation"


@dataclass(frozen=True)
class ClauseDefault:
    code: str
    title: str
    text: str
    reversibility: bool = False


# The seven clauses of Orléans' charter, in Patrimoine's own words.
DEFAULT_CLAUSES = (
    ClauseDefault("donnees-publiques", "Données publiques",
                  "Les données produites ou collectées pour l'exécution du contrat sont des "
                  "données publiques ; le titulaire les remet à la collectivité à sa demande "
                  "pour qu'elle puisse les ouvrir."),
    ClauseDefault("propriete", "Propriété des données",
                  "La collectivité reste propriétaire des données qu'elle confie et de celles "
                  "produites pour son compte ; le titulaire n'en fait aucun autre usage."),
    ClauseDefault("formats-ouverts", "Formats ouverts",
                  "Les données sont fournies dans un format ouvert, documenté et lisible par "
                  "machine, accompagnées de leur description."),
    ClauseDefault("hebergement-ue", "Hébergement dans l'Union européenne",
                  "Les données sont hébergées dans l'Union européenne par un prestataire non "
                  "soumis à une loi extra-européenne permettant d'y accéder."),
    ClauseDefault("reversibilite", "Réversibilité",
                  "À la fin du contrat, le titulaire restitue l'ensemble des données dans un "
                  "format ouvert, sans surcoût, et en assiste la reprise ; la procédure est "
                  "testée pendant le contrat.", reversibility=True),
    ClauseDefault("securite", "Sécurité",
                  "Le titulaire protège les données selon l'état de l'art, signale sans délai "
                  "tout incident et permet l'audit de ses mesures."),
    ClauseDefault("rgpd", "Protection des données personnelles",
                  "Pour les données personnelles, le titulaire agit en sous-traitant au sens "
                  "de l'article 28 du RGPD et en respecte les obligations."),
)


def clause_set(session: Session, organisation_id: int) -> list[CharterClause]:
    """The organisation's clauses in order; the default set the first time it is needed."""
    found = list(session.scalars(select(CharterClause).where(
        CharterClause.organisation_id == organisation_id).order_by(
        CharterClause.rank, CharterClause.id)))
    if found:
        return found
    for rank, d in enumerate(DEFAULT_CLAUSES):
        clause = CharterClause(organisation_id=organisation_id, code=d.code, title=d.title,
                               text=d.text, rank=rank, reversibility=d.reversibility)
        session.add(clause)
        found.append(clause)
    session.flush()
    return found


class ClauseInput(BaseModel):
    model_config = ConfigDict(str_strip_whitespace=True, extra="forbid")

    code: str = Field(min_length=1, max_length=40)
    title: str = Field(min_length=1, max_length=200)
    text: str = ""
    rank: int = Field(default=0, ge=0, le=1000)
    reversibility: bool = False

    @field_validator("code")
    @classmethod
    def _code(cls, value: str) -> str:
        if not re.fullmatch(r"[a-z0-9][a-z0-9_-]*", value):
            raise ValueError("lettres minuscules sans accent, chiffres et tirets, sans espace "
                             "(par exemple « code-source »)")
        return value


def set_clause(session: Session, principal: Principal, organisation_id: int,
               data: ClauseInput) -> CharterClause:
    """Create or change the clause `data.code` of the organisation's set."""
    require(can_edit_sovereignty(principal, organisation_id), principal,
            "modifier les clauses de la charte de cette organisation")
    existing = {c.code: c for c in clause_set(session, organisation_id)}
    clause = existing.get(data.code)
    if clause is None:
        clause = CharterClause(organisation_id=organisation_id, code=data.code)
        session.add(clause)
    clause.title, clause.text, clause.rank = data.title, data.text, data.rank
    clause.reversibility = data.reversibility
    session.flush()
    audit.record(session, principal, "sovereignty.clause.set", f"charter_clause:{clause.id}",
                 {"code": clause.code}, organisation_id=organisation_id)
    return clause


# Contracts

_REFERENCE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._/-]*$")


class ContractInput(BaseModel):
    model_config = ConfigDict(str_strip_whitespace=True, extra="forbid")

    organisation_id: DbInt
    reference: str | None = Field(default=None, max_length=40)
    title: str = Field(min_length=1, max_length=300)
    kind: ContractKind = ContractKind.PUBLIC_CONTRACT
    supplier_name: str = Field(min_length=1, max_length=300)
    supplier_siret: str | None = Field(default=None, max_length=20)
    start_date: date | None = None
    end_date: date | None = None
    notice_months: int | None = Field(default=None, ge=0, le=120)
    processor: bool = False
    applications: list[str] = Field(default_factory=list)  # application references
    activities: list[str] = Field(default_factory=list)  # register references


_SCALARS = ("reference", "title", "kind", "supplier_name", "supplier_siret", "start_date",
            "end_date", "notice_months", "processor")


def contract_errors(data: ContractInput) -> list[tuple[str, str]]:
    """(field, French message) of what does not hold together."""
    errors = []
    if data.supplier_siret is not None:
        compact = re.sub(r"[\s.]", "", data.supplier_siret)
        if not siret_is_valid(compact):
            errors.append(("supplier_siret", f"SIRET « {data.supplier_siret} » invalide : "
                           "14 chiffres dont la clé de contrôle doit être juste."))
    if data.start_date and data.end_date and data.end_date < data.start_date:
        errors.append(("end_date", "La date de fin précède la date de début."))
    if data.reference is not None and not _REFERENCE.match(data.reference):
        errors.append(("reference", f"Référence « {data.reference} » invalide : lettres, "
                       "chiffres, points, tirets et barres obliques seulement, sans espace."))
    return errors


def _normalised(data: ContractInput) -> ContractInput:
    if data.supplier_siret is None:
        return data
    compact = re.sub(r"[\s.]", "", data.supplier_siret) or None
    return data.model_copy(update={"supplier_siret": compact})


def _check(session: Session, data: ContractInput
           ) -> tuple[list[Application], list[ProcessingActivity]]:
    org = session.get(Organisation, data.organisation_id)
    if org is None:
        raise Invalid("Organisation inconnue.")
    errors = contract_errors(data)
    if errors:
        raise Invalid(f"Le contrat « {data.title} » n'est pas valide.",
                      errors=[m for _, m in errors])
    apps = list(session.scalars(select(Application).where(
        Application.organisation_id == org.id,
        Application.reference.in_(data.applications)))) if data.applications else []
    missing = sorted(set(data.applications) - {a.reference for a in apps})
    if missing:
        raise Invalid(f"Applications inconnues dans la cartographie de « {org.name} » : "
                      f"{', '.join(missing)}.")
    activities = list(session.scalars(select(ProcessingActivity).where(
        ProcessingActivity.organisation_id == org.id,
        ProcessingActivity.reference.in_(data.activities)))) if data.activities else []
    missing = sorted(set(data.activities) - {a.reference for a in activities})
    if missing:
        raise Invalid(f"Traitements inconnus dans le registre de « {org.name} » : "
                      f"{', '.join(missing)}.")
    return apps, activities


def values_of(contract: Contract) -> dict[str, Any]:
    out = {f: plain(getattr(contract, f)) for f in _SCALARS}
    out["applications"] = sorted(a.reference for a in contract.applications)
    out["activities"] = sorted(a.reference for a in contract.activities)
    return out


def _wanted(data: ContractInput) -> dict[str, Any]:
    out = {f: plain(getattr(data, f)) for f in _SCALARS}
    out["applications"] = sorted(set(data.applications))
    out["activities"] = sorted(set(data.activities))
    return out


def create_contract(session: Session, principal: Principal, data: ContractInput) -> Contract:
    require(can_edit_sovereignty(principal, data.organisation_id), principal, EDITING)
    data = _normalised(data)
    apps, activities = _check(session, data)
    reference = data.reference
    if reference is None:
        reference = registers.next_reference(session, CONTRACTS, data.organisation_id)
    elif registers.reference_taken(session, CONTRACTS, data.organisation_id, reference):
        raise Invalid(f"La référence « {reference} » est déjà prise.")
    contract = Contract(organisation_id=data.organisation_id, reference=reference,
                        **{f: getattr(data, f) for f in _SCALARS if f != "reference"})
    contract.applications, contract.activities = apps, activities
    session.add(contract)
    session.flush()
    changes = {f: [None, v] for f, v in values_of(contract).items() if v not in (None, "", [])}
    registers.record(session, principal, CONTRACTS, contract, "created", changes)
    return contract


def update_contract(session: Session, principal: Principal, contract: Contract,
                    data: ContractInput) -> dict[str, list[Any]]:
    require(can_edit_sovereignty(principal, contract.organisation_id), principal, EDITING)
    if data.organisation_id != contract.organisation_id:
        raise Invalid("Un contrat ne change pas d'organisation.")
    data = _normalised(data)
    apps, activities = _check(session, data)
    if data.reference is None:
        data = data.model_copy(update={"reference": contract.reference})
    elif registers.reference_taken(session, CONTRACTS, contract.organisation_id,
                                   data.reference, contract.id):
        raise Invalid(f"La référence « {data.reference} » est déjà prise.")
    before, after = values_of(contract), _wanted(data)
    changes = {f: [before[f], after[f]] for f in after if before[f] != after[f]}
    if not changes:
        return {}
    for f in _SCALARS:
        if f in changes:
            setattr(contract, f, getattr(data, f))
    if "applications" in changes:
        contract.applications = apps
    if "activities" in changes:
        contract.activities = activities
    contract.updated_at = now()
    registers.record(session, principal, CONTRACTS, contract, "updated", changes)
    return changes


def delete_contract(session: Session, principal: Principal, contract: Contract) -> None:
    require(can_edit_sovereignty(principal, contract.organisation_id), principal, EDITING)
    registers.record(session, principal, CONTRACTS, contract, "deleted")
    session.delete(contract)
    session.flush()


def get_contract(session: Session, principal: Principal, contract_id: int) -> Contract:
    found: Contract = registers.get(session, CONTRACTS, principal, contract_id)
    return found


def list_contracts(session: Session, principal: Principal, *, organisation_id: int | None = None
                   ) -> list[Contract]:
    return list(session.scalars(select(Contract).where(
        registers.visible(CONTRACTS, principal, organisation_id)).order_by(
        Contract.organisation_id, Contract.reference)))


def history(session: Session, principal: Principal, contract: Contract) -> list[ContractChange]:
    get_contract(session, principal, contract.id)
    return list(session.scalars(select(ContractChange).where(
        ContractChange.contract_id == contract.id).order_by(
        ContractChange.at.desc(), ContractChange.id.desc())))


# Clauses of a contract


class ClauseStatusInput(BaseModel):
    model_config = ConfigDict(str_strip_whitespace=True, extra="forbid")

    status: ClauseStatus
    article: str | None = Field(default=None, max_length=300)
    evidence: str | None = Field(default=None, max_length=1000)


def set_clause_status(session: Session, principal: Principal, contract: Contract, code: str,
                      data: ClauseStatusInput) -> ContractClause:
    """Record how the contract carries the clause `code` of its organisation's set."""
    require(can_edit_sovereignty(principal, contract.organisation_id), principal, EDITING)
    clause = {c.code: c for c in clause_set(session, contract.organisation_id)}.get(code)
    if clause is None:
        raise Invalid(f"Clause « {code} » inconnue dans la charte de cette organisation.")
    if data.status in (ClauseStatus.PRESENT, ClauseStatus.NEGOTIATED) and not data.article:
        raise Invalid("Indiquez l'article du contrat qui porte la clause.")
    entry = next((cc for cc in contract.clauses if cc.clause_id == clause.id), None)
    before = [entry.status.value, entry.article, entry.evidence] if entry else [None] * 3
    if entry is None:
        entry = ContractClause(clause_id=clause.id, status=data.status)
        contract.clauses.append(entry)
    entry.status, entry.article, entry.evidence = data.status, data.article, data.evidence
    entry.updated_at = now()
    session.flush()
    registers.record(session, principal, CONTRACTS, contract, "clause_set",
                     {f"clause:{code}": [before, [data.status.value, data.article,
                                                  data.evidence]]})
    return entry


@dataclass(frozen=True)
class ClauseLine:
    clause: CharterClause
    entry: ContractClause | None  # None: not yet assessed


def clause_table(session: Session, contract: Contract) -> list[ClauseLine]:
    """Every clause of the set, with how this contract carries it."""
    by_clause = {cc.clause_id: cc for cc in contract.clauses}
    return [ClauseLine(c, by_clause.get(c.id))
            for c in clause_set(session, contract.organisation_id)]


def missing_clauses(session: Session, contract: Contract) -> list[CharterClause]:
    """The clauses of the set the contract does not carry: absent, or not yet assessed."""
    return [line.clause for line in clause_table(session, contract)
            if line.entry is None or line.entry.status == ClauseStatus.ABSENT]


# Reversibility


class TestInput(BaseModel):
    __test__ = False
    model_config = ConfigDict(str_strip_whitespace=True, extra="forbid")

    tested_on: date
    formats: list[str] = Field(default_factory=list)
    result: TestResult
    notes: str = ""


def record_test(session: Session, principal: Principal, contract: Contract, data: TestInput
                ) -> ReversibilityTest:
    require(can_edit_sovereignty(principal, contract.organisation_id), principal, EDITING)
    if data.tested_on > legal_today():
        raise Invalid("La date du test de réversibilité est dans le futur.")
    test = ReversibilityTest(tested_on=data.tested_on,
                             formats=[f for f in dict.fromkeys(data.formats) if f],
                             result=data.result, notes=data.notes, recorded_by=principal.label)
    contract.tests.append(test)
    session.flush()
    registers.record(session, principal, CONTRACTS, contract, "reversibility_tested",
                     result=data.result.value, tested_on=data.tested_on.isoformat())
    return test


MAX_WATCH_MONTHS = 1200


@dataclass(frozen=True)
class Watched:
    contract: Contract
    reasons: list[str]


def reversibility_watch(session: Session, principal: Principal, *, months: int = 12,
                        today: date | None = None, organisation_id: int | None = None
                        ) -> list[Watched]:
    """Contracts ending between today and `months` from now whose reversibility clause is
    missing (absent or not assessed) or never successfully tested, soonest end first."""
    if not 0 <= months <= MAX_WATCH_MONTHS:
        raise Invalid(f"L'horizon de surveillance va de 0 à {MAX_WATCH_MONTHS} mois.")
    today = today or legal_today()
    horizon = add_months(today, months)
    found = []
    for contract in session.scalars(select(Contract).where(
            registers.visible(CONTRACTS, principal, organisation_id),
            Contract.end_date.is_not(None), Contract.end_date >= today,
            Contract.end_date <= horizon).order_by(Contract.end_date, Contract.id)):
        reasons = []
        lines = [line for line in clause_table(session, contract) if line.clause.reversibility]
        carried = any(line.entry is not None and line.entry.status in (
            ClauseStatus.PRESENT, ClauseStatus.NEGOTIATED) for line in lines)
        if not carried:
            reasons.append("clause de réversibilité absente ou non vérifiée")
        if not any(t.result in (TestResult.SUCCESS, TestResult.PARTIAL)
                   for t in contract.tests):
            reasons.append("réversibilité jamais testée avec succès")
        if reasons:
            found.append(Watched(contract, reasons))
    return found
