"""The audit spreadsheet as Troyes built it, one row per dataset: its columns, and the plan
of what importing it would do.

- `read_spreadsheet` reads the file with the core reader (`core/tabular`), handing it the
  audit's column names so that the header row is found below title rows;
- `plan_import` matches headers, reads French values (`inventory/french`) and compares each
  row with the inventory by a natural key (organisation + department + folded title); it
  writes nothing. `inventory/importer.apply_import` writes a valid plan.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

from pydantic import ValidationError
from sqlalchemy import select
from sqlalchemy.orm import Session

from patrimoine.access.permissions import (
    can_create_organisations,
    can_edit_dataset,
    can_edit_in,
    can_import_inventory,
    require,
)
from patrimoine.access.principal import Principal
from patrimoine.core.errors import Invalid
from patrimoine.core.tabular import HeaderNames, RowError, Table, read_table
from patrimoine.core.text import key
from patrimoine.core.values import plain
from patrimoine.inventory import french
from patrimoine.inventory.french import clean
from patrimoine.inventory.models import (
    AccessLevel,
    Dataset,
    Department,
    LifecycleStage,
    Organisation,
    YesNoUndefined,
)
from patrimoine.inventory.service import DatasetInput

# ---------------------------------------------------------------------------------------------
# Columns
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Column:
    field: str
    label: str  # French name shown in errors
    synonyms: tuple[str, ...]
    required: bool = False


COLUMNS: tuple[Column, ...] = (
    Column("organisation", "Collectivité", (
        "Collectivité", "Organisation", "Entité", "Structure", "Organisme", "Établissement",
        "Collectivité productrice", "Nom de la collectivité"), required=True),
    Column("department", "Direction", (
        "Direction", "Service", "Direction / Service", "Pôle", "Direction ou service",
        "Service producteur", "Direction productrice", "Département")),
    Column("title", "Nom du tableau de suivi", (
        "Nom du tableau de suivi", "Nom", "Titre", "Jeu de données", "Intitulé",
        "Tableau de suivi", "Nom du jeu de données", "Titre du jeu de données",
        "Libellé", "Nom du fichier", "Donnée", "Données", "Tableau de bord",
        "Nom du tableau de bord"), required=True),
    Column("description", "Description", (
        "Description", "Commentaire", "Commentaires", "Observations", "Remarques",
        "Détail", "Objet", "Contenu")),
    Column("theme", "Thématique", ("Thématique", "Thème", "Domaine", "Catégorie")),
    Column("source", "Source des données", (
        "Source des données", "Source", "Origine des données", "Origine",
        "Source de la donnée", "Interne / Externe")),
    Column("producer", "Producteur", (
        "Producteur", "Fournisseur", "Prestataire", "Producteur externe",
        "Source externe", "Fournisseur des données", "Détail de la source")),
    Column("sharing", "Partage des données", (
        "Partage des données", "Partage", "Partageable", "Données partagées",
        "Partage de la donnée", "Données partageables")),
    Column("confidentiality", "Confidentialité des données", (
        "Confidentialité des données", "Confidentialité", "Confidentiel",
        "Données confidentielles", "Confidentialité de la donnée")),
    Column("cost_per_year", "Coût", (
        "Coût", "Coût annuel", "Coût par an", "Coût annuel en euros", "Coût en euros",
        "Coût des données", "Budget", "Montant", "Coût de la donnée")),
    Column("update_frequency", "Fréquence de mise à jour", (
        "Fréquence de mise à jour", "Fréquence", "Mise à jour", "Périodicité",
        "Fréquence de MAJ", "Fréquence d'actualisation", "Périodicité de mise à jour",
        "Actualisation")),
    Column("access_level", "Niveau d'accès", (
        "Niveau d'accès", "Accès", "Niveau d'ouverture", "Ouverture", "Statut d'accès")),
    Column("contains_personal_data", "Données personnelles", (
        "Données personnelles", "Contient des données personnelles",
        "Données à caractère personnel", "DCP", "RGPD", "Présence de données personnelles")),
    Column("licence", "Licence", ("Licence", "License", "Licence de réutilisation")),
    Column("keywords", "Mots-clés", ("Mots-clés", "Mots clefs", "Mot-clé", "Tags", "Étiquettes")),
    Column("spatial_coverage", "Couverture géographique", (
        "Couverture géographique", "Couverture spatiale", "Territoire", "Emprise",
        "Périmètre géographique", "Zone géographique")),
    Column("temporal_start", "Début de couverture", (
        "Début de couverture", "Date de début", "Couverture temporelle début", "Début")),
    Column("temporal_end", "Fin de couverture", (
        "Fin de couverture", "Date de fin", "Couverture temporelle fin", "Fin")),
    Column("contact_name", "Contact", (
        "Contact", "Référent", "Responsable", "Interlocuteur", "Personne à contacter",
        "Nom du contact", "Référent de la donnée")),
    Column("contact_email", "Courriel du contact", (
        "Courriel du contact", "Courriel", "E-mail", "Email", "Mail", "Adresse électronique",
        "Email du contact", "Mail du contact")),
    Column("lifecycle_stage", "Cycle de vie", (
        "Cycle de vie", "Étape du cycle de vie", "Stade", "Statut", "État")),
)
COLUMN_BY_FIELD = {c.field: c for c in COLUMNS}

# The names the reader looks for; a field's own name (cost per year) is the last synonym.
HEADERS = HeaderNames({c.field: (*c.synonyms, c.field.replace("_", " ")) for c in COLUMNS})


def match_header(text: str) -> str | None:
    """The inventory field a header names, or None."""
    return HEADERS.field(text)


def read_spreadsheet(data: bytes, filename: str) -> Table:
    """Read an audit spreadsheet (XLSX, ODS or CSV); Invalid with a French message if
    unreadable."""
    return read_table(data, filename, HEADERS)


@lru_cache(maxsize=4096)
def name_key(name: str) -> str:
    """Organisations and departments: 'C.M.A.S.' and 'CMAS' are one."""
    return key(name).replace(" ", "")


# ---------------------------------------------------------------------------------------------
# The plan
# ---------------------------------------------------------------------------------------------


@dataclass
class PlannedRow:
    line: int
    action: str  # "create", "update", "unchanged"
    title: str
    organisation: str
    department: str | None
    changes: dict[str, tuple[Any, Any]] = field(default_factory=dict)
    slug: str | None = None  # of the existing entry, for updates
    # What apply needs: the full field values (placement by name) and the entry to change.
    values: dict[str, Any] = field(default_factory=dict, repr=False)
    dataset_id: int | None = field(default=None, repr=False)

    def as_dict(self) -> dict[str, Any]:
        return {
            "line": self.line, "action": self.action, "title": self.title,
            "organisation": self.organisation, "department": self.department, "slug": self.slug,
            "changes": {f: [plain(old), plain(new)] for f, (old, new) in self.changes.items()},
        }


@dataclass
class ImportPlan:
    filename: str
    format: str
    encoding: str | None
    delimiter: str | None
    header_line: int
    columns: dict[str, str]  # header as written -> field
    ignored_columns: list[str]
    rows: list[PlannedRow]
    errors: list[RowError]
    new_organisations: list[str]
    new_departments: list[tuple[str, str]]  # (organisation, department)
    # Each column of the file in order: its header and the field it feeds (None: ignored).
    mapping: list[tuple[str, str | None]] = field(default_factory=list)
    # Places only an administrator may create, which this principal may not (their rows are
    # left out, and one grouped error says so).
    unknown_organisations: list[str] = field(default_factory=list)
    unknown_departments: list[tuple[str, str]] = field(default_factory=list)

    @property
    def counts(self) -> dict[str, int]:
        counts = {"create": 0, "update": 0, "unchanged": 0}
        for row in self.rows:
            counts[row.action] += 1
        return counts

    @property
    def ok(self) -> bool:
        return not self.errors

    def error_lines(self) -> list[str]:
        return [str(e) for e in self.errors]

    def as_dict(self) -> dict[str, Any]:
        return {
            "ok": self.ok,
            "dry_run": True,
            "filename": self.filename,
            "format": self.format,
            "encoding": self.encoding,
            "delimiter": self.delimiter,
            "header_line": self.header_line,
            "columns": self.columns,
            "ignored_columns": self.ignored_columns,
            "counts": self.counts,
            "new_organisations": self.new_organisations,
            "new_departments": [{"organisation": o, "department": d}
                                for o, d in self.new_departments],
            "mapping": [{"header": h, "field": f} for h, f in self.mapping],
            "unknown_organisations": self.unknown_organisations,
            "unknown_departments": [{"organisation": o, "department": d}
                                    for o, d in self.unknown_departments],
            "rows": [r.as_dict() for r in self.rows],
            "errors": [e.__dict__ for e in self.errors],
        }


class InventoryIndex:
    """Organisations, departments and entries, loaded in a few queries, indexed by key."""

    def __init__(self, session: Session, organisations: set[str], *,
                 with_datasets: bool = True) -> None:
        self.orgs: dict[str, Organisation] = {}
        for org in session.scalars(select(Organisation).order_by(Organisation.id)):
            self.orgs.setdefault(name_key(org.name), org)
            self.orgs.setdefault(name_key(org.slug), org)
        wanted = {o.id for k, o in self.orgs.items() if k in organisations}
        self.deps: dict[tuple[int, str], Department] = {}
        self.datasets: dict[tuple[int, int | None, str], Dataset] = {}
        if not wanted:
            return
        deps_by_id: dict[int, Department] = {}
        for dep in session.scalars(
            select(Department).where(Department.organisation_id.in_(wanted))
            .order_by(Department.id)
        ):
            deps_by_id[dep.id] = dep
            self.deps.setdefault((dep.organisation_id, name_key(dep.name)), dep)
        if not with_datasets:
            return
        for ds in session.scalars(
            select(Dataset).where(Dataset.organisation_id.in_(wanted)).order_by(Dataset.id)
        ):
            dep_key = None
            own = deps_by_id.get(ds.department_id) if ds.department_id is not None else None
            if own is not None:  # the first department of that name stands for all of them
                dep_key = self.deps[(own.organisation_id, name_key(own.name))].id
            self.datasets.setdefault((ds.organisation_id, dep_key, key(ds.title)), ds)



FIELDS_OF_INPUT = tuple(DatasetInput.model_fields)
_ORG_LABEL = COLUMN_BY_FIELD["organisation"].label
_DEP_LABEL = COLUMN_BY_FIELD["department"].label
_TITLE_LABEL = COLUMN_BY_FIELD["title"].label


def plan_import(session: Session, principal: Principal, table: Table,
                fields: list[str | None] | None = None) -> ImportPlan:
    """What importing `table` would do, row by row; writes nothing. `fields` names, column
    by column, the field each one feeds (None: ignored), instead of the one its header
    suggests; Invalid if it names a field twice or an unknown one."""
    require(can_import_inventory(principal), principal, "importer un inventaire")
    columns, mapped, ignored = (_map_columns(table.headers) if fields is None
                                else _chosen_columns(table.headers, fields))
    plan = ImportPlan(
        filename=table.filename, format=table.format, encoding=table.encoding,
        delimiter=table.delimiter, header_line=table.header_line, columns=mapped,
        ignored_columns=ignored, rows=[], errors=_missing_columns(table, columns),
        new_organisations=[], new_departments=[],
        mapping=[(h, columns.get(i)) for i, h in enumerate(table.headers)],
    )
    if plan.errors:
        return plan
    if not table.rows:
        plan.errors.append(RowError(table.header_line, "", "",
                                    "Le fichier ne contient aucune ligne sous les en-têtes."))
        return plan
    parsed: list[tuple[int, dict[str, str], dict[str, Any]]] = []
    for line, cells in table.rows:
        raw = {f: cells[i] for i, f in columns.items()}
        values, row_errors = _parse_row(line, raw)
        if row_errors:  # reported, and left out of the planned rows
            plan.errors.extend(row_errors)
            continue
        parsed.append((line, raw, values))
    planner = _Planner(session, principal, plan,
                       {name_key(raw.get("organisation", "")) for _, raw, _ in parsed})
    for line, raw, values in parsed:
        planner.add(line, raw, values)
    plan.new_organisations = list(planner.new_orgs.values())
    plan.new_departments = list(planner.new_deps.values())
    plan.unknown_organisations = [name for name, _ in planner.unknown_orgs.values()]
    plan.unknown_departments = [place for place, _ in planner.unknown_deps.values()]
    plan.errors.extend(planner.grouped_errors())
    plan.errors.sort(key=lambda e: e.line)
    return plan


def _map_columns(headers: list[str]) -> tuple[dict[int, str], dict[str, str], list[str]]:
    """Column index -> field (the best-named column of each field), header -> field, and the
    headers left out."""
    best: dict[str, tuple[int, int]] = {}  # field -> (rank, column index)
    for i, header in enumerate(headers):
        found = HEADERS.match(header)
        if found is not None and (found[0] not in best or found[1] < best[found[0]][0]):
            best[found[0]] = (found[1], i)
    columns = {i: f for f, (_, i) in sorted(best.items(), key=lambda item: item[1][1])}
    mapped: dict[str, str] = {}
    ignored: list[str] = []
    for i, header in enumerate(headers):
        if i in columns:
            mapped[header] = columns[i]
        elif header:
            ignored.append(header)
    return columns, mapped, ignored


def _chosen_columns(headers: list[str], fields: list[str | None]
                    ) -> tuple[dict[int, str], dict[str, str], list[str]]:
    """_map_columns() as the user chose it, column by column."""
    columns: dict[int, str] = {}
    for i, chosen in enumerate(fields[:len(headers)]):
        if not chosen:
            continue
        if chosen not in COLUMN_BY_FIELD:
            raise Invalid(f"Champ inconnu « {chosen} ».")
        if chosen in columns.values():
            raise Invalid(f"Le champ « {COLUMN_BY_FIELD[chosen].label} » est choisi pour deux "
                          "colonnes : gardez-en une seule.")
        columns[i] = chosen
    mapped = {headers[i]: f for i, f in columns.items()}
    ignored = [h for i, h in enumerate(headers) if i not in columns and h]
    return columns, mapped, ignored


def _missing_columns(table: Table, columns: dict[int, str]) -> list[RowError]:
    return [
        RowError(table.header_line, column.label, "",
                 f"Colonne obligatoire introuvable : « {column.label} » (ou "
                 f"{', '.join('« ' + s + ' »' for s in column.synonyms[1:4])}).")
        for column in COLUMNS
        if column.required and column.field not in columns.values()
    ]


@dataclass
class _Place:
    """Where a row goes: its organisation and department, known or to be created."""

    org_name: str
    dep_name: str | None
    okey: str
    dkey: str
    org: Organisation | None = None
    dep: Department | None = None
    unknown: bool = False  # a place this principal may not create: the row is left out


class _Planner:
    """Places each parsed row, checks the principal may write there, and compares it with
    the entry it would change."""

    def __init__(self, session: Session, principal: Principal, plan: ImportPlan,
                 organisations: set[str]) -> None:
        self.principal = principal
        self.plan = plan
        self.inventory = InventoryIndex(session, organisations)
        self.new_orgs: dict[str, str] = {}
        self.new_deps: dict[tuple[str, str], tuple[str, str]] = {}
        self.seen: dict[tuple[str, str, str], int] = {}
        # key -> (name, first line); departments: (organisation, department)
        self.unknown_orgs: dict[str, tuple[str, int]] = {}
        self.unknown_deps: dict[tuple[int, str], tuple[tuple[str, str], int]] = {}
        self.unknown_rows = 0

    def add(self, line: int, raw: dict[str, str], values: dict[str, Any]) -> None:
        error = self._row(line, raw, values)
        if error is not None:
            self.plan.errors.append(error)

    def _row(self, line: int, raw: dict[str, str], values: dict[str, Any]) -> RowError | None:
        org_name = clean(raw.get("organisation", ""))
        dep_name = clean(raw.get("department", "")) or None
        title = values.get("title") or clean(raw.get("title", ""))
        if not org_name:
            return RowError(line, _ORG_LABEL, "", "La collectivité est obligatoire.")
        if not title:
            return None  # already reported by _parse_row
        place = _Place(org_name, dep_name, name_key(org_name),
                       name_key(dep_name) if dep_name else "")
        natural = (place.okey, place.dkey, key(title))
        if natural in self.seen:
            return RowError(
                line, _TITLE_LABEL, title,
                f"Ce jeu de données figure déjà ligne {self.seen[natural]} (même collectivité, "
                "même direction et même nom) ; fusionnez ou renommez l'une des deux lignes.")
        self.seen[natural] = line
        error = self._locate(line, place)
        if error is not None:
            return error
        if place.unknown:
            self.unknown_rows += 1
            return None
        org, dep = place.org, place.dep
        existing = None
        if org is not None and (dep is not None or not dep_name):
            existing = self.inventory.datasets.get((org.id, dep.id if dep else None, key(title)))
        error = self._refusal(line, place, title, existing)
        if error is not None:
            return error
        self.plan.rows.append(self._planned(line, place, title, values, existing))
        return None

    def _locate(self, line: int, place: _Place) -> RowError | None:
        """Find the row's organisation and department, or note them as new."""
        org = place.org = self.inventory.orgs.get(place.okey)
        if org is None:
            if not can_create_organisations(self.principal):
                self.unknown_orgs.setdefault(place.okey, (place.org_name, line))
                place.unknown = True
                return None
            self.new_orgs.setdefault(place.okey, place.org_name)
        if not place.dep_name:
            return None
        place.dep = self.inventory.deps.get((org.id, place.dkey)) if org is not None else None
        if place.dep is None:
            if org is not None and not can_edit_in(self.principal, org.id, None):
                self.unknown_deps.setdefault((org.id, place.dkey),
                                             ((org.name, place.dep_name), line))
                place.unknown = True
                return None
            org_shown = self.new_orgs.get(place.okey) or org.name  # type: ignore[union-attr]
            self.new_deps.setdefault((place.okey, place.dkey), (org_shown, place.dep_name))
        return None

    def grouped_errors(self) -> list[RowError]:
        """One error for all the unknown organisations, one per organisation for its unknown
        departments: said once, not on each of their rows."""
        errors = []
        if self.unknown_orgs:
            names = [n for n, _ in self.unknown_orgs.values()]
            first = min(line for _, line in self.unknown_orgs.values())
            one = len(names) == 1
            errors.append(RowError(
                first, _ORG_LABEL, "",
                (f"Collectivité inconnue : « {names[0]} »" if one else
                 f"{len(names)} collectivités inconnues : "
                 + ", ".join(f"« {n} »" for n in names))
                + f" ({self.unknown_rows} ligne{'s' if self.unknown_rows > 1 else ''} "
                "écartée" + ("s" if self.unknown_rows > 1 else "") + ") ; seul un "
                "administrateur de l'instance peut " + ("la" if one else "les") + " créer : "
                "demandez-le-lui, puis importez de nouveau le fichier."))
        by_org: dict[str, list[tuple[str, int]]] = {}
        for (org_name, dep_name), line in self.unknown_deps.values():
            by_org.setdefault(org_name, []).append((dep_name, line))
        for org_name, deps in by_org.items():
            one = len(deps) == 1
            errors.append(RowError(
                min(line for _, line in deps), _DEP_LABEL, "",
                (f"Direction inconnue dans « {org_name} » : « {deps[0][0]} »" if one else
                 f"{len(deps)} directions inconnues dans « {org_name} » : "
                 + ", ".join(f"« {d} »" for d, _ in deps))
                + ". Votre compte n'a pas le droit de " + ("la" if one else "les")
                + " créer : demandez-le à un administrateur de cette organisation."))
        return errors

    def _refusal(self, line: int, place: _Place, title: str,
                 existing: Dataset | None) -> RowError | None:
        """Why the principal may not write this row, if it may not."""
        org, dep = place.org, place.dep
        if org is not None and dep is not None and not can_edit_in(self.principal, org.id,
                                                                   dep.id):
            return RowError(line, _DEP_LABEL, place.dep_name or "",
                            f"Votre compte n'a pas le droit de modifier l'inventaire de "
                            f"« {dep.name} » ({org.name}).")
        if org is not None and dep is None and not can_edit_in(self.principal, org.id, None):
            return RowError(line, _ORG_LABEL, place.org_name,
                            f"Votre compte n'a pas le droit de modifier l'inventaire de "
                            f"« {org.name} ».")
        if existing is not None and not can_edit_dataset(self.principal, existing):
            return RowError(line, _TITLE_LABEL, title,
                            "Votre compte n'a pas le droit de modifier ce jeu de données.")
        return None

    def _planned(self, line: int, place: _Place, title: str, values: dict[str, Any],
                 existing: Dataset | None) -> PlannedRow:
        org, dep = place.org, place.dep
        shown_org = org.name if org is not None else self.new_orgs[place.okey]
        shown_dep = dep.name if dep is not None else (
            self.new_deps[(place.okey, place.dkey)][1] if place.dep_name else None)
        if existing is None:
            changes = {f: (None, plain(v)) for f, v in values.items() if v not in (None, "", [])}
            changes.setdefault("organisation", (None, shown_org))
            if shown_dep:
                changes.setdefault("department", (None, shown_dep))
            return PlannedRow(line, "create", title, shown_org, shown_dep, changes,
                              values=values)
        merged = {f: getattr(existing, f) for f in FIELDS_OF_INPUT}
        merged.update(values)
        changes = {}
        for f in FIELDS_OF_INPUT:
            if f in ("organisation_id", "department_id"):
                continue
            old, new = plain(getattr(existing, f)), plain(merged[f])
            if old != new and not (old in (None, "", []) and new in (None, "", [])):
                changes[f] = (old, new)
        return PlannedRow(line, "update" if changes else "unchanged", title, shown_org,
                          shown_dep, changes, slug=existing.slug, values=merged,
                          dataset_id=existing.id)


