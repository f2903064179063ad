"""Recognisers for French personal data: patterns, checksums and masks, one value at a time.

Each recogniser has a regular expression that finds candidates anywhere in a text (so the
scanner can run it once over a whole column sample joined by newlines), a validator that
rejects candidates failing a checksum or a calendar, and a mask for the examples shown to
people. Nothing here knows about columns or tables; see scanner.py for the decisions. The
e-mail and phone patterns are core.meanings' (EMAIL, PHONE), shared with column meanings.
"""

from __future__ import annotations

import re
from datetime import date

# --- email -------------------------------------------------------------------------------

# Local parts that name a service rather than a person (contact@mairie-x.fr).
GENERIC_MAILBOXES = frozenset(
    """contact contacts accueil info infos information informations mairie secretariat
    secretariat-general courrier courriers service services communication reservation
    reservations direction dgs cabinet rh ressources-humaines urbanisme etat-civil etatcivil
    population culture sport sports jeunesse enfance education social ccas police
    police-municipale technique techniques travaux environnement dechets eau assainissement
    office tourisme mediatheque bibliotheque piscine musee conservatoire ecole creche noreply
    no-reply ne-pas-repondre webmaster admin administration support dpo rgpd cnil presse
    standard bonjour hello marches-publics marchespublics finances comptabilite facturation
    archives open-data opendata donnees data""".split()
)


def email_is_generic(email: str) -> bool:
    local = email.split("@", 1)[0].lower()
    return local in GENERIC_MAILBOXES or local.split(".")[0] in GENERIC_MAILBOXES


def mask_email(email: str) -> str:
    local, _, domain = email.partition("@")
    labels = domain.split(".")
    tld = labels[-1] if len(labels) > 1 else ""
    head = ".".join(labels[:-1]) if len(labels) > 1 else domain
    return f"{local[:1]}***@{head[:1]}***" + (f".{tld}" if tld else "")


# --- French phone numbers ------------------------------------------------------------------

# A number stored as an integer loses its leading zero (612345678); accepted only when the
# column name says "téléphone".
PHONE_WITHOUT_ZERO = re.compile(r"(?<![\d.,])[1-9]\d{8}(?![\d.,])")


def phone_digits(text: str) -> str:
    """The ten national digits: '+33 6 12 34 56 78' -> '0612345678'."""
    digits = re.sub(r"\D", "", text)
    if digits.startswith("00330"):
        digits = digits[4:]
    elif digits.startswith("0033"):
        digits = "0" + digits[4:]
    elif digits.startswith("330") and len(digits) == 12:
        digits = digits[2:]
    elif digits.startswith("33") and len(digits) == 11:
        digits = "0" + digits[2:]
    elif len(digits) == 9:
        digits = "0" + digits
    return digits


def phone_is_mobile(text: str) -> bool:
    return phone_digits(text)[:2] in {"06", "07"}


def mask_phone(text: str) -> str:
    d = phone_digits(text)
    return f"{d[:2]} ** ** ** {d[-2:]}"


# --- NIR (numéro d'inscription au répertoire, "numéro de sécurité sociale") ------------------

NIR = re.compile(
    r"(?<![0-9A-Za-z])([1-478])\s?(\d{2})\s?(0[1-9]|1[0-2]|[2-9]\d)\s?(\d{2}|2[AaBb])"
    r"\s?(\d{3})\s?(\d{3})\s?(\d{2})(?![0-9A-Za-z])"
)


NIR_WITHOUT_KEY = re.compile(
    r"^[1-478]\s?\d{2}\s?(?:0[1-9]|1[0-2]|[2-9]\d)\s?(?:\d{2}|2[AaBb])\s?\d{3}\s?\d{3}$",
    re.MULTILINE,
)


def nir_key(body: str) -> int:
    """The key of a 13-character NIR body: 97 - (n mod 97); Corsica 2A/2B count as 19/18."""
    body = body.upper()
    if body[5:7] == "2A":
        body = body[:5] + "19" + body[7:]
    elif body[5:7] == "2B":
        body = body[:5] + "18" + body[7:]
    return 97 - int(body) % 97


def nir_is_valid(text: str) -> bool:
    compact = re.sub(r"\s", "", text).upper()
    if len(compact) != 15 or not compact[13:].isdigit():
        return False
    body = compact[:13]
    if not re.fullmatch(r"[1-478]\d{4}(?:\d{2}|2A|2B)\d{6}", body):
        return False
    return nir_key(body) == int(compact[13:])


