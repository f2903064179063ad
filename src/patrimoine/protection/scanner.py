"""The personal-data scanner: which columns of a table hold personal data, and of what kind.

Pure library: it takes column names and rows (or per-column value samples) and returns
findings; it reads no database and no file (see reader.py for files).

How it decides
- Values are the evidence, column names a signal. Every kind needs matching values; the
  name only lowers or raises the bar (a `telephone` column holding 612345678 is a phone
  column; a `code_produit` column holding 10-digit numbers is not).
- Up to `ScanOptions.sample_rows` rows are sampled (evenly spaced, or a seeded reservoir for
  a stream); each column's sample is joined into one text and every recogniser runs once
  over it (one regex pass per kind and column), then candidates are validated (NIR key,
  IBAN mod 97, real calendar dates).
- Checksummed kinds (nir, iban) are reported when most candidates pass the checksum:
  random digits pass it one time in 97, so a column of product codes does not.
- A short-valued column is reported when at least `min_share` of its filled values match;
  a free-text column (long values) as soon as two values hold a match (one for email,
  nir and iban), since one email in a comment is already personal data.
- birth_date needs a column name saying birth (naissance, né le, dob, birth…) and dates
  between 1900 and today: a column of event dates is not a birth date.
- position (the rule): a position is personal only when it is precise and can point at a
  home. Coordinates count as precise with at least four decimals (about 11 metres); a
  column is a coordinate when its name says so (lat, longitude, geo, coord…), when each
  cell holds a pair ("47.90291, 1.90932"), or when two neighbouring columns of precise
  numbers look like latitude and longitude of one territory. A
  precise coordinate column is reported only if its own name says home or person
  (domicile, habitant, adresse, logement, usager…) or the table is about persons (another
  column holds names, NIRs, birth dates, IBANs or plates, or is named like prenom or
  date_naissance). Precise coordinates of public facilities in a table with no person in
  it are not reported.
- Emails of services (contact@, accueil@, mairie@…) are still reported as email, with
  severity "low"; addresses in a table with no person in it are reported with severity
  "low" too (often the address of a facility), and landline numbers are "low" unless the
  table is about persons.
- Public places: a table with no person in it that lists public places or facilities (a
  column names an establishment, a school, a defibrillator, a station…, or the dataset's
  subject, given as `subject`, does) has its addresses, telephone numbers, e-mails,
  positions and place names reported with the suggestion "not_personal": the address and
  switchboard of a school are not a person's. Only a suggestion: the finding stays, and
  the DPO keeps the last word. A column named like a first name (prenom…) is never one.

A finding's `key` (column, kind) is stable across rescans of the same table, so the
decisions people record about findings can be matched to the next scan.
"""

from __future__ import annotations

import random
import re
import statistics
from bisect import bisect_right
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import date, datetime
from functools import cached_property
from typing import Any

from patrimoine.core.meanings import EMAIL, PHONE
from patrimoine.core.text import fold, key
from patrimoine.protection import detectors as d
from patrimoine.protection.names import (
    CIVILITIES,
    FIRST_NAMES,
    NOT_A_PERSON,
    PARTICLES,
    SURNAMES,
)

KINDS = ("email", "phone", "nir", "iban", "name", "address", "birth_date", "plate", "position")

KIND_LABELS = {
    "email": "Adresse électronique",
    "phone": "Numéro de téléphone",
    "nir": "Numéro de sécurité sociale (NIR)",
    "iban": "IBAN",
    "name": "Nom ou prénom",
    "address": "Adresse postale",
    "birth_date": "Date de naissance",
    "plate": "Plaque d'immatriculation",
    "position": "Position précise d'un domicile",
}

SEVERITY_LABELS = {"high": "élevée", "medium": "moyenne", "low": "faible"}


@dataclass(frozen=True)
class ScanOptions:
    sample_rows: int = 2000  # rows looked at per table (and so per column)
    min_share: float = 0.3  # share of filled values that must match in a short-valued column
    max_examples: int = 3
    today: date | None = None  # the upper bound of birth dates; default: today

    def __post_init__(self) -> None:
        if self.sample_rows < 1:
            raise ValueError("sample_rows must be positive")


