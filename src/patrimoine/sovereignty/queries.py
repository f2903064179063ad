"""Read-only records of sovereignty for the tiers above (the charter): applications and the
hosting strategy they are placed against, contracts with their clauses' statuses and
reversibility tests, the charter's partners. Each table is read in one query of columns;
an organisation that never set its strategy or clause set gets the defaults, as the pages
show them (nothing is written)."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Collection, Mapping
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import select, true
from sqlalchemy.orm import Session

from patrimoine.protection.deadlines import add_months
from patrimoine.sovereignty.contracts import DEFAULT_CLAUSES
from patrimoine.sovereignty.models import (
    Application,
    ApplicationStatus,
    CharterClause,
    CharterPartner,
    ClauseStatus,
    Contract,
    ContractClause,
    DataLocation,
    HostingMode,
    ReversibilityTest,
    SensitivityLevel,
    TestResult,
)
from patrimoine.sovereignty.strategy import DEFAULT_LEVELS, reasons

_HELD = (ClauseStatus.PRESENT, ClauseStatus.NEGOTIATED, ClauseStatus.NOT_APPLICABLE)


@dataclass(frozen=True)
class ApplicationFacts:
    id: int
    organisation_id: int
    reference: str
    name: str
    status: str  # ApplicationStatus value
    hosting_mode: HostingMode
    location: DataLocation
    certifications: tuple[str, ...]
    non_eu_law_exposure: bool
    sensitivity: str | None

    @property
    def retired(self) -> bool:
        return self.status == ApplicationStatus.RETIRED

    def breaches(self, level: LevelFacts) -> list[str]:
        """Why its placement breaks what `level` allows (French); [] if it does not."""
        return reasons(self, level)


@dataclass(frozen=True)
class LevelFacts:
    organisation_id: int
    code: str
    label: str
    allowed_modes: tuple[str, ...]
    allowed_locations: tuple[str, ...]
    required_certifications: tuple[str, ...]


@dataclass(frozen=True)
class ClauseFacts:
    organisation_id: int
    code: str
    title: str
    reversibility: bool


@dataclass(frozen=True)
class ContractFacts:
    id: int
    organisation_id: int
    reference: str
    title: str
    supplier_name: str
    processor: bool
    end_date: date | None
    clauses: Mapping[str, str]  # clause code -> ClauseStatus value (absent when unrecorded)
    tests: tuple[tuple[date, str], ...]  # (tested_on, TestResult value), oldest first

    def ends_within(self, today: date, months: int) -> bool:
        """It ends between today and `months` from now (calendar months)."""
        return self.end_date is not None and today <= self.end_date <= add_months(today, months)

    def holds(self, code: str) -> bool:
        """The clause is carried: present, negotiated, or recorded as not applicable."""
        return self.clauses.get(code) in _HELD

    def exempt(self, code: str) -> bool:
        """The clause is recorded as not applicable to this contract."""
        return self.clauses.get(code) == ClauseStatus.NOT_APPLICABLE

    def last_test_failure(self) -> str | None:
        """How its last reversibility test fell short ("partiel", "en échec"); None when it
        succeeded (or none was made: see `tests`)."""
        if not self.tests or self.tests[-1][1] == TestResult.SUCCESS:
            return None
        return "partiel" if self.tests[-1][1] == TestResult.PARTIAL else "en échec"


@dataclass(frozen=True)
class PartnerFacts:
    id: int
    organisation_id: int
    name: str
    signed_on: date
    renewal_on: date | None

    def valid_until(self, years: int) -> date:
        """Its renewal date, or `years` after the signature when none is set."""
        return self.renewal_on or add_months(self.signed_on, 12 * years)


def _in(column: Any, organisation_ids: Collection[int] | None) -> Any:
    return true() if organisation_ids is None else column.in_(list(organisation_ids))


def application_facts(session: Session, organisation_ids: Collection[int] | None = None
                      ) -> list[ApplicationFacts]:
    a = Application
    return [ApplicationFacts(r.id, r.organisation_id, r.reference, r.name, str(r.status),
                             r.hosting_mode, r.location, tuple(r.certifications or ()),
                             bool(r.non_eu_law_exposure), r.sensitivity)
            for r in session.execute(
        select(a.id, a.organisation_id, a.reference, a.name, a.status, a.hosting_mode,
               a.location, a.certifications, a.non_eu_law_exposure, a.sensitivity)
        .where(_in(a.organisation_id, organisation_ids)).order_by(a.id))]


def level_facts(session: Session, organisation_ids: Collection[int]
                ) -> dict[int, dict[str, LevelFacts]]:
    """Each organisation's sensitivity levels by code (the defaults when it defined none)."""
    s = SensitivityLevel
    out: dict[int, dict[str, LevelFacts]] = defaultdict(dict)
    for r in session.execute(select(s).where(_in(s.organisation_id, organisation_ids))
                             .order_by(s.rank, s.id)).scalars():
        out[r.organisation_id][r.code] = LevelFacts(
            r.organisation_id, r.code, r.label, tuple(r.allowed_modes or ()),
            tuple(r.allowed_locations or ()), tuple(r.required_certifications or ()))
    for org in organisation_ids:
        if org not in out:
            out[org] = {d.code: LevelFacts(org, d.code, d.label, tuple(d.modes),
                                           tuple(d.locations), tuple(d.certifications))
                        for d in DEFAULT_LEVELS}
    return dict(out)


