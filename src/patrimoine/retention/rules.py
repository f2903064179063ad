"""The retention rule: a duration counted from a starting event, then a final fate.

The units and fates are the GDPR register's (protection/register/vocabulary.py: DurationUnit,
FinalFate), so a dataset's rule and a processing activity's rule speak the same language.
The starting event is the register's enumeration too (StartEvent, with its French labels and
the usual wordings `core.vocabulary.parse` understands), never free text.

Date arithmetic: months and years are calendar months and years; when the day does not exist
in the target month the last day of that month is used (31 January + 1 month = 28 or
29 February; 29 February 2024 + 1 year = 28 February 2025), as DuckDB's `date + INTERVAL`
does, which row-level rules use on the data.
"""

from __future__ import annotations

import calendar
from datetime import date, timedelta
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from patrimoine.core.errors import Invalid
from patrimoine.core.vocabulary import accepted_words, label, parse
from patrimoine.protection.register.vocabulary import DurationUnit, FinalFate, StartEvent

__all__ = ["DurationUnit", "FinalFate", "RetentionRule", "StartEvent", "add_period",
           "subtract_period"]

EVENT_DATED = (StartEvent.RELATIONSHIP_END, StartEvent.FILE_CLOSED)


def _shift_months(day: date, months: int) -> date:
    index = day.year * 12 + (day.month - 1) + months
    year, month = divmod(index, 12)
    if year < 1 or year > 9999:
        raise Invalid("Cette durée mène hors du calendrier.")
    last = calendar.monthrange(year, month + 1)[1]
    return date(year, month + 1, min(day.day, last))


def add_period(day: date, duration: int, unit: DurationUnit) -> date:
    """`day` + duration, calendar months and years clamped to the month's last day."""
    if unit == DurationUnit.DAYS:
        return day + timedelta(days=duration)
    months = duration * (12 if unit == DurationUnit.YEARS else 1)
    return _shift_months(day, months)


def subtract_period(day: date, duration: int, unit: DurationUnit) -> date:
    if unit == DurationUnit.DAYS:
        return day - timedelta(days=duration)
    months = duration * (12 if unit == DurationUnit.YEARS else 1)
    return _shift_months(day, -months)


def duration_text(duration: int, unit: DurationUnit) -> str:
    word = label(unit)
    if duration <= 1:
        word = {"ans": "an", "jours": "jour"}.get(word, word)
    return f"{duration} {word}"


class RetentionRule(BaseModel):
    """A dataset's retention rule (the register's RetentionRule, plus what applying it on
    stored data needs: the date of a dated event, the date column, an anonymisation plan)."""

    model_config = ConfigDict(str_strip_whitespace=True, extra="forbid")

    duration: int = Field(ge=0, le=1000)
    unit: DurationUnit
    start_event: StartEvent
    final_fate: FinalFate
    # The date of the event when it is "end of relationship" or "closure of the file".
    event_date: date | None = None
    # The date column whose value starts each row's count (start_event date_column).
    date_column: str | None = Field(default=None, max_length=200)
    legal_reference: str | None = Field(default=None, max_length=300)
    # Anonymisation fate: the operations, in protection/findings/anonymise.py's plan form.
    anonymisation: list[dict[str, Any]] = Field(default_factory=list)

    @field_validator("date_column", "legal_reference")
    @classmethod
    def _empty_is_none(cls, value: str | None) -> str | None:
        return value or None

    @model_validator(mode="after")
    def _consistent(self) -> RetentionRule:
        errors = []
        if self.start_event == StartEvent.DATE_COLUMN:
            if not self.date_column:
                errors.append("Indiquez la colonne de date à partir de laquelle chaque ligne "
                              "est conservée.")
            if self.final_fate == FinalFate.ANONYMISATION:
                errors.append("L'anonymisation s'applique à des versions entières, pas à des "
                              "lignes : choisissez un autre événement de départ ou un autre "
                              "sort final.")
        elif self.date_column:
            errors.append("Une colonne de date n'a de sens qu'avec l'événement « date portée "
                          "par chaque ligne ».")
        if self.event_date is not None and self.start_event not in EVENT_DATED:
            errors.append("Une date d'événement n'a de sens que pour la fin de la relation ou "
                          "la clôture du dossier.")
        if self.anonymisation and self.final_fate != FinalFate.ANONYMISATION:
            errors.append("Un plan d'anonymisation n'a de sens qu'avec le sort final "
                          "« anonymisation ».")
        if self.final_fate == FinalFate.ANONYMISATION and not self.anonymisation:
            errors.append("Le sort final « anonymisation » demande le plan d'anonymisation "
                          "(opération par colonne).")
        if self.anonymisation:
            from patrimoine.protection.findings.anonymise import parse_plan
            parse_plan(self.anonymisation)  # raises Invalid with the French reasons
        if errors:
            raise ValueError(" ".join(errors))
        return self

    def describe(self) -> str:
        start = label(self.start_event)
        if self.start_event == StartEvent.DATE_COLUMN:
            start = f"la date de la colonne « {self.date_column} » de chaque ligne"
        elif self.start_event in EVENT_DATED and self.event_date:
            start += f" ({self.event_date.strftime('%d/%m/%Y')})"
        return (f"{duration_text(self.duration, self.unit)} à compter de {start}, puis "
                f"{label(self.final_fate).lower()}")