@dataclass(frozen=True)
class Finding:
    """One kind of personal data found in one column. `key` identifies it across rescans."""

    column: str
    kind: str
    share: float  # matching rows / sampled rows, 0..1
    count: int  # matching rows in the sample
    sampled: int  # rows sampled
    examples: tuple[str, ...]  # masked
    confidence: float  # 0..1
    severity: str  # high, medium or low
    reason: str  # in French, for the person deciding
    # The decision the scanner proposes ("not_personal" for a public place), else None.
    suggestion: str | None = None

    @property
    def key(self) -> tuple[str, str]:
        return (self.column, self.kind)

    @property
    def label(self) -> str:
        return KIND_LABELS[self.kind]

    def to_dict(self) -> dict[str, Any]:
        return {
            "column": self.column, "kind": self.kind, "share": round(self.share, 4),
            "count": self.count, "sampled": self.sampled, "examples": list(self.examples),
            "confidence": round(self.confidence, 2), "severity": self.severity,
            "reason": self.reason, "suggestion": self.suggestion,
        }


@dataclass(frozen=True)
class ScanResult:
    columns: tuple[str, ...]
    findings: tuple[Finding, ...]
    sampled_rows: int
    total_rows: int | None  # None when only samples were given

    def kinds_by_column(self) -> dict[str, set[str]]:
        out: dict[str, set[str]] = {c: set() for c in self.columns}
        for f in self.findings:
            out.setdefault(f.column, set()).add(f.kind)
        return out


# --- column names ------------------------------------------------------------------------

_CAMEL = re.compile(r"(?<=[a-z0-9])(?=[A-Z])")


@dataclass(frozen=True)
class ColumnName:
    raw: str
    tokens: frozenset[str]
    compact: str

    @classmethod
    def of(cls, name: str) -> ColumnName:
        words = key(_CAMEL.sub(" ", name)).split()
        return cls(name, frozenset(words), "".join(words))

    def has(self, tokens: Iterable[str] = (), parts: Iterable[str] = ()) -> bool:
        return any(t in self.tokens for t in tokens) or any(p in self.compact for p in parts)


# Identifier-like columns: what they hold is a code, not a person's number.
_CODE_TOKENS = ("code", "cp", "id", "ident", "identifiant", "ref", "reference", "siret", "siren",
                "insee", "sku", "ean", "isbn", "uai", "finess", "rna", "naf", "ape", "annee",
                "year", "montant", "prix", "total", "numero", "num", "no", "n", "cle", "hash",
                "article", "produit", "lot", "serie", "version", "compteur")
_PHONE_SIGNAL = (("tel", "tél", "phone", "mobile", "portable", "gsm", "fax", "telephone"),
                 ("telephone", "phone", "portable", "mobile"))
_NIR_SIGNAL = (("nir", "secu", "ss", "nss"), ("securitesociale", "numsecu", "nir", "ssn"))
_IBAN_SIGNAL = (("iban", "rib", "bic"), ("iban", "rib", "bancaire", "compte"))
_PLATE_SIGNAL = (("immat", "plaque", "immatriculation", "vehicule", "plate"),
                 ("immatriculation", "immat", "plaque", "licenseplate"))
_ADDRESS_SIGNAL = (("adresse", "address", "adr", "domicile", "voie", "rue"),
                   ("adresse", "address", "domicile"))
_BIRTH_SIGNAL = (("ne", "nee", "dob", "ddn", "birth", "nais", "naiss"),
                 ("naissance", "birth", "datenais", "datenaiss", "dtnais", "anniversaire"))
_NAME_SIGNAL = (("nom", "noms", "name", "prenom", "prenoms", "titulaire", "beneficiaire",
                 "demandeur", "declarant", "signataire", "redacteur", "auteur", "agent",
                 "contact", "responsable", "referent", "interlocuteur", "proprietaire",
                 "locataire", "usager", "habitant", "patient", "eleve", "enfant", "parent",
                 "conjoint", "elu", "personne", "civilite", "identite", "representant"),
                ("prenom", "firstname", "lastname", "surname", "fullname", "patronyme",
                 "nomdefamille", "nomusage", "nomnaissance", "givenname", "familyname"))
# Names that can only mean a person's name: the shape of the values is then enough.
_STRONG_NAME_SIGNAL = (("prenom", "prenoms", "patronyme"),
                       ("prenom", "firstname", "lastname", "surname", "nomdefamille",
                        "nomusage", "nomnaissance", "givenname", "familyname", "fullname",
                        "nomcomplet"))
_PLACE_TOKENS = ("commune", "communes", "ville", "city", "voie", "rue", "lieu", "lieudit",
                 "etablissement", "equipement", "structure", "site", "service", "organisme",
                 "entreprise", "societe", "raison", "sociale", "produit", "espece", "station",
                 "arret", "ligne", "ecole", "parc", "batiment", "quartier", "region",
                 "departement", "pays", "association", "club", "fichier", "theme",
                 "categorie", "type", "libelle", "commerce", "enseigne", "denomination",
                 "titre", "marque", "rubrique", "operation", "projet", "programme", "salle",
                 "jardin", "musee", "monument", "territoire", "epci", "zone", "secteur",
                 "collectivite", "organisation", "direction", "dataset", "jeu", "equipe")
