"""Values of inventory fields as French people write them, in a spreadsheet cell or the entry
form: choices by label or synonym, sources with their producer, update frequencies in words,
amounts in euros, dates, yes and no, keywords, e-mail addresses.

Each reader returns the field's value or raises `Unreadable`, whose message is French and
names the value (for a row of a file); the entry form words its own messages next to the
field, telling the kinds of `Unreadable` apart where it needs to.
"""

from __future__ import annotations

import re
from datetime import date, datetime
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from enum import StrEnum
from functools import lru_cache
from typing import TypeVar

from annotated_types import MaxLen

from patrimoine.core import vocabulary
from patrimoine.core.text import key
from patrimoine.inventory.models import Source, UpdateFrequency, YesNoUndefined
from patrimoine.inventory.service import DatasetInput

E = TypeVar("E", bound=StrEnum)


class Unreadable(ValueError):
    """A value that cannot be read; its message is French."""


class NegativeCost(Unreadable):
    pass


class CostTooHigh(Unreadable):
    pass


# The longest texts the service accepts, checked first to say so in French.
TEXT_LIMITS: dict[str, int] = {
    name: m.max_length for name, info in DatasetInput.model_fields.items() if name != "title"
    for m in info.metadata if isinstance(m, MaxLen)
}


def clean(text: str) -> str:
    """One space between words."""
    return " ".join(text.split())


@lru_cache(maxsize=4096)  # audit files repeat the same few values
def choice(enum: type[E], raw: str) -> E:
    """The member named by a label, a value or a synonym; "Oui (avec l'ADEME)" is Oui."""
    found = vocabulary.parse(enum, raw)
    if found is None and "(" in raw:
        found = vocabulary.parse(enum, raw.split("(")[0])
    if found is None:
        raise Unreadable(f"Valeur « {raw} » non reconnue ; valeurs acceptées : "
                         f"{vocabulary.accepted_words(enum)}.")
    return found


def yes_no(raw: str) -> bool | None:
    """Oui, Non, or None when undecided (À définir, empty)."""
    return {YesNoUndefined.YES: True, YesNoUndefined.NO: False}.get(choice(YesNoUndefined, raw))


@lru_cache(maxsize=4096)
def source(raw: str) -> tuple[Source | None, str | None]:
    """'Interne/Externe', or 'Externe (Ecovélo)' / 'Externe - Ecovélo' with its producer."""
    if not raw:
        return None, None
    found = vocabulary.parse(Source, raw)
    if found is not None:
        return found, None
    for sep in ("(", " - ", " – ", ":", "→", "->"):
        if sep in raw:
            head, tail = raw.split(sep, 1)
            found = vocabulary.parse(Source, head)
            if found is not None:
                return found, tail.strip(" )") or None
    raise Unreadable(f"Source « {raw} » non reconnue ; valeurs acceptées : "
                     f"{vocabulary.accepted_words(Source)}.")


_FREQUENCY_STEMS: tuple[tuple[str, UpdateFrequency], ...] = (
    ("temps reel", UpdateFrequency.CONTINUOUS),
    ("continu", UpdateFrequency.CONTINUOUS),
    ("quotidien", UpdateFrequency.DAILY),
    ("journalier", UpdateFrequency.DAILY),
    ("par jour", UpdateFrequency.DAILY),
    ("chaque jour", UpdateFrequency.DAILY),
    ("hebdo", UpdateFrequency.WEEKLY),
    ("semaine", UpdateFrequency.WEEKLY),
    ("bimensuel", UpdateFrequency.MONTHLY),
    ("mensuel", UpdateFrequency.MONTHLY),
    ("mois", UpdateFrequency.MONTHLY),
    ("trimest", UpdateFrequency.QUARTERLY),
    ("semest", UpdateFrequency.SEMIANNUAL),
    ("annuel", UpdateFrequency.ANNUAL),
    ("annee", UpdateFrequency.ANNUAL),
    ("an", UpdateFrequency.ANNUAL),
    ("irregulier", UpdateFrequency.IRREGULAR),
    ("demande", UpdateFrequency.IRREGULAR),
    ("besoin", UpdateFrequency.IRREGULAR),
    ("ponctuel", UpdateFrequency.PUNCTUAL),
)


