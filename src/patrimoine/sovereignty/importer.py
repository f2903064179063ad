"""Import of the IT department's application map (XLSX, ODS or CSV): one row per application.

Like the inventory import: `core/tabular` finds the header row (below title rows) with the
column names and synonyms of `COLUMNS`; `plan_import` reads every cell (French values,
folded), checks each row as the register would and compares it with the map, writing
nothing; `apply_import` writes a plan without errors through `applications` (history and
audit kept), all or nothing in the caller's unit of work. A row is the same application as
one already mapped when its organisation and reference (or, without a reference, its name)
match, so importing the same file again changes nothing.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from pydantic import ValidationError
from sqlalchemy import select
from sqlalchemy.orm import Session

from patrimoine.access.permissions import can_edit_sovereignty, can_import_applications, require
from patrimoine.access.principal import Principal
from patrimoine.core.errors import Invalid
from patrimoine.core.tabular import HeaderNames, RowError, Table, read_table
from patrimoine.core.text import key
from patrimoine.core.vocabulary import accepted_words, parse
from patrimoine.inventory.models import Organisation
from patrimoine.sovereignty import applications, strategy
from patrimoine.sovereignty.applications import ApplicationInput
from patrimoine.sovereignty.models import (
    ADEQUACY_COUNTRIES,
    EU_EEA_COUNTRIES,
    Application,
    ApplicationStatus,
    Certification,
    DataLocation,
    HostingMode,
    TransferTool,
)

COLUMNS: dict[str, tuple[str, ...]] = {
    "reference": ("Référence", "Code", "Code application", "Identifiant"),
    "name": ("Application", "Nom de l'application", "Nom", "Libellé", "Logiciel"),
    "organisation": ("Organisation", "Collectivité", "Entité"),
    "vendor": ("Éditeur", "Fournisseur", "Éditeur du logiciel"),
    "purpose": ("Objet", "Finalité", "Description", "Usage"),
    "department": ("Direction", "Service", "Pôle", "Direction utilisatrice"),
    "business_owner": ("Responsable métier", "Référent métier"),
    "technical_owner": ("Responsable technique", "Référent technique", "Référent DSI"),
    "status": ("Statut", "État"),
    "hosting_mode": ("Mode d'hébergement", "Hébergement", "Type d'hébergement"),
    "host": ("Hébergeur", "Prestataire d'hébergement"),
    "location": ("Localisation des données", "Localisation", "Zone d'hébergement"),
    "country": ("Pays", "Pays d'hébergement", "Pays des données"),
    "adequacy_decision": ("Décision d'adéquation",),
    "transfer_tool": ("Outil de transfert", "Garanties de transfert"),
    "non_eu_law_exposure": ("Soumis à une loi extra-européenne", "Loi extra-européenne",
                            "Exposition extraterritoriale", "Cloud Act"),
    "certifications": ("Certifications", "Certification"),
    "sensitivity": ("Sensibilité", "Niveau de sensibilité", "Sensibilité des données"),
    "datasets": ("Jeux de données", "Jeux de données liés"),
    "activities": ("Traitements", "Traitements RGPD", "Traitements liés"),
}
HEADERS = HeaderNames(COLUMNS)
REQUIRED = ("name", "hosting_mode")
_TEXTS = ("reference", "name", "vendor", "purpose", "department", "business_owner",
          "technical_owner", "host", "country", "adequacy_decision", "sensitivity")
_YES, _NO = {"oui", "o", "x", "vrai", "yes", "1"}, {"non", "n", "faux", "no", "0", ""}


@dataclass
class PlannedRow:
    line: int
    action: str  # "create", "update" or "unchanged"
    name: str
    organisation: str
    data: ApplicationInput
    application_id: int | None = None
    reference: str | None = None

    def as_dict(self) -> dict[str, Any]:
        return {"line": self.line, "action": self.action, "name": self.name,
                "organisation": self.organisation, "reference": self.reference}


@dataclass
class ImportPlan:
    filename: str
    format: str
    header_line: int
    rows: list[PlannedRow] = field(default_factory=list)
    errors: list[RowError] = field(default_factory=list)
    ignored_columns: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.errors

    @property
    def counts(self) -> dict[str, int]:
        out = {"create": 0, "update": 0, "unchanged": 0}
        for row in self.rows:
            out[row.action] += 1
        return out

    def error_lines(self) -> list[str]:
        return [str(e) for e in self.errors]

    def as_dict(self) -> dict[str, Any]:
        return {"ok": self.ok, "dry_run": True, "filename": self.filename,
                "format": self.format, "header_line": self.header_line, "counts": self.counts,
                "ignored_columns": self.ignored_columns,
                "errors": [{"line": e.line, "column": e.column, "value": e.value,
                            "message": e.message} for e in self.errors],
                "rows": [r.as_dict() for r in self.rows]}


def read_spreadsheet(data: bytes, filename: str) -> Table:
    return read_table(data, filename, HEADERS)


def _location(country: str | None) -> DataLocation | None:
    """Where data lie, from the country alone."""
    if not country:
        return None
    k = key(country)
    if k == "france":
        return DataLocation.FRANCE
    if k in EU_EEA_COUNTRIES:
        return DataLocation.EU
    if k in ADEQUACY_COUNTRIES:
        return DataLocation.ADEQUACY
    return DataLocation.THIRD_COUNTRY


def _list(text: str) -> list[str]:
    return [p.strip() for p in text.replace("\n", ";").replace(",", ";").split(";")
            if p.strip()]


class _Reader:
    """Reads one row's cells into values, collecting per-cell errors."""

    def __init__(self, line: int, cells: dict[str, str], headers: dict[str, str]) -> None:
        self.line, self.cells, self.headers = line, cells, headers
        self.errors: list[RowError] = []

    def error(self, f: str, message: str) -> None:
        self.errors.append(RowError(self.line, self.headers.get(f, ""),
                                    self.cells.get(f, ""), message))

    def enum(self, f: str, enum: Any, what: str) -> Any:
        text = self.cells.get(f, "")
        if not text:
            return None
        found = parse(enum, text)
        if found is None:
            self.error(f, f"{what} « {text} » inconnu(e) ; valeurs admises : "
                          f"{accepted_words(enum)}.")
        return found

    def values(self) -> dict[str, Any]:
        c = self.cells
        out: dict[str, Any] = {f: c.get(f) or None for f in _TEXTS}
        out["purpose"] = c.get("purpose", "")
        for f in REQUIRED:
            if not c.get(f):
                self.error(f, "valeur obligatoire manquante.")
        out["status"] = self.enum("status", ApplicationStatus, "Statut") \
            or ApplicationStatus.IN_SERVICE
        out["hosting_mode"] = self.enum("hosting_mode", HostingMode, "Mode d'hébergement")
        out["transfer_tool"] = self.enum("transfer_tool", TransferTool, "Outil de transfert")
        location = self.enum("location", DataLocation, "Localisation") \
            if c.get("location") else _location(out["country"])
        if location is None and not c.get("location"):
            if out["hosting_mode"] == HostingMode.OWN:
                location = DataLocation.FRANCE
            else:
                self.error("location", "indiquez la localisation des données ou le pays.")
        out["location"] = location
        exposure = key(c.get("non_eu_law_exposure", ""))
        if exposure not in _YES | _NO:
            self.error("non_eu_law_exposure", f"« {c['non_eu_law_exposure']} » : répondez "
                                              "« oui » ou « non ».")
        out["non_eu_law_exposure"] = exposure in _YES
        certifications = []
        for text in _list(c.get("certifications", "")):
            found = parse(Certification, text)
            if found is None:
                self.error("certifications", f"Certification « {text} » inconnue ; valeurs "
                           f"admises : {accepted_words(Certification)}.")
            else:
                certifications.append(found)
        out["certifications"] = certifications
        out["datasets"] = _list(c.get("datasets", ""))
        out["activities"] = _list(c.get("activities", ""))
        return out