_COORD_SIGNAL = (("lat", "latitude", "lon", "lng", "long", "longitude", "x", "y", "gps", "geo",
                  "coord", "coords", "coordonnees", "position", "wgs84", "point"),
                 ("latitude", "longitude", "geopoint", "geoloc", "coordonnee", "gps", "wgs84"))
_HOME_SIGNAL = (("domicile", "habitant", "habitants", "residence", "logement", "foyer",
                 "adresse", "home", "patient", "usager", "personne", "individu", "victime",
                 "eleve", "beneficiaire", "proprietaire", "locataire", "menage", "particulier",
                 "declarant", "contribuable", "allocataire", "abonne", "client", "demandeur"),
                ("domicile", "habitant", "residence", "logement", "adresse", "home"))
# Column names that make the whole table about persons.
_PERSON_TABLE = (("prenom", "prenoms", "habitant", "domicile", "patient", "usager", "eleve",
                  "allocataire", "contribuable", "locataire", "declarant",
                  "victime", "firstname", "lastname", "surname"),
                 ("prenom", "naissance", "firstname", "lastname", "birth", "securitesociale",
                  "domicile"))


# Public places and facilities: a column (or the dataset's subject) naming one makes a table
# without persons a list of places.
_PUBLIC_PLACE = (("etablissement", "etablissements", "equipement", "equipements", "ecole",
                  "ecoles", "college", "colleges", "lycee", "lycees", "creche", "creches",
                  "mairie", "mairies", "gymnase", "stade", "piscine", "piscines",
                  "bibliotheque", "mediatheque", "musee", "musees", "defibrillateur",
                  "defibrillateurs", "dae", "fontaine", "fontaines", "borne", "bornes",
                  "station", "stations", "gare", "gares", "parking", "parkings", "cantine",
                  "cantines", "lieu", "lieux", "erp", "monument", "monuments", "toilettes",
                  "sanitaires", "cimetiere", "salle", "salles", "amenageur", "operateur",
                  "equipment", "facility", "school", "accessibilite", "covoiturage"),
                 ("etablissement", "equipement", "defibrillateur", "nomlieu", "nomstation",
                  "nomsite", "accessibilite", "covoiturage", "recharge", "pointdecharge"))
_PLACE_SUGGESTED = frozenset({"address", "phone", "email", "position", "name"})


# --- column samples ------------------------------------------------------------------------


_NUMERIC = re.compile(r"[\d\s.,+\-eE]*")


@dataclass
class ColumnSample:
    name: str
    rows: int  # sampled rows, filled or not
    values: list[str]  # the filled values as text, newlines flattened
    words: ColumnName = field(init=False)

    def __post_init__(self) -> None:
        self.words = ColumnName.of(self.name)

    @cached_property
    def blob(self) -> str:
        return "\n".join(self.values)

    @cached_property
    def starts(self) -> list[int]:
        out, pos = [], 0
        for v in self.values:
            out.append(pos)
            pos += len(v) + 1
        return out

    @cached_property
    def is_numeric(self) -> bool:
        """Only digits and number punctuation: no email, IBAN, plate, address or name."""
        return _NUMERIC.fullmatch(self.blob) is not None

    @cached_property
    def is_text(self) -> bool:
        """Free text (comments, descriptions): long values, where one match already counts."""
        return bool(self.values) and statistics.median(len(v) for v in self.values) > 40

    def line_of(self, offset: int) -> int:
        return bisect_right(self.starts, offset) - 1


@dataclass
class _Matches:
    candidates: int = 0  # lines holding a candidate
    valid: int = 0  # lines holding a candidate that passed validation
    examples: list[str] = field(default_factory=list)
    spans: list[tuple[int, int]] = field(default_factory=list)
    matched: list[str] = field(default_factory=list)


def _run(col: ColumnSample, pattern: re.Pattern[str], validate: Any = None,
         max_examples: int = 3, mask: Any = None,
         exclude: list[tuple[int, int]] | None = None) -> _Matches:
    out = _Matches()
    candidate_lines: set[int] = set()
    valid_lines: set[int] = set()
    excluded = sorted(exclude or [])
    excluded_starts = [s for s, _ in excluded]
    for m in pattern.finditer(col.blob):
        if excluded:
            i = bisect_right(excluded_starts, m.end() - 1)
            if any(excluded[j][1] > m.start() for j in range(max(i - 2, 0), i)):
                continue
        line = col.line_of(m.start())
        candidate_lines.add(line)
        if validate is not None and not validate(m):
            continue
        out.spans.append(m.span())
        out.matched.append(m.group(0))
        if line not in valid_lines:
            valid_lines.add(line)
            if len(out.examples) < max_examples:
                shown = mask(m) if mask else m.group(0)
                if shown not in out.examples:
                    out.examples.append(shown)
    out.candidates = len(candidate_lines)
    out.valid = len(valid_lines)
    return out


