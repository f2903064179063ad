"""The kernel every register's entries share (processing activities, DPIAs, rights requests,
breaches, elimination slips, and the registers to come): who sees which entries, how they
are numbered, and how a change is written down.

- Scope: an entry belongs to one organisation. `visible` is the SQL clause of the entries a
  principal may see; `get` finds one entry, or hides it (NotFound) from whoever may not see it.
- References: `next_reference` numbers a register's entries per organisation, and per year
  when the register says so ("VIO-2026-07"), from a counter row (`register_counter`) bumped
  inside the caller's transaction with `UPDATE … RETURNING` (the row is first made with an
  upsert). Two writers never draw the same number: PostgreSQL locks the row until commit
  (after the audit chain's lock, which the entry's audit event needs anyway: one lock order
  for every writer), SQLite lets one writer at a time. A counter starts above the numbers
  already used, and a number someone typed by hand is skipped. `preview_reference` says what
  the next draw would give, without drawing (an import's dry run).
- Changes: `record` writes the audit event of a change and, for a register that keeps a
  history, the entry's history row, from the same fields.

Services call these inside the caller's unit of work and never commit (core/db.py).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy import ColumnElement, select, true, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from patrimoine.access import audit
from patrimoine.access.models import RegisterCounter
from patrimoine.access.permissions import require
from patrimoine.access.principal import Principal
from patrimoine.core.errors import Invalid, NotFound


@dataclass(frozen=True)
class Numbering:
    """References `PREFIX-YEAR-NNN`, counted per organisation and year, or `PREFIX-NNNN`
    (`yearly=False`), counted per organisation."""

    prefix: str
    digits: int
    yearly: bool = True

    def start(self, year: int | None) -> str:
        return f"{self.prefix}-{year}-" if self.yearly else f"{self.prefix}-"

    def reference(self, number: int, year: int | None) -> str:
        return f"{self.start(year)}{number:0{self.digits}d}"

    def number(self, reference: str, year: int | None) -> int | None:
        found = re.fullmatch(re.escape(self.start(year)) + r"(\d+)", reference)
        return int(found.group(1)) if found else None


def _own_organisation(entry: Any) -> int:
    return int(entry.organisation_id)


def _reference_and_organisation(entry: Any) -> dict[str, Any]:
    return {"reference": entry.reference, "organisation_id": entry.organisation_id}


@dataclass(frozen=True)
class Register:
    """What the kernel knows of one register."""

    # The entries' table: `organisation_id` and `reference` columns, unless said otherwise
    # below. Its name keys the counter and prefixes audit targets ("breach:12").
    entity: Any
    # Audit actions are "<audit>.<action>" ("protection.breach.created").
    audit: str
    # The organisations whose entries a principal sees (None: all of them).
    readers: Callable[[Principal], list[int] | None]
    # What a principal denied one organisation's entries was trying to do, and what someone
    # who may not see an entry is told.
    reading: str
    not_found: str
    numbering: Numbering | None = None
    # The entry's attribute in audit targets ("uid" where ids are not stable).
    key: str = "id"
    # An entry's organisation, and what the audit log says of an entry.
    organisation: Callable[[Any], int] = _own_organisation
    summary: Callable[[Any], dict[str, Any]] = _reference_and_organisation
    # A new history row of an entry, for a register that keeps one; `record` fills it.
    history: Callable[[Any], Any] | None = None

    @property
    def table(self) -> str:
        return str(self.entity.__tablename__)


# Scope


def may_see(register: Register, principal: Principal, organisation_id: int) -> bool:
    scope = register.readers(principal)
    return scope is None or organisation_id in scope


def visible(register: Register, principal: Principal, organisation_id: int | None = None
            ) -> ColumnElement[bool]:
    """The entries `principal` may see; with `organisation_id`, that organisation's (refused
    when the principal may not see them)."""
    column = register.entity.organisation_id
    if organisation_id is not None:
        require(may_see(register, principal, organisation_id), principal, register.reading)
        return column == organisation_id
    scope = register.readers(principal)
    return true() if scope is None else column.in_(scope)


def get(session: Session, register: Register, principal: Principal, entry_id: int) -> Any:
    """The entry, if `principal` may see it; NotFound otherwise, so nothing tells it exists."""
    entry = session.get(register.entity, entry_id)
    if entry is None or not may_see(register, principal, register.organisation(entry)):
        raise NotFound(register.not_found.format(id=entry_id))
    return entry


# References


def reference_taken(session: Session, register: Register, organisation_id: int, reference: str,
                    other_than: int | None = None) -> bool:
    """Whether another entry of the organisation has this reference."""
    entity = register.entity
    found = session.scalar(select(entity.id).where(entity.organisation_id == organisation_id,
                                                   entity.reference == reference))
    return found is not None and found != other_than


def next_reference(session: Session, register: Register, organisation_id: int,
                   year: int | None = None) -> str:
    """Draw the organisation's next free reference (of `year` for a yearly numbering)."""
    numbering = _numbering(register)
    while True:
        reference = numbering.reference(_draw(session, register, organisation_id, year), year)
        if not reference_taken(session, register, organisation_id, reference):
            return reference