def mask_nir(text: str) -> str:
    compact = re.sub(r"\s", "", text)
    return f"{compact[:1]} ** ** ** *** *** {compact[-2:]}"


# --- IBAN ----------------------------------------------------------------------------------

IBAN = re.compile(
    r"(?<![A-Za-z0-9])[A-Z]{2}\d{2}(?:[ ]?[A-Z0-9]{4}){2,7}(?:[ ]?[A-Z0-9]{1,3})?(?![A-Za-z0-9])"
)

# Lengths from the SWIFT IBAN registry for the countries a French authority meets most.
IBAN_LENGTHS = {
    "AD": 24, "AT": 20, "BE": 16, "BG": 22, "CH": 21, "CY": 28, "CZ": 24, "DE": 22, "DK": 18,
    "DZ": 26, "EE": 20, "ES": 24, "FI": 18, "FR": 27, "GB": 22, "GR": 27, "HR": 21, "HU": 28,
    "IE": 22, "IS": 26, "IT": 27, "LI": 21, "LT": 20, "LU": 20, "LV": 21, "MA": 28, "MC": 27,
    "MT": 31, "NL": 18, "NO": 15, "PL": 28, "PT": 25, "RO": 24, "SE": 24, "SI": 19, "SK": 24,
    "SM": 27, "TN": 24, "TR": 26, "VA": 22,
}


def iban_is_valid(text: str) -> bool:
    compact = re.sub(r"\s", "", text).upper()
    expected = IBAN_LENGTHS.get(compact[:2])
    if expected is None or len(compact) != expected or not compact[2:4].isdigit():
        return False
    if not re.fullmatch(r"[A-Z0-9]+", compact):
        return False
    rearranged = compact[4:] + compact[:4]
    number = "".join(str(int(c, 36)) for c in rearranged)
    return int(number) % 97 == 1


def iban_check_digits(country: str, bban: str) -> str:
    """The two check digits making country + digits + bban a valid IBAN."""
    number = "".join(str(int(c, 36)) for c in (bban + country + "00").upper())
    return f"{98 - int(number) % 97:02d}"


def mask_iban(text: str) -> str:
    compact = re.sub(r"\s", "", text).upper()
    return f"{compact[:4]} **** **** {compact[-3:]}"


# --- licence plates ------------------------------------------------------------------------

_PLATE_LETTER = "[A-HJ-NP-TV-Z]"
# SIV (since 2009): AB-123-CD; letters I, O and U are never used.
PLATE_SIV = re.compile(
    rf"(?<![A-Za-z0-9-]){_PLATE_LETTER}{{2}}[ \-]?(?!000)\d{{3}}[ \-]?{_PLATE_LETTER}{{2}}"
    r"(?![A-Za-z0-9-])"
)
# FNI (before 2009): 123 ABC 75, 1234 AB 2A; separators required (bare runs are too ambiguous).
PLATE_FNI = re.compile(
    rf"(?<![A-Za-z0-9-])\d{{1,4}}[ \-]{_PLATE_LETTER}{{1,3}}[ \-]"
    r"(?:0[1-9]|[1-8]\d|9[0-5]|2A|2B|97[1-6])(?![A-Za-z0-9-])"
)
PLATE = re.compile(f"{PLATE_SIV.pattern}|{PLATE_FNI.pattern}")


def mask_plate(text: str) -> str:
    compact = re.sub(r"[\s\-]", "", text)
    return f"{compact[:1]}*-***-*{compact[-1:]}"


# --- postal addresses ----------------------------------------------------------------------