def _text(value: object) -> str | None:
    if value is None:
        return None
    if isinstance(value, str):
        text = value.strip()
    elif isinstance(value, bool):
        text = str(value)
    elif isinstance(value, float):
        if value != value:  # NaN
            return None
        text = str(int(value)) if value.is_integer() and abs(value) < 1e15 else repr(value)
    elif isinstance(value, datetime):
        text = value.date().isoformat() if value.time() == datetime.min.time() else \
            value.isoformat()
    elif isinstance(value, date):
        text = value.isoformat()
    else:
        text = str(value).strip()
    if not text:
        return None
    return text.replace("\r", " ").replace("\n", " ")


# --- the scan ------------------------------------------------------------------------------


def scan_rows(columns: Sequence[str], rows: Iterable[Sequence[object]],
              options: ScanOptions | None = None, subject: str = "") -> ScanResult:
    """Scan a table given as column names and rows (sequences in column order); `subject`
    is what the table is about (the dataset's title), a hint for public places."""
    options = options or ScanOptions()
    sample, total = _sample(rows, options.sample_rows)
    width = len(columns)
    values: list[list[str]] = [[] for _ in range(width)]
    for row in sample:
        for i in range(min(width, len(row))):
            text = _text(row[i])
            if text is not None:
                values[i].append(text)
    samples = [ColumnSample(str(name), len(sample), vals)
               for name, vals in zip(columns, values, strict=True)]
    return _scan(samples, options, len(sample), total, subject)


def scan_samples(samples: Mapping[str, Sequence[object]], options: ScanOptions | None = None,
                 total_rows: int | None = None, subject: str = "") -> ScanResult:
    """Scan per-column value samples (e.g. drawn by a database); empty values are kept as
    rows so that shares stay shares of rows."""
    options = options or ScanOptions()
    cols = []
    sampled = 0
    for name, raw in samples.items():
        raw = list(raw)[: options.sample_rows]
        sampled = max(sampled, len(raw))
        texts = [t for t in (_text(v) for v in raw) if t is not None]
        cols.append(ColumnSample(str(name), len(raw), texts))
    return _scan(cols, options, sampled, total_rows, subject)


def _sample(rows: Iterable[Sequence[object]], n: int) -> tuple[list[Sequence[object]], int]:
    if isinstance(rows, Sequence):
        total = len(rows)
        if total <= n:
            return list(rows), total
        step = total / n
        return [rows[int(i * step)] for i in range(n)], total
    rng = random.Random(20240101)  # seeded: the same file gives the same findings
    reservoir: list[Sequence[object]] = []
    total = 0
    for total, row in enumerate(rows, start=1):
        if total <= n:
            reservoir.append(row)
        else:
            j = rng.randrange(total)
            if j < n:
                reservoir[j] = row
    return reservoir, total


def _scan(samples: list[ColumnSample], options: ScanOptions, sampled: int,
          total: int | None, subject: str = "") -> ScanResult:
    today = options.today or date.today()
    findings: list[Finding] = []
    for col in samples:
        if col.values:
            findings.extend(_scan_column(col, options, today))
    place = _public_place(samples, findings, subject)
    # In a list of places, what looks like a name (outside a first-name column) is taken
    # for a place's name: it does not make the table about persons.
    weak_names = {c.name for c in samples if not c.words.has(*_STRONG_NAME_SIGNAL)}
    personal = _table_is_personal(samples, [
        f for f in findings if not (place and f.kind == "name" and f.column in weak_names)])
    paired = _coordinate_pairs(samples)
    for col in samples:
        if col.values:
            found = _position(col, options, personal, col.name in paired)
            if found:
                findings.append(found)
    findings.extend(_split_addresses(samples, findings, options))
    findings = [_in_context(f, personal) for f in findings]
    if place and not personal:
        findings = [_as_place(f, place) if f.kind in _PLACE_SUGGESTED
                    and f.column in weak_names else f for f in findings]
    order = {c.name: i for i, c in enumerate(samples)}
    findings.sort(key=lambda f: (order.get(f.column, 0), KINDS.index(f.kind)))
    return ScanResult(tuple(c.name for c in samples), tuple(findings), sampled, total)


def _finding(col: ColumnSample, kind: str, count: int, examples: Sequence[str],
             confidence: float, severity: str, reason: str) -> Finding:
    rows = max(col.rows, 1)
    return Finding(col.name, kind, min(count / rows, 1.0), count, col.rows, tuple(examples),
                   min(confidence, 1.0), severity, reason)