def reference_for(session: Session, register: Register, organisation_id: int,
                  wanted: str | None, *, entry: Any = None, year: int | None = None) -> str:
    """The reference an entry gets: the one asked for, if no other entry of the organisation
    has it (else Invalid); none asked, the entry's own (`entry`, when it exists) or a new one
    drawn (of `year` for a yearly numbering)."""
    if wanted is None:
        return (entry.reference if entry is not None
                else next_reference(session, register, organisation_id, year))
    if reference_taken(session, register, organisation_id, wanted,
                       entry.id if entry is not None else None):
        raise Invalid(f"La référence « {wanted} » est déjà prise dans ce registre.")
    return wanted


def preview_reference(session: Session, register: Register, organisation_id: int,
                      taken: Iterable[str] = (), year: int | None = None) -> str:
    """The reference the next draw would give, none of `taken` (references planned but not
    written yet); nothing is drawn."""
    numbering = _numbering(register)
    counter = session.scalar(select(RegisterCounter.last_number).where(
        *_where(_counter(register, organisation_id, year))))
    used = _used(session, register, organisation_id, year) | set(taken)
    number = counter if counter is not None else _highest(numbering, used, year)
    while numbering.reference(number + 1, year) in used:
        number += 1
    return numbering.reference(number + 1, year)


def _numbering(register: Register) -> Numbering:
    if register.numbering is None:
        raise ValueError(f"{register.table}: entries without references")
    return register.numbering


def _counter(register: Register, organisation_id: int, year: int | None) -> dict[str, Any]:
    """The key of the register's counter row for the organisation (and year)."""
    if _numbering(register).yearly and year is None:
        raise ValueError(f"{register.table}: references are counted per year")
    return {"register": register.table, "organisation_id": organisation_id,
            "year": year if _numbering(register).yearly else 0}


def _where(counter: dict[str, Any]) -> list[ColumnElement[bool]]:
    return [getattr(RegisterCounter, column) == value for column, value in counter.items()]


def _used(session: Session, register: Register, organisation_id: int, year: int | None
          ) -> set[str]:
    entity = register.entity
    return set(session.scalars(select(entity.reference).where(
        entity.organisation_id == organisation_id,
        entity.reference.startswith(_numbering(register).start(year)))))


def _highest(numbering: Numbering, references: Iterable[str], year: int | None) -> int:
    return max((n for r in references if (n := numbering.number(r, year)) is not None),
               default=0)


def _draw(session: Session, register: Register, organisation_id: int, year: int | None) -> int:
    # The entry's audit event follows: take the chain's lock before the counter's row.
    audit.lock_chain(session)
    counter = _counter(register, organisation_id, year)
    bump = (update(RegisterCounter).where(*_where(counter))
            .values(last_number=RegisterCounter.last_number + 1)
            .returning(RegisterCounter.last_number)
            .execution_options(synchronize_session=False))
    number = session.execute(bump).scalar()
    if number is None:
        # The first draw: the counter starts above the numbers in use. Two first draws may
        # race here; the upsert keeps one row, and each then bumps it in turn.
        first = _highest(_numbering(register),
                         _used(session, register, organisation_id, year), year)
        insert = (postgresql.insert if session.get_bind().dialect.name == "postgresql"
                  else sqlite.insert)
        session.execute(insert(RegisterCounter).values(**counter, last_number=first)
                        .on_conflict_do_nothing())
        number = session.execute(bump).scalar_one()
    return int(number)


# Changes


def record(session: Session, principal: Principal, register: Register, entry: Any, action: str,
           changes: Mapping[str, Any] | Iterable[str] | None = None, **details: Any) -> None:
    """Write down `action` on `entry`: its audit event (the entry's summary, the names of the
    changed fields, `details`) and, when the register keeps a history and `changes` is a
    mapping ({field: [before, after]}), the entry's history row."""
    if register.history is not None and isinstance(changes, Mapping):
        row = register.history(entry)
        row.actor_id, row.actor_label = principal.account_id, principal.label
        row.action, row.changes = action, dict(changes)
        session.add(row)
    facts = register.summary(entry)
    if changes is not None:
        facts["fields"] = sorted(changes)
    audit.record(session, principal, f"{register.audit}.{action}",
                 f"{register.table}:{getattr(entry, register.key)}", {**facts, **details},
                 organisation_id=register.organisation(entry))
