"""What a column holds, the French way: SIRET, code commune INSEE, code postal, e-mail...

detect(name, values) looks at a sample of a column's text values and its name, and returns
the meaning whose test most values pass, with a confidence (0..1), or None. A meaning needs
at least MIN_SHARE of the non-empty distinct values to pass its test; meanings that values
alone cannot tell apart from ordinary numbers (code postal, département, latitude, montant...)
also need a hint in the column name. SIRET and SIREN are checked with their Luhn key
(python-stdnum), so 14 digits with a wrong key are not taken for a SIRET.

The e-mail and French phone patterns live here, once: the personal-data scanner
(protection/detectors) uses the same ones, so both always agree on what is an e-mail.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date

from stdnum.fr import siren, siret

from patrimoine.core.text import key

# --- e-mail and French phone numbers (also used by protection/detectors) ---------------------

EMAIL = re.compile(
    r"(?<![\w.+-])[A-Za-z0-9][A-Za-z0-9._%+\-]{0,63}@[A-Za-z0-9](?:[A-Za-z0-9\-]{0,62}"
    r"[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9\-]{0,62}[A-Za-z0-9])?)*\.[A-Za-z]{2,24}"
    r"(?![\w-])"
)
PHONE = re.compile(
    r"(?<![\d+])(?:(?:\+|00)\s?33\s?(?:\(0\)\s?)?|0)[1-9](?:[ .\-]?\d{2}){4}(?![\d])"
)

MIN_SHARE = 0.9  # share of values that must fit a meaning
SAMPLE = 1000  # distinct values looked at per column

LABELS = {
    "siret": "SIRET",
    "siren": "SIREN",
    "code_commune_insee": "code commune INSEE",
    "code_postal": "code postal",
    "code_departement": "code département",
    "code_region": "code région",
    "date": "date",
    "latitude": "latitude",
    "longitude": "longitude",
    "email": "adresse e-mail",
    "telephone": "téléphone",
    "url": "adresse web (URL)",
    "booleen": "booléen",
    "montant": "montant",
    "identifiant": "identifiant",
}
# Meanings whose values are identifiers: never numbers, or leading zeros and digits are lost.
TEXT_MEANINGS = frozenset({"siret", "siren", "code_commune_insee", "code_postal",
                           "code_departement", "code_region", "telephone", "identifiant"})


@dataclass(frozen=True)
class Meaning:
    key: str
    confidence: float

    @property
    def label(self) -> str:
        return LABELS[self.key]

    def as_dict(self) -> dict[str, object]:
        return {"meaning": self.key, "label": self.label, "confidence": self.confidence}


# --- value tests -----------------------------------------------------------------------------

_SPACES = re.compile(r"[\s\u00a0\u202f.]")
_INSEE = re.compile(r"(?:\d{2}|2[AB])\d{3}")
_POSTAL = re.compile(r"\d{5}")
_DEPARTEMENTS = frozenset([f"{n:02d}" for n in range(1, 96) if n != 20] + ["2A", "2B"]
                          + [str(n) for n in range(971, 977)])
# Regions since 2016 (code officiel géographique), overseas included.
_REGIONS = frozenset("01 02 03 04 06 11 24 27 28 32 44 52 53 75 76 84 93 94".split())
_URL = re.compile(r"(?:https?://|www\.)[^\s<>\"]+\.[^\s<>\"]+", re.IGNORECASE)
_BOOLEANS = frozenset("oui non vrai faux o n true false yes no".split())
_MONTHS = ("janvier|février|fevrier|mars|avril|mai|juin|juillet|août|aout|septembre|octobre|"
           "novembre|décembre|decembre")
_DATE_DMY = re.compile(r"(\d{1,2})[/.\-](\d{1,2})[/.\-](\d{4})(?:[ T]\d{1,2}[:h]\d{2}(?::\d{2})?)?")
_DATE_ISO = re.compile(r"(\d{4})-(\d{2})-(\d{2})(?:[ T]\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?"
                       r"(?:Z|[+-]\d{2}:?\d{2})?)?")
_DATE_WORDS = re.compile(rf"(?:1er|\d{{1,2}})\s+(?:{_MONTHS})\s+\d{{4}}", re.IGNORECASE)
_NUMBER = re.compile(r"[+-]?\d+(?:[.,]\d+)?")
_AMOUNT = re.compile(r"[+-]?\s*(?:\d{1,3}(?:[\s\u00a0\u202f.]\d{3})+|\d+)(?:,\d{1,2})?"
                     r"(?:\.\d{1,2})?\s*(?:€|eur|euros)?", re.IGNORECASE)


def _compact(value: str) -> str:
    return _SPACES.sub("", value)


def _is_siret(value: str) -> bool:
    compact = _compact(value)
    return len(compact) == 14 and siret.is_valid(compact)


def _is_siren(value: str) -> bool:
    compact = _compact(value)
    return len(compact) == 9 and siren.is_valid(compact)


def _is_date(value: str) -> bool:
    if _DATE_WORDS.fullmatch(value):
        return True
    if m := _DATE_ISO.fullmatch(value):
        year, month, day = int(m.group(1)), int(m.group(2)), int(m.group(3))
    elif m := _DATE_DMY.fullmatch(value):
        day, month, year = int(m.group(1)), int(m.group(2)), int(m.group(3))
    else:
        return False
    try:
        date(year, month, day)
    except ValueError:
        return False
    return True


def _in_range(limit: float) -> Callable[[str], bool]:
    def test(value: str) -> bool:
        if not _NUMBER.fullmatch(value):
            return False
        number = float(value.replace(",", "."))
        return abs(number) <= limit and ("." in value or "," in value)
    return test


# --- name hints ------------------------------------------------------------------------------

def _words(name: str) -> set[str]:
    # camelCase names (SCDL's idBeneficiaire, codePostal) are words too.
    spaced = re.sub(r"(?<=[a-z0-9])(?=[A-Z])", "_", name)
    return set(re.split(r"[^a-z0-9]+", key(spaced))) - {""}


@dataclass(frozen=True)
class _Rule:
    meaning: str
    test: Callable[[str], bool]
    hints: frozenset[str]  # words of a column name that suggest the meaning
    needs_hint: bool  # values alone are too ambiguous


def _rule(meaning: str, test: Callable[[str], bool], hints: str, needs_hint: bool) -> _Rule:
    return _Rule(meaning, test, frozenset(hints.split()), needs_hint)


# Most specific first: the first rule that fits wins.
RULES = (
    _rule("siret", _is_siret, "siret", False),
    _rule("siren", _is_siren, "siren", False),
    _rule("email", lambda v: EMAIL.fullmatch(v) is not None,
          "email mail courriel mel", False),
    _rule("url", lambda v: _URL.fullmatch(v) is not None, "url site web lien internet", False),
    _rule("telephone", lambda v: PHONE.fullmatch(v) is not None,
          "telephone tel tél phone portable mobile fax", False),
    _rule("code_commune_insee", lambda v: _INSEE.fullmatch(v.upper()) is not None,
          "insee cog codgeo depcom com codecommune codeinsee", True),
    _rule("code_postal", lambda v: _POSTAL.fullmatch(v) is not None,
          "cp postal codepostal postcode", True),
    _rule("code_departement", lambda v: v.upper() in _DEPARTEMENTS or v in _DEPARTEMENTS,
          "dep dept departement dpt codedepartement", True),
    _rule("code_region", lambda v: v in _REGIONS, "reg region coderegion", True),
    _rule("date", _is_date, "date jour", False),
    _rule("latitude", _in_range(90), "lat latitude", True),
    _rule("longitude", _in_range(180), "lon lng long longitude", True),
    _rule("booleen", lambda v: v.lower() in _BOOLEANS, "", False),
    _rule("montant", lambda v: _AMOUNT.fullmatch(v) is not None and any(c.isdigit() for c in v),
          "montant montants prix cout tarif budget subvention somme total euros eur ht ttc "
          "depense depenses recette recettes credits", True),
    # Last: a column named as an identifier holding codes of digits all of one width (a
    # SIRET whose key is wrong, a file number) is a code, not a quantity.
    _rule("identifiant", lambda v: v.isdigit() and len(v) >= 5,
          "id identifiant code numero num no ref reference matricule", True),
)
# Hint words that hold in one word of the name ("code_insee", "code_commune").
_PAIRS = {("code", "commune"): "code_commune_insee", ("code", "insee"): "code_commune_insee",
          ("code", "postal"): "code_postal"}


def _hinted(rule: _Rule, words: set[str]) -> bool:
    if rule.hints & words:
        return True
    return any(meaning == rule.meaning and set(pair) <= words for pair, meaning in _PAIRS.items())


def detect(name: str, values: list[str]) -> Meaning | None:
    """The meaning of a column named `name` holding these text values, or None."""
    distinct: dict[str, None] = {}
    for value in values:
        # "-" is how accounting exports write "nothing".
        if value is not None and (stripped := str(value).strip()) and stripped.strip("-"):
            distinct[stripped] = None
            if len(distinct) >= SAMPLE:
                break
    vals = list(distinct)
    if not vals:
        return None
    words = _words(name)
    for rule in RULES:
        hinted = _hinted(rule, words)
        if rule.needs_hint and not hinted:
            continue
        share = _share(rule.test, vals)
        if share < MIN_SHARE:
            continue
        # Values alone are weaker evidence when they are few: a value passing a Luhn key may
        # be chance (one in ten).
        evidence = min(1.0, 0.6 + 0.08 * len(vals))
        confidence = share if hinted else share * evidence
        # Fourteen digits with a right key are a SIRET even alone (the idAttribuant of a
        # file repeats one); nine digits are too common for one or two to be a SIREN.
        if rule.meaning == "siren" and not hinted and len(vals) < 3:
            continue
        # Two answers at most (oui/non, O/N): a column mixing "oui" and "vrai" is something else.
        if rule.meaning == "booleen" and len({v.lower() for v in vals}) > 2:
            continue
        if rule.meaning == "identifiant" and len({len(v) for v in vals}) > 1:
            continue
        return Meaning(rule.meaning, round(confidence, 2))
    return None


def _share(test: Callable[[str], bool], vals: list[str]) -> float:
    """The share of values passing `test`; 0 as soon as too many fail to reach MIN_SHARE."""
    allowed = int(len(vals) * (1 - MIN_SHARE))
    failed = 0
    for v in vals:
        if not test(v):
            failed += 1
            if failed > allowed:
                return 0.0
    return (len(vals) - failed) / len(vals)