def _pct(x: float) -> str:
    return f"{round(x * 100)} %"


def _signal_note(col: ColumnSample, signal: tuple[Sequence[str], Sequence[str]]) -> str:
    return f" ; nom de colonne évocateur (« {col.name} »)" if col.words.has(*signal) else ""


def _scan_column(col: ColumnSample, options: ScanOptions, today: date) -> list[Finding]:
    out: list[Finding] = []
    n = len(col.values)
    k = options.max_examples

    def short_ok(count: int) -> bool:
        return count / n >= options.min_share

    is_code = col.words.has(_CODE_TOKENS)

    # Checksummed identifiers first: their spans are excluded from the phone search.
    strong_spans: list[tuple[int, int]] = []
    nir = _run(col, d.NIR, lambda m: d.nir_is_valid(m.group(0)), k,
               lambda m: d.mask_nir(m.group(0)))
    nir_signal = col.words.has(*_NIR_SIGNAL)
    if nir.valid and nir.valid / nir.candidates >= 0.5 and (
            nir.valid >= 2 or nir_signal or nir.valid / n >= 0.5):
        strong_spans += nir.spans
        out.append(_finding(
            col, "nir", nir.valid, nir.examples, 0.99, "high",
            f"{_pct(nir.valid / n)} des valeurs sont des NIR à clé valide"
            f" ({nir.valid}/{nir.candidates} candidats){_signal_note(col, _NIR_SIGNAL)}"))
    elif nir_signal:
        # Thirteen characters without the key: only the column name tells them apart.
        short = _run(col, d.NIR_WITHOUT_KEY, None, k, lambda m: d.mask_nir(m.group(0)))
        if short.valid / n >= 0.5:
            out.append(_finding(
                col, "nir", short.valid, short.examples, 0.8, "high",
                f"{_pct(short.valid / n)} des valeurs ont la forme d'un NIR sans clé"
                f"{_signal_note(col, _NIR_SIGNAL)}"))

    letters = not col.is_numeric
    iban = _run(col, d.IBAN, lambda m: d.iban_is_valid(m.group(0)), k,
                lambda m: d.mask_iban(m.group(0))) if letters else _Matches()
    if iban.valid and iban.valid / iban.candidates >= 0.5:
        strong_spans += iban.spans
        out.append(_finding(
            col, "iban", iban.valid, iban.examples, 0.99, "high",
            f"{_pct(iban.valid / n)} des valeurs sont des IBAN à clé valide"
            f"{_signal_note(col, _IBAN_SIGNAL)}"))

    email = _run(col, EMAIL, None, k, lambda m: d.mask_email(m.group(0))) \
        if letters and "@" in col.blob else _Matches()
    if email.valid:
        generic = sum(d.email_is_generic(e) for e in email.matched) / len(email.matched)
        severity = "low" if generic >= 0.8 else "medium"
        note = " ; boîtes de service (contact@, accueil@…)" if severity == "low" else ""
        out.append(_finding(
            col, "email", email.valid, email.examples,
            0.99 if email.valid / n >= 0.5 else 0.85, severity,
            f"{_pct(email.valid / n)} des valeurs contiennent une adresse électronique{note}"))

    phone_signal = col.words.has(*_PHONE_SIGNAL)
    phone = _run(col, PHONE, None, k, lambda m: d.mask_phone(m.group(0)),
                 exclude=strong_spans)
    if phone_signal and phone.valid < n:
        bare = _run(col, d.PHONE_WITHOUT_ZERO, None, k, lambda m: d.mask_phone(m.group(0)))
        if bare.valid > phone.valid:
            phone = bare
    if phone.valid and is_code and not phone_signal:
        # A code column of ten digits starting with 0 is a code unless written like a phone.
        formatted = [p for p in phone.matched if not p.isdigit()]
        if len(formatted) < len(phone.matched) / 2:
            phone = _Matches()
    if phone.valid and (short_ok(phone.valid) or (col.is_text and phone.valid >= 2)
                        or (phone_signal and phone.valid / n >= 0.1)):
        mobiles = sum(d.phone_is_mobile(p) for p in phone.matched) / len(phone.matched)
        out.append(_finding(
            col, "phone", phone.valid, phone.examples, 0.95 if phone_signal else 0.9,
            "medium" if mobiles >= 0.2 else "low",
            f"{_pct(phone.valid / n)} des valeurs sont des numéros de téléphone français"
            f"{_signal_note(col, _PHONE_SIGNAL)}"))

    plate_signal = col.words.has(*_PLATE_SIGNAL)
    plate = _run(col, d.PLATE, None, k, lambda m: d.mask_plate(m.group(0))) if letters \
        else _Matches()
    plate_count = plate.valid
    if plate_count and (not is_code or plate_signal) and (
            short_ok(plate_count) or (col.is_text and plate_count >= 2)
            or (plate_signal and plate_count / n >= 0.1)):
        out.append(_finding(
            col, "plate", plate_count, plate.examples, 0.95 if plate_signal else 0.85,
            "medium",
            f"{_pct(plate_count / n)} des valeurs ont la forme d'une plaque d'immatriculation"
            f"{_signal_note(col, _PLATE_SIGNAL)}"))

    address = _run(col, d.ADDRESS, None, k, lambda m: d.mask_address(m.group(0))) \
        if letters else _Matches()
    address_signal = col.words.has(*_ADDRESS_SIGNAL)
    if address.valid and (short_ok(address.valid) or (col.is_text and address.valid >= 2)
                          or (address_signal and address.valid / n >= 0.1)):
        out.append(_finding(
            col, "address", address.valid, address.examples,
            0.9 if address_signal else 0.8, "medium",
            f"{_pct(address.valid / n)} des valeurs sont des adresses (numéro, type de voie, "
            f"nom){_signal_note(col, _ADDRESS_SIGNAL)}"))

    if col.words.has(*_BIRTH_SIGNAL):
        dates = _run(col, d.DATE, lambda m: (day := d.parse_date(m)) is not None
                     and d.plausible_birth(day, today), k,
                     lambda m: d.mask_date(d.parse_date(m) or today))
        if dates.valid / n >= 0.5:
            out.append(_finding(
                col, "birth_date", dates.valid, dates.examples, 0.95, "high",
                f"{_pct(dates.valid / n)} des valeurs sont des dates entre 1900 et aujourd'hui"
                f" ; nom de colonne évocateur (« {col.name} »)"))
        else:
            years = _run(col, d.YEAR, lambda m: 1900 <= int(m.group(0)) <= today.year, k,
                         lambda m: m.group(0)[:3] + "*")
            if years.valid / n >= 0.5:
                out.append(_finding(
                    col, "birth_date", years.valid, years.examples, 0.8, "medium",
                    f"{_pct(years.valid / n)} des valeurs sont des années de naissance"
                    f" ; nom de colonne évocateur (« {col.name} »)"))

    named = _name(col, options) if letters else None
    if named is None and letters and col.is_text:
        civil = _run(col, d.CIVILITY_NAME, None, k, lambda m: _mask_name(m.group(0)))
        if civil.valid >= 2:
            named = _finding(
                col, "name", civil.valid, civil.examples, 0.8, "high",
                f"{_pct(civil.valid / n)} des textes nomment une personne (civilité suivie "
                "d'un nom : « Mme D*** »)")
    if named:
        out.append(named)
    return out