def parse_rule(data: dict[str, Any]) -> RetentionRule:
    """A rule from JSON-like input (API, form, CLI), French words accepted; Invalid else."""
    values = dict(data)
    errors: list[str] = []
    for name, enum, what in (("unit", DurationUnit, "unité"),
                             ("final_fate", FinalFate, "sort final")):
        raw = values.get(name)
        if isinstance(raw, str) and raw and raw not in {m.value for m in enum}:
            member = parse(enum, raw)
            if member is None:
                errors.append(f"{what.capitalize()} « {raw} » inconnu(e) ; valeurs acceptées "
                              f": {accepted_words(enum)}.")
            else:
                values[name] = member.value
    raw = values.get("start_event")
    if isinstance(raw, str) and raw and raw not in {m.value for m in StartEvent}:
        member = parse(StartEvent, raw)
        if member is None:
            errors.append(f"Événement de départ « {raw} » inconnu ; valeurs acceptées : "
                          f"{accepted_words(StartEvent)}.")
        else:
            values["start_event"] = member.value
    if errors:
        raise Invalid("Règle de conservation invalide.", errors=errors)
    try:
        return RetentionRule.model_validate(values)
    except ValidationError as exc:
        raise Invalid("Règle de conservation invalide.", errors=_messages(exc)) from None


_FIELD_NAMES = {"duration": "durée", "unit": "unité", "start_event": "événement de départ",
                "final_fate": "sort final", "event_date": "date de l'événement",
                "date_column": "colonne de date", "legal_reference": "référence",
                "anonymisation": "plan d'anonymisation"}


def _messages(exc: ValidationError) -> list[str]:
    out = []
    for e in exc.errors():
        field = _FIELD_NAMES.get(str(e["loc"][0]), str(e["loc"][0])) if e["loc"] else ""
        if e["type"] == "value_error":
            out.append(str(e.get("ctx", {}).get("error", e["msg"])))
        elif e["type"] == "missing":
            out.append(f"{field.capitalize()} : obligatoire.")
        elif e["type"] == "extra_forbidden":
            out.append(f"Champ inconnu : « {e['loc'][0]} ».")
        elif e["type"].startswith("int") or e["type"].startswith("greater") or \
                e["type"].startswith("less"):
            out.append(f"{field.capitalize()} : un nombre entier de 0 à 1000.")
        elif e["type"].startswith("date"):
            out.append(f"{field.capitalize()} : une date AAAA-MM-JJ.")
        else:
            out.append(f"{field.capitalize()} : valeur invalide.")
    return out