def clause_facts(session: Session, organisation_ids: Collection[int]
                 ) -> dict[int, list[ClauseFacts]]:
    """Each organisation's charter clauses in order (the default set when it has none)."""
    c = CharterClause
    out: dict[int, list[ClauseFacts]] = defaultdict(list)
    for r in session.execute(select(c.organisation_id, c.code, c.title, c.reversibility)
                             .where(_in(c.organisation_id, organisation_ids))
                             .order_by(c.rank, c.id)):
        out[r.organisation_id].append(ClauseFacts(r.organisation_id, r.code, r.title,
                                                  bool(r.reversibility)))
    for org in organisation_ids:
        if org not in out:
            out[org] = [ClauseFacts(org, d.code, d.title, d.reversibility)
                        for d in DEFAULT_CLAUSES]
    return dict(out)


def contract_facts(session: Session, organisation_ids: Collection[int] | None = None
                   ) -> list[ContractFacts]:
    """Contracts with their clauses' statuses and tests, in three queries."""
    c = Contract
    statuses: dict[int, dict[str, str]] = defaultdict(dict)
    for contract_id, code, status in session.execute(
            select(ContractClause.contract_id, CharterClause.code, ContractClause.status)
            .join(CharterClause, CharterClause.id == ContractClause.clause_id)
            .join(c, c.id == ContractClause.contract_id)
            .where(_in(c.organisation_id, organisation_ids))):
        statuses[contract_id][code] = str(status)
    tests: dict[int, list[tuple[date, str]]] = defaultdict(list)
    t = ReversibilityTest
    for contract_id, tested_on, result in session.execute(
            select(t.contract_id, t.tested_on, t.result).join(c, c.id == t.contract_id)
            .where(_in(c.organisation_id, organisation_ids)).order_by(t.tested_on, t.id)):
        tests[contract_id].append((tested_on, str(result)))
    return [ContractFacts(r.id, r.organisation_id, r.reference, r.title, r.supplier_name,
                          bool(r.processor), r.end_date, statuses.get(r.id, {}),
                          tuple(tests.get(r.id, ()))) for r in session.execute(
        select(c.id, c.organisation_id, c.reference, c.title, c.supplier_name, c.processor,
               c.end_date).where(_in(c.organisation_id, organisation_ids)).order_by(c.id))]


def partner_facts(session: Session, organisation_ids: Collection[int] | None = None
                  ) -> list[PartnerFacts]:
    p = CharterPartner
    return [PartnerFacts(*r) for r in session.execute(
        select(p.id, p.organisation_id, p.name, p.signed_on, p.renewal_on)
        .where(_in(p.organisation_id, organisation_ids)).order_by(p.id))]