@lru_cache(maxsize=4096)
def frequency(raw: str) -> UpdateFrequency:
    """A label or synonym, else the first stem found: 'Tous les mois', '1 fois par an'."""
    found = vocabulary.parse(UpdateFrequency, raw)
    if found is not None:
        return found
    words = key(raw).split()
    for stem, value in _FREQUENCY_STEMS:
        if any(w.startswith(stem) if len(stem) > 3 else w == stem for w in words) or (
            " " in stem and stem in " ".join(words)
        ):
            return value
    raise Unreadable(f"Fréquence « {raw} » non reconnue ; valeurs acceptées : "
                     f"{vocabulary.accepted_words(UpdateFrequency)}.")


_FREE = {"gratuit", "gratuite", "aucun", "neant", "nul", "0"}
_UNKNOWN_COST = {"", "nc", "n c", "na", "n a", "ne sait pas", "nsp", "inconnu", "a definir",
                 "a determiner", "a preciser", "non renseigne", "sans objet", "so"}
_NUMBER = re.compile(r"[-+]?\d[\d\s.,'’]*")
CENT = Decimal("0.01")


@lru_cache(maxsize=4096)
def cost(raw: str, *, round_to_cents: bool = True) -> Decimal | None:
    """'1 200 €', '1200,50', '1.200,50 € HT', '12 k€', 'Gratuit' -> Decimal, '' or 'NC' -> None.

    Rounded to the cent unless `round_to_cents` is false (a form asks instead)."""
    k = key(raw)
    if k in _UNKNOWN_COST or raw.strip() in {"-", "–", "?"}:
        return None
    if k in _FREE:
        return Decimal("0.00")
    text = raw.replace("\u00a0", " ").replace("\u202f", " ")
    match = _NUMBER.search(text)
    rest = (text[:match.start()] + text[match.end():]) if match else text
    if match is None or re.search(r"[0-9]", rest):
        raise Unreadable(f"Coût « {raw} » illisible ; écrivez un montant en euros, "
                         "par exemple « 1 200 € » ou « 1200,50 ».")
    try:
        value = Decimal(_decimal_text(match.group()))
    except InvalidOperation:
        raise Unreadable(f"Coût « {raw} » illisible ; écrivez un montant en euros, "
                         "par exemple « 1 200 € » ou « 1200,50 ».") from None
    if re.search(r"\bk\s*€|\bk\s*eur|\bk\b", rest.lower()):
        value *= 1000
    if value < 0:
        raise NegativeCost(f"Coût « {raw} » négatif.")
    if round_to_cents:
        value = value.quantize(CENT, rounding=ROUND_HALF_UP)
    if value >= Decimal("1e12"):
        raise CostTooHigh(f"Coût « {raw} » trop élevé.")
    return value


def _decimal_text(number: str) -> str:
    """'1.200,50', '1,200.50', '1 200', '1.200.000' as Python reads decimals."""
    number = re.sub(r"[\s'’]", "", number).rstrip(".,")
    if "," in number and "." in number:
        # The last separator is the decimal one: 1.200,50 or 1,200.50
        if number.rfind(",") > number.rfind("."):
            return number.replace(".", "").replace(",", ".")
        return number.replace(",", "")
    if "," in number:
        return number.replace(",", "") if number.count(",") > 1 else number.replace(",", ".")
    if number.count(".") > 1 or re.fullmatch(r"[-+]?\d{1,3}\.\d{3}", number):
        return number.replace(".", "")  # 1.200 or 1.200.000: French thousands
    return number


_DATE_FORMATS = ("%d/%m/%Y", "%Y-%m-%d", "%d-%m-%Y", "%d.%m.%Y", "%d/%m/%y", "%Y-%m-%d %H:%M:%S")


def day(raw: str, *, end: bool = False) -> date:
    """'31/12/2024', '2024-12-31' and the like; a year alone is its first day, or its last
    when it ends a period."""
    text = raw.strip()
    if re.fullmatch(r"\d{4}", text):
        return date(int(text), 12, 31) if end else date(int(text), 1, 1)
    for fmt in _DATE_FORMATS:
        try:
            return datetime.strptime(text, fmt).date()
        except ValueError:
            continue
    raise Unreadable(f"Date « {raw} » illisible ; écrivez-la JJ/MM/AAAA ou AAAA.")


def keywords(raw: str) -> list[str]:
    """Words separated by commas, semicolons, bars or line breaks."""
    return [w.strip() for w in re.split(r"[,;|\n]", raw) if w.strip()]


EMAIL = re.compile(r"[^@\s<>]+@[^@\s<>]+\.[^@\s<>]+")


def is_email(text: str) -> bool:
    return EMAIL.fullmatch(text) is not None