# --- names ---------------------------------------------------------------------------------

_NAME_TOKEN = re.compile(r"^(?:[A-ZÀ-ÖØ-Þ]['’])?"
                         r"(?:[A-ZÀ-ÖØ-Þ][a-zà-öø-ÿ'’]+|[A-ZÀ-ÖØ-Þ][A-ZÀ-ÖØ-Þ'’]+|[A-Z]\.?)"
                         r"(?:-(?:[A-ZÀ-ÖØ-Þ][a-zà-öø-ÿ'’]+|[A-ZÀ-ÖØ-Þ][A-ZÀ-ÖØ-Þ'’]+))*$")


@dataclass
class _NameEvidence:
    shaped: bool = False  # looks like a person's name
    first: bool = False  # holds a known first name
    surname: bool = False  # holds a frequent surname
    full: bool = False  # two or more words, a first name at either end, or a civility
    civility: bool = False


_CIVILITY_WORDS = frozenset(c.rstrip(".") for c in CIVILITIES)


def _name_value(value: str) -> _NameEvidence:
    ev = _NameEvidence()
    words = value.replace(",", " ").split()
    if not words or len(words) > 6 or any(ch.isdigit() for ch in value) or "@" in value:
        return ev
    if fold(words[0]).rstrip(".") in _CIVILITY_WORDS:
        ev.civility = True
        words = words[1:]
        if not words:
            return ev
    folded = [fold(w) for w in words]
    core = [w for w, f in zip(words, folded, strict=True)
            if f not in PARTICLES and not f.startswith("d'")]
    if not core or len(core) > 4:
        return ev
    if any(p in NOT_A_PERSON for f in folded for p in f.split("-")):
        return ev
    if not all(_NAME_TOKEN.match(w) for w in core):
        # Lower-case names ("jean dupont") count only when every word is a listed name.
        if not all(w.isalpha() and (fold(w) in FIRST_NAMES or fold(w) in SURNAMES)
                   for p in core for w in p.split("-")):
            return ev
    ev.shaped = True
    parts = [fold(p) for w in core for p in w.split("-")]
    ends = {fold(core[0]), fold(core[-1])}
    ev.first = bool(ends & FIRST_NAMES) or any(p in FIRST_NAMES for p in parts[:1] + parts[-1:])
    ev.surname = any(fold(w) in SURNAMES for w in core)
    ev.full = (len(core) >= 2 and ev.first) or (ev.civility and len(core) >= 1)
    return ev