# ---------------------------------------------------------------------------------------------
# Cells
# ---------------------------------------------------------------------------------------------


def _optional_day(end: bool) -> Callable[[str], Any]:
    return lambda text: french.day(text, end=end) if text else None


# Fields read from their cell alone; the others are below in _read_cell.
_READERS: dict[str, Callable[[str], Any]] = {
    "sharing": lambda text: french.choice(YesNoUndefined, text),
    "confidentiality": lambda text: french.choice(YesNoUndefined, text),
    "access_level": lambda text: (french.choice(AccessLevel, text) if text
                                  else AccessLevel.INTERNAL),
    "lifecycle_stage": lambda text: (french.choice(LifecycleStage, text) if text
                                     else LifecycleStage.STORED),
    "update_frequency": french.frequency,
    "contains_personal_data": french.yes_no,
    "cost_per_year": french.cost,
    "keywords": french.keywords,
    "temporal_start": _optional_day(end=False),
    "temporal_end": _optional_day(end=True),
    "description": lambda text: text,
}


def _parse_row(line: int, raw: dict[str, str]) -> tuple[dict[str, Any], list[RowError]]:
    """The DatasetInput fields a row gives (placement excepted), and its errors."""
    values: dict[str, Any] = {}
    errors: list[RowError] = []
    for f, text in raw.items():
        if f in ("organisation", "department"):
            continue
        text = text.strip()
        try:
            _read_cell(f, text, raw, values)
        except french.Unreadable as exc:
            errors.append(RowError(line, COLUMN_BY_FIELD[f].label, text, str(exc)))
    if not errors:
        errors.extend(_validate(line, values))
    if not errors and values.get("title"):
        errors.extend(_refused_by_service(line, raw, values))
    return values, errors