_VOIE = (
    r"(?:rue|r\.|avenue|av\.?|ave|boulevard|bd|bld|blvd|chemin|che|ch\.|all[ée]e|all\.|impasse|"
    r"imp\.?|place|pl\.?|route|rte|quai|cours|square|sq\.?|passage|voie|sentier|lotissement|"
    r"lot\.|r[ée]sidence|r[ée]s\.|hameau|cit[ée]|clos|rond-point|promenade|esplanade|faubourg|"
    r"fbg|chauss[ée]e|mont[ée]e|villa|parvis|mail|traverse|domaine|rampe|ruelle|venelle|"
    r"lieu-dit|lieudit|carrefour|sente|qua?rtier)"
)
_NUMBER = r"\d{1,4}(?:\s?(?:bis|ter|quater|[a-dA-D])\b)?"
_NAME_START = r"[^\W\d_]"
ADDRESS = re.compile(
    rf"(?<![\w]){_NUMBER}\s*,?\s+{_VOIE}(?![\w])\.?\s+(?:d['’]\s?)?{_NAME_START}[^\n]*"
    rf"|(?<![\w]){_VOIE}(?![\w])\.?\s+{_NAME_START}[^\n]*?(?<!\d)\d{{5}}(?!\d)\s+{_NAME_START}",
    re.IGNORECASE,
)
# An address split over columns: the street alone ("rue de la Paix"), the number alone.
STREET = re.compile(rf"^{_VOIE}(?![\w])\.?\s+(?:d['’]\s?)?{_NAME_START}[^\n]*$",
                    re.IGNORECASE | re.MULTILINE)
HOUSE_NUMBER = re.compile(rf"^{_NUMBER}$", re.MULTILINE)
_ADDRESS_MASK_VOIE = re.compile(rf"(?<![\w]){_VOIE}(?![\w])", re.IGNORECASE)


def mask_address(text: str) -> str:
    voie = _ADDRESS_MASK_VOIE.search(text)
    postcode = re.search(r"(?<!\d)(\d{2})\d{3}(?!\d)", text)
    masked = "** " + (voie.group(0).lower() if voie else "") + " ***"
    if postcode:
        masked += f", {postcode.group(1)}*** ***"
    return masked


# --- names inside free text ----------------------------------------------------------------

# "Mme Durand", "M. Jean Dupont", "Docteur Martin": a civility followed by a capitalised word.
CIVILITY_NAME = re.compile(
    r"(?<![\w.])(?:M\.|MM\.|Mme|Mmes|Mlle|Monsieur|Madame|Mademoiselle|Dr\.?|Docteur|"
    r"Ma[iî]tre|Me)\s+(?:[A-ZÀ-ÖØ-Þ]['’])?[A-ZÀ-ÖØ-Þ][a-zà-öø-ÿA-ZÀ-ÖØ-Þ'’\-]+"
    r"(?:\s+[A-ZÀ-ÖØ-Þ][a-zà-öø-ÿA-ZÀ-ÖØ-Þ'’\-]+)?"
)


def mask_words(text: str) -> str:
    return " ".join(w[:1] + "***" if w[:1].isalpha() else w for w in text.split())


# --- dates ---------------------------------------------------------------------------------

DATE = re.compile(
    r"(?<!\d)(?:(\d{4})-(\d{1,2})-(\d{1,2})|(\d{1,2})[/.\-](\d{1,2})[/.\-](\d{4}))(?!\d)"
)


YEAR = re.compile(r"^(?:19|20)\d{2}$", re.MULTILINE)


def parse_date(match: re.Match[str]) -> date | None:
    try:
        if match.group(1):
            return date(int(match.group(1)), int(match.group(2)), int(match.group(3)))
        return date(int(match.group(6)), int(match.group(5)), int(match.group(4)))
    except ValueError:
        return None


def plausible_birth(day: date, today: date) -> bool:
    return date(1900, 1, 1) <= day <= today


def mask_date(day: date) -> str:
    return f"**/**/{str(day.year)[:3]}*"


# --- geographic positions ------------------------------------------------------------------

# One number with at least four decimals (about 11 m of latitude): a precise coordinate.
PRECISE_LINE = re.compile(r"^-?\d{1,3}[.,]\d{4,}$", re.MULTILINE)
# A precise pair inside one cell: "47.90291, 1.90932", "[1.9093, 47.9029]",
# "POINT (1.9093 47.9029)".
COORDINATE_PAIR = re.compile(
    r"(?<![\d.])(-?\d{1,3}+\.\d{4,}+)[ \t]*[,; ][ \t]*(-?\d{1,3}+\.\d{4,}+)(?![\d.])"
)


def pair_is_position(a: float, b: float) -> bool:
    return (abs(a) <= 90 and abs(b) <= 180) or (abs(b) <= 90 and abs(a) <= 180)


def mask_coordinate(number_text: str) -> str:
    text = number_text.replace(",", ".")
    head, _, tail = text.partition(".")
    return f"{head}.{tail[:2]}**"