def _map_columns(table: Table, plan: ImportPlan) -> tuple[dict[int, str], dict[str, str]]:
    """{column index: field} and {field: header}; other headers are listed as ignored."""
    columns: dict[int, str] = {}
    headers: dict[str, str] = {}
    for i, header in enumerate(table.headers):
        f = HEADERS.field(header)
        if f is None or f in headers:
            if header:
                plan.ignored_columns.append(header)
            continue
        columns[i], headers[f] = f, header
    return columns, headers


def _check_row(session: Session, reader: _Reader, org: Organisation, data: ApplicationInput
               ) -> None:
    """What the register would refuse of this row, as per-cell errors."""
    for f, message in applications.placement_errors(data):
        reader.error(f, message)
    try:
        strategy.check_level(session, org.id, data.sensitivity)
    except Invalid as exc:
        reader.error("sensitivity", exc.message)
    if not reader.errors:
        try:
            applications.check_links(session, org, data)
        except Invalid as exc:
            reader.error("datasets" if "Jeux" in exc.message else "activities", exc.message)


def plan_import(session: Session, principal: Principal, table: Table, *,
                default_organisation: Organisation | None = None) -> ImportPlan:
    """Read and check every row against the map; write nothing."""
    require(can_import_applications(principal), principal, "importer une cartographie "
            "applicative")
    plan = ImportPlan(filename=table.filename, format=table.format,
                      header_line=table.header_line)
    columns, headers = _map_columns(table, plan)
    missing = [COLUMNS[f][0] for f in REQUIRED if f not in headers]
    if "organisation" not in headers and default_organisation is None:
        missing.append(COLUMNS["organisation"][0])
    if missing:
        plan.errors.append(RowError(
            table.header_line, "", "", "colonne(s) introuvable(s) : "
            + ", ".join(f"« {m} »" for m in missing) + "."))
        return plan
    organisations = {key(o.name): o for o in session.scalars(select(Organisation))}
    organisations.update({key(o.slug): o for o in organisations.values()})
    existing: dict[tuple[int, str], Application] = {}
    for app in session.scalars(select(Application)):
        existing[(app.organisation_id, "ref:" + key(app.reference))] = app
        existing.setdefault((app.organisation_id, "name:" + key(app.name)), app)
    seen: dict[tuple[int, str], int] = {}
    for row in table.rows:
        cells = {f: str(row.cells[i]).strip() for i, f in columns.items() if i < len(row.cells)}
        if not any(cells.values()):
            continue
        reader = _Reader(row.line, cells, headers)
        org = default_organisation
        if cells.get("organisation"):
            org = organisations.get(key(cells["organisation"]))
            if org is None:
                reader.error("organisation", f"organisation « {cells['organisation']} » "
                             "inconnue ; créez-la d'abord.")
        elif org is None:
            reader.error("organisation", "valeur obligatoire manquante.")
        if org is not None and not can_edit_sovereignty(principal, org.id):
            reader.error("organisation", "votre compte ne peut pas modifier la cartographie "
                         "de cette organisation.")
        values = reader.values()
        if reader.errors or org is None:
            plan.errors.extend(reader.errors)
            continue
        try:
            data = ApplicationInput.model_validate({**values, "organisation_id": org.id})
        except ValidationError as exc:
            for e in exc.errors():
                loc = str(e["loc"][0]) if e["loc"] else ""
                reader.error(loc, "valeur trop longue ou invalide.")
            plan.errors.extend(reader.errors)
            continue
        _check_row(session, reader, org, data)
        identity = (org.id, "ref:" + key(data.reference)) if data.reference \
            else (org.id, "name:" + key(data.name))
        if identity in seen:
            reader.error("reference" if data.reference else "name",
                         f"même application qu'à la ligne {seen[identity]}.")
        seen[identity] = row.line
        if reader.errors:
            plan.errors.extend(reader.errors)
            continue
        target = existing.get(identity)
        if target is None:
            plan.rows.append(PlannedRow(row.line, "create", data.name, org.name, data,
                                        reference=data.reference))
            continue
        if data.reference is None:
            data = data.model_copy(update={"reference": target.reference})
        same = applications.values_of(target) == applications.wanted(data)
        plan.rows.append(PlannedRow(row.line, "unchanged" if same else "update", data.name,
                                    org.name, data, target.id, target.reference))
    return plan