def _read_cell(f: str, text: str, raw: dict[str, str], values: dict[str, Any]) -> None:
    """Set the value(s) one cell gives; a source or a contact may fill a second field."""
    reader = _READERS.get(f)
    if reader is not None:
        values[f] = reader(text)
    elif f == "title":
        values[f] = clean(text)
        if not text:
            raise french.Unreadable("Le nom du jeu de données est obligatoire.")
        if len(values[f]) > 500:
            raise french.Unreadable("Nom trop long (500 caractères au plus).")
    elif f == "source":
        values["source"], producer = french.source(text)
        if producer and not raw.get("producer", "").strip():
            values["producer"] = producer[:300]
    elif f == "contact_name":
        email = french.EMAIL.search(text)
        if email and not raw.get("contact_email", "").strip():
            values["contact_email"] = email.group()
            text = clean(text.replace(email.group(), "").strip(" <>()[],;"))
        values[f] = text or None
    elif f == "contact_email":
        if text and not french.is_email(text):
            raise french.Unreadable(f"Adresse électronique « {text} » invalide.")
        values[f] = text or None
    else:
        values[f] = clean(text) or None


def _validate(line: int, values: dict[str, Any]) -> list[RowError]:
    errors = []
    for f, limit in french.TEXT_LIMITS.items():
        value = values.get(f)
        if isinstance(value, str) and len(value) > limit:
            column = COLUMN_BY_FIELD[f]
            errors.append(RowError(line, column.label, value[:60],
                                   f"Texte trop long ({limit} caractères au plus)."))
    start, end = values.get("temporal_start"), values.get("temporal_end")
    if start and end and start > end:
        errors.append(RowError(line, COLUMN_BY_FIELD["temporal_end"].label, end.isoformat(),
                               "La couverture temporelle finit avant de commencer."))
    return errors


def _refused_by_service(line: int, raw: dict[str, str], values: dict[str, Any]
                        ) -> list[RowError]:
    """The service's own rules, so that applying cannot fail on a value."""
    try:
        DatasetInput.model_validate({**values, "organisation_id": 0})
    except ValidationError as exc:
        errors = []
        for err in exc.errors():
            f = str(err["loc"][0]) if err.get("loc") else ""
            column = COLUMN_BY_FIELD.get(f)
            errors.append(RowError(line, column.label if column else f,
                                   raw.get(f, ""), f"Valeur refusée : {err['msg']}."))
        return errors
    return []