# Prefilter over the joined sample: lines that could be a name (short, no digit, no @).
_NAME_LIKE_LINE = re.compile(r"^[^\d@\n]{1,80}$", re.MULTILINE)


def _name(col: ColumnSample, options: ScanOptions) -> Finding | None:
    values = col.values
    n = len(values)
    if len(_NAME_LIKE_LINE.findall(col.blob)) < 0.5 * n:
        return None
    # A column repeats its values (the same surnames, the same communes): judge each once.
    judged = {v: _name_value(v) for v in set(values)}
    evidence = [judged[v] for v in values]
    shaped = sum(e.shaped for e in evidence) / n
    if shaped < 0.5:
        return None
    first = sum(e.first for e in evidence) / n
    surname = sum(e.surname for e in evidence) / n
    full = sum(e.full for e in evidence) / n
    civility = sum(e.civility for e in evidence) / n
    distinct = len(set(values)) / n
    signal = col.words.has(*_NAME_SIGNAL)
    place = col.words.has(_PLACE_TOKENS)
    listed = max(first, surname)
    if place:
        ok = full >= 0.6 and first >= 0.5
        confidence = 0.7
    elif signal:
        strong = col.words.has(*_STRONG_NAME_SIGNAL)
        ok = shaped >= 0.7 and (listed >= 0.05 or full >= 0.1 or civility >= 0.1
                                or (strong and shaped >= 0.8))
        confidence = 0.95 if listed >= 0.2 or full >= 0.2 else 0.75
    else:
        ok = shaped >= 0.7 and (full >= 0.4 or first >= 0.6 or civility >= 0.3
                                or (surname >= 0.3 and distinct >= 0.3))
        confidence = 0.85 if full >= 0.5 or first >= 0.7 else 0.7
    if not ok:
        return None
    matching = [v for v, e in zip(values, evidence, strict=True)
                if e.shaped and (e.first or e.surname or e.full or signal)]
    examples = []
    for v in matching:
        masked = _mask_name(v)
        if masked not in examples:
            examples.append(masked)
        if len(examples) >= options.max_examples:
            break
    parts = [f"{_pct(shaped)} des valeurs ont la forme d'un nom de personne"]
    if first >= 0.05:
        parts.append(f"{_pct(first)} contiennent un prénom courant")
    if full >= 0.05:
        parts.append(f"{_pct(full)} sont des noms complets")
    if signal:
        parts.append(f"nom de colonne évocateur (« {col.name} »)")
    return _finding(col, "name", len(matching), examples, confidence, "high", " ; ".join(parts))


def _mask_name(value: str) -> str:
    return d.mask_words(value)


# --- positions -----------------------------------------------------------------------------


def _table_is_personal(samples: list[ColumnSample], findings: list[Finding]) -> bool:
    if any(f.kind in {"name", "nir", "birth_date", "iban", "plate"} for f in findings):
        return True
    return any(c.words.has(*_PERSON_TABLE) for c in samples)


def _precise_numbers(col: ColumnSample) -> list[float]:
    return [float(x.replace(",", ".")) for x in d.PRECISE_LINE.findall(col.blob)]


def _coordinate_pairs(samples: list[ColumnSample]) -> set[str]:
    """Columns that are coordinates by their values alone: two neighbouring columns of
    precise numbers, one within ±90 (latitude) and the other within ±180 (longitude)."""
    shaped: list[tuple[str, float, float] | None] = []
    for col in samples:
        numbers = _precise_numbers(col) if col.values else []
        if col.values and len(numbers) >= 0.9 * len(col.values) and len(numbers) >= 5:
            lo, hi = min(numbers), max(numbers)
            # Coordinates of one territory vary, but not wildly: not a list of rates or ids.
            shaped.append((col.name, lo, hi) if -180 <= lo < hi <= 180 and hi - lo < 30
                          else None)
        else:
            shaped.append(None)
    out: set[str] = set()
    for a, b in zip(shaped, shaped[1:], strict=False):
        if a and b and (max(abs(a[1]), abs(a[2])) <= 90 or max(abs(b[1]), abs(b[2])) <= 90):
            out.update({a[0], b[0]})
    return out