@dataclass
class ImportResult:
    filename: str
    counts: dict[str, int]
    created: list[str]  # references
    updated: list[str]

    def as_dict(self) -> dict[str, Any]:
        return {"ok": True, "dry_run": False, "filename": self.filename,
                "counts": self.counts, "created": self.created, "updated": self.updated}


def apply_import(session: Session, principal: Principal, plan: ImportPlan) -> ImportResult:
    """Write a plan without errors; raise Invalid (nothing written) when it has any."""
    require(can_import_applications(principal), principal, "importer une cartographie "
            "applicative")
    if not plan.ok:
        raise Invalid(f"Le fichier « {plan.filename} » contient {len(plan.errors)} "
                      "erreur(s) ; rien n'a été importé. Corrigez-les puis recommencez.",
                      errors=plan.error_lines())
    counts = {"create": 0, "update": 0, "unchanged": 0}
    created: list[str] = []
    updated: list[str] = []
    for row in plan.rows:
        if row.action == "create":
            app = applications.create_application(session, principal, row.data,
                                                  action="imported")
            created.append(app.reference)
            counts["create"] += 1
        elif row.action == "update" and row.application_id is not None:
            target = session.get(Application, row.application_id)
            if target is None:
                raise Invalid(f"Ligne {row.line} : l'application « {row.name} » a été "
                              "supprimée entre l'aperçu et l'import ; relancez l'aperçu.")
            changed = applications.update_application(session, principal, target, row.data,
                                                      action="import_updated")
            counts["update" if changed else "unchanged"] += 1
            if changed:
                updated.append(target.reference)
        else:
            counts["unchanged"] += 1
    session.flush()
    return ImportResult(plan.filename, counts, created, updated)
