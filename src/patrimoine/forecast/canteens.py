"""The canteen service's files, read as they are published, into one `History`.

The layout is Nantes' (../shared/data/nantes-cantines): one file per role (attendance,
canteens, name mappings, headcounts, menus, strikes, holidays, public holidays, school years).
Files are read by `core.tabular` (encoding found per file: the 2011-2015 menus are cp1252),
dates in ISO, `dd/mm/yyyy` or `dd/mm/yy` (the strikes). Attendance may come in several files
(a new week each time): a later file wins for the same canteen and day.

The attendance unit is a *site*: a canteen's name and type (M maternelle, E élémentaire, M/E)
as the attendance file spells them. A site's headcount for a school year is the sum of the
pupils of the schools the mappings attach to its canteen.
"""

from __future__ import annotations

import fnmatch
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

from patrimoine.core.errors import Invalid
from patrimoine.core.tabular import HeaderNames, Table, read_table
from patrimoine.core.text import key


@dataclass(frozen=True)
class Role:
    name: str
    pattern: str  # the file names of this role in a folder (fnmatch, case-insensitive)
    title: str  # the title of its dataset in the inventory (French)
    columns: dict[str, tuple[str, ...]]  # field -> header names
    required: bool = True
    several: bool = False  # several files (menus of successive periods)


ROLES: tuple[Role, ...] = (
    Role("attendance", "frequentation*.csv", "Cantines scolaires : fréquentation par jour",
         {"site_type": ("site_type",), "date": ("date",), "prevision": ("prevision",),
          "reel": ("reel",), "site_nom": ("site_nom",)}, several=True),
    Role("canteens", "cantines.csv", "Cantines scolaires : liste des cantines",
         {"cantine_nom": ("cantine_nom",), "cantine_type": ("cantine_type",),
          "secteur": ("secteur",)}),
    Role("site_mapping", "mapping_frequentation_cantines.csv",
         "Cantines scolaires : correspondance sites de fréquentation et cantines",
         {"site_nom": ("site_nom",), "site_type": ("site_type",),
          "cantine_nom": ("cantine_nom",), "cantine_type": ("cantine_type",)}),
    Role("school_mapping", "mapping_ecoles_cantines.csv",
         "Cantines scolaires : correspondance écoles et cantines",
         {"ecole": ("ecole",), "cantine_nom": ("cantine_nom",),
          "cantine_type": ("cantine_type",)}),
    Role("headcounts", "effectifs*.csv", "Cantines scolaires : effectifs des écoles par année",
         {"ecole": ("Ecole", "ecole"), "annee": ("Année scolaire", "annee_scolaire"),
          "effectif": ("Effectif",)}),
    Role("menus", "menus*.csv", "Cantines scolaires : menus",
         {"date": ("date", "Date"), "plat": ("menu", "Plat"), "rang": ("Rang",)},
         required=False, several=True),
    Role("strikes", "*greve*.csv", "Cantines scolaires : journées de grève",
         {"date": ("Jour", "date"), "evenement": ("Evenement",)}, required=False),
    Role("holidays", "vacances*.csv", "Calendrier : vacances scolaires",
         {"annee": ("annee_scolaire",), "nom": ("vacances_nom",), "debut": ("date_debut",),
          "fin": ("date_fin",), "zone": ("zone",)}),
    Role("public_holidays", "jours_feries*.csv", "Calendrier : jours fériés",
         {"date": ("date",), "ferie": ("jour_ferie",), "nom": ("nom_jour_ferie",)}),
    Role("school_years", "annees_scolaires*.csv", "Calendrier : années scolaires",
         {"annee": ("annee_scolaire",), "debut": ("date_debut",), "fin": ("date_fin",)}),
)
ROLE_BY_NAME = {r.name: r for r in ROLES}

Site = tuple[str, str]  # (site_nom, site_type)

_MISSING = ("", "NA", "N/A", "NaN", "-")
_ISO = re.compile(r"^(\d{4})-(\d{2})-(\d{2})")
_FRENCH = re.compile(r"^(\d{1,2})/(\d{1,2})/(\d{2}|\d{4})$")