def _position(col: ColumnSample, options: ScanOptions, personal: bool,
              paired: bool = False) -> Finding | None:
    if not (personal or col.words.has(*_HOME_SIGNAL)):
        return None
    n = len(col.values)
    k = options.max_examples
    pairs = _run(col, d.COORDINATE_PAIR,
                 lambda m: d.pair_is_position(float(m.group(1)), float(m.group(2))), k,
                 lambda m: f"{d.mask_coordinate(m.group(1))}, {d.mask_coordinate(m.group(2))}")
    singles = _Matches()
    if col.words.has(*_COORD_SIGNAL) or paired:
        singles = _run(col, d.PRECISE_LINE,
                       lambda m: abs(float(m.group(0).replace(",", "."))) <= 180, k,
                       lambda m: d.mask_coordinate(m.group(0)))
    count = pairs.valid + singles.valid  # a line is either one number or holds a pair
    if count / n < 0.5:
        return None
    home = col.words.has(*_HOME_SIGNAL)
    why = (f"le nom de colonne désigne un domicile ou une personne (« {col.name} »)" if home
           else "la table décrit des personnes (noms, NIR, dates de naissance…)")
    examples = (pairs.examples + singles.examples)[:k]
    return _finding(col, "position", count, examples, 0.85, "high",
                    f"{_pct(count / n)} des valeurs sont des coordonnées à au moins "
                    f"4 décimales (≈ 11 m) ; {why}")


_HOUSE_NUMBER_NAME = (("numero", "num", "no", "n", "number", "numvoie"),
                      ("numerovoie", "numvoie", "novoie", "housenumber", "numeroadresse"))
_STREET_NAME = (("voie", "rue", "adresse", "street", "adr"),
                ("voie", "adresse", "street"))


def _split_addresses(samples: list[ColumnSample], findings: list[Finding],
                     options: ScanOptions) -> list[Finding]:
    """An address split over columns (numero_voie | libelle_voie | code_postal | ville): the
    street column is reported when a column of house numbers sits beside it."""
    has_address = {f.column for f in findings if f.kind == "address"}
    numbers = [
        i for i, c in enumerate(samples)
        if c.values and c.words.has(*_HOUSE_NUMBER_NAME)
        and _run(c, d.HOUSE_NUMBER).valid >= 0.5 * len(c.values)
    ]
    out = []
    for i, col in enumerate(samples):
        if not col.values or col.name in has_address or not col.words.has(*_STREET_NAME):
            continue
        if not any(abs(i - j) <= 2 for j in numbers):
            continue
        streets = _run(col, d.STREET, None, options.max_examples,
                       lambda m: d.mask_address(m.group(0)))
        n = len(col.values)
        if streets.valid / n >= options.min_share:
            number_col = samples[min(numbers, key=lambda j: abs(i - j))].name
            out.append(_finding(
                col, "address", streets.valid, streets.examples, 0.75, "medium",
                f"{_pct(streets.valid / n)} des valeurs sont des voies, avec les numéros dans "
                f"la colonne « {number_col} » : une adresse répartie sur plusieurs colonnes"))
    return out


def _public_place(samples: list[ColumnSample], findings: list[Finding],
                  subject: str) -> str | None:
    """What says the table lists public places (a column's name, or the subject), in French;
    None when nothing does or when the table is about persons by its strongest signs."""
    if any(f.kind in {"nir", "birth_date", "iban", "plate"} for f in findings):
        return None
    if any(c.words.has(*_PERSON_TABLE) for c in samples):
        return None
    for col in samples:
        if col.words.has(*_PUBLIC_PLACE):
            return f"la colonne « {col.name} » désigne un lieu ou un équipement"
    if subject and ColumnName.of(subject).has(*_PUBLIC_PLACE):
        return f"le jeu de données porte sur des lieux ou équipements (« {subject} »)"
    return None


def _as_place(f: Finding, why: str) -> Finding:
    return replace(f, severity="low", suggestion="not_personal",
                   reason=f"{f.reason} ; {why}, sans personne dans la table : donnée d'un "
                          "lieu public probable, proposée comme non personnelle (le DPO "
                          "décide)")


def _in_context(f: Finding, personal: bool) -> Finding:
    """Addresses and phone numbers weigh more in a table about persons than in a list of
    facilities (the town hall's address and switchboard)."""
    if f.kind == "address" and not personal:
        return replace(f, severity="low", reason=f.reason + " ; aucune personne dans la table "
                       "(adresse d'un lieu probable)")
    if f.kind == "phone" and personal and f.severity == "low":
        return replace(f, severity="medium",
                       reason=f.reason + " ; la table décrit des personnes")
    return f