def parse_date(text: str, where: str) -> date:
    """ISO (`2018-09-03`, time ignored), `03/09/2018` or `03/09/18` (years 2000-2099)."""
    text = text.strip()
    try:
        if m := _ISO.match(text):
            return date(int(m[1]), int(m[2]), int(m[3]))
        if m := _FRENCH.match(text):
            year = int(m[3]) + (2000 if len(m[3]) == 2 else 0)
            return date(year, int(m[2]), int(m[1]))
    except ValueError:
        pass
    raise Invalid(f"{where} : « {text} » n'est pas une date (attendu 2018-09-03, 03/09/2018 "
                  "ou 03/09/18).")


def _int(text: str, where: str) -> int:
    try:
        return int(float(text.replace(",", ".").replace(" ", "")))
    except ValueError:
        raise Invalid(f"{where} : « {text} » n'est pas un nombre.") from None


def school_year_of(day: date) -> str:
    """`2018-2019` for any day from August 2018 to July 2019."""
    start = day.year if day.month >= 8 else day.year - 1
    return f"{start}-{start + 1}"


@dataclass
class History:
    """Everything the forecast may know, as read from the files."""

    # (site, day) -> (meals ordered by the staff when known, meals served)
    attendance: dict[tuple[Site, date], tuple[int | None, int]] = field(default_factory=dict)
    # site -> school year -> pupils of the schools its canteen serves
    headcounts: dict[Site, dict[str, int]] = field(default_factory=dict)
    sector: dict[Site, str] = field(default_factory=dict)
    menus: dict[date, list[str]] = field(default_factory=dict)
    strikes: set[date] = field(default_factory=set)
    holidays: list[tuple[date, date, str]] = field(default_factory=list)  # first, last, name
    public_holidays: dict[date, str] = field(default_factory=dict)
    school_years: dict[str, tuple[date, date]] = field(default_factory=dict)

    @property
    def sites(self) -> list[Site]:
        return sorted({s for s, _ in self.attendance})

    @property
    def last_day(self) -> date | None:
        return max((d for _, d in self.attendance), default=None)

    def before(self, origin: date) -> History:
        """The same history without any attendance on or after `origin` (the no-leak rule:
        a forecast made on `origin` sees only this)."""
        kept = {k: v for k, v in self.attendance.items() if k[1] < origin}
        return History(kept, self.headcounts, self.sector, self.menus, self.strikes,
                       self.holidays, self.public_holidays, self.school_years)


def table_of(data: bytes, filename: str, role: Role) -> tuple[Table, dict[str, int]]:
    """The file's table and the position of each field of the role; a missing required
    column is refused with the file's name."""
    table = read_table(data, filename, HeaderNames(role.columns))
    names = HeaderNames(role.columns)
    positions: dict[str, int] = {}
    for i, header in enumerate(table.headers):
        found = names.field(header)
        if found and found not in positions:
            positions[found] = i
    optional = {"rang", "evenement", "secteur", "zone", "nom", "ferie"}
    missing = [f for f in role.columns if f not in positions and f not in optional]
    if missing:
        raise Invalid(f"Le fichier « {filename} » ({role.title}) n'a pas la ou les colonnes "
                      f"attendues : {', '.join(missing)}.")
    return table, positions


def _rows(data: bytes, filename: str, role: Role) -> Iterable[tuple[str, dict[str, str]]]:
    table, positions = table_of(data, filename, role)
    for row in table.rows:
        cells = {f: str(row.cells[i]).strip() if i < len(row.cells) else ""
                 for f, i in positions.items()}
        yield f"« {filename} », ligne {row.line}", cells


def role_of(filename: str) -> Role | None:
    """The role of a file by its name, as Nantes names them."""
    name = filename.lower()
    for role in ROLES:
        if fnmatch.fnmatch(name, role.pattern.lower()):
            return role
    return None


def read_folder(folder: Path) -> History:
    """The history of a folder laid out like ../shared/data/nantes-cantines."""
    if not folder.is_dir():
        raise Invalid(f"Le dossier « {folder} » n'existe pas.")
    files: dict[str, list[tuple[str, bytes]]] = {}
    for path in sorted(folder.iterdir()):
        role = role_of(path.name) if path.is_file() else None
        if role is not None:
            files.setdefault(role.name, []).append((path.name, path.read_bytes()))
    return read_files(files)


def read_files(files: Mapping[str, list[tuple[str, bytes]]]) -> History:
    """The history of the files of each role (role name -> [(file name, bytes)], in order:
    for attendance, a later file wins for the same site and day)."""
    missing = [r.title for r in ROLES if r.required and not files.get(r.name)]
    if missing:
        raise Invalid("Fichiers manquants pour la prévision des cantines : "
                      + " ; ".join(missing) + ".")
    h = History()

    def each(role: str) -> Iterable[tuple[str, dict[str, str]]]:
        for filename, data in files.get(role, []):
            yield from _rows(data, filename, ROLE_BY_NAME[role])

    for where, c in each("attendance"):
        if not c["date"] or c["reel"] in _MISSING:
            continue  # a day announced but not counted
        site = (c["site_nom"], c["site_type"])
        ordered = None if c["prevision"] in _MISSING else _int(c["prevision"], where)
        h.attendance[(site, parse_date(c["date"], where))] = (ordered, _int(c["reel"], where))
    _site_facts(h, each)
    for where, c in each("menus"):
        if c["date"] and c["plat"]:
            h.menus.setdefault(parse_date(c["date"], where), []).append(c["plat"])
    for where, c in each("strikes"):
        if c["date"]:
            h.strikes.add(parse_date(c["date"], where))
    for where, c in each("holidays"):
        h.holidays.append((parse_date(c["debut"], where), parse_date(c["fin"], where),
                           c.get("nom", "")))
    for where, c in each("public_holidays"):
        if c.get("ferie", "1") in ("1", "", "True", "true"):
            h.public_holidays[parse_date(c["date"], where)] = c.get("nom", "")
    for where, c in each("school_years"):
        h.school_years[c["annee"]] = (parse_date(c["debut"], where),
                                      parse_date(c["fin"], where))
    if not h.attendance:
        raise Invalid("Aucune fréquentation lue : la prévision a besoin de l'historique des "
                      "repas servis.")
    return h


def _site_facts(h: History, each: Callable[[str], Iterable[tuple[str, dict[str, str]]]]
                ) -> None:
    """Each site's sector and headcount per school year, through the name mappings."""
    canteen_of: dict[Site, tuple[str, str]] = {}
    for _, c in each("site_mapping"):
        canteen_of[(c["site_nom"], c["site_type"])] = (key(c["cantine_nom"]),
                                                        c["cantine_type"])
    sector = {(key(c["cantine_nom"]), c["cantine_type"]): c.get("secteur", "")
              for _, c in each("canteens")}
    schools: dict[tuple[str, str], list[str]] = {}
    for _, c in each("school_mapping"):
        if c["ecole"] and c["cantine_nom"]:
            schools.setdefault((key(c["cantine_nom"]), c["cantine_type"]), []).append(
                key(c["ecole"]))
    pupils: dict[str, dict[str, int]] = {}
    for where, c in each("headcounts"):
        if c["ecole"] and c["effectif"]:
            pupils.setdefault(key(c["ecole"]), {})[c["annee"].replace("/", "-")] = \
                _int(c["effectif"], where)
    for site in {s for s, _ in h.attendance}:
        canteen = canteen_of.get(site, (key(site[0]), site[1]))
        h.sector[site] = sector.get(canteen, "")
        years: dict[str, int] = {}
        for school in schools.get(canteen, []):
            for year, n in pupils.get(school, {}).items():
                years[year] = years.get(year, 0) + n
        h.headcounts[site] = years
