"""The inventory to and from the data-catalogue schema (`catalogue-donnees`, Etalab 0.3.0:
the schema of catalogue.data.gouv.fr that the issue names as the SCDL data catalogue; it
maps itself onto OpenDataFrance's `scdl-catalogue`, whose files this module also imports).

Export writes one row per dataset the principal may read, in the schema's column order. The
schema requires eight columns; where the inventory lacks one, a documented fallback fills it
when it means the same thing (`service`: the organisation itself when no direction is given;
`description`: the title; `mots_cles`: the theme; `format`: the formats the newest version
the principal may read downloads in, as the portal offers them (GeoJSON only where the data
has positions or shapes), else the formats on record, else "inconnu"), otherwise the dataset
is left out and reported with what is missing, so that the file validates against the schema
unmodified. `include_incomplete=True` writes those rows anyway (the file then does not
validate). The `url` of a public entry is its portal page under the instance's public URL
(setting `public_url`, printed by `patrimoine serve`); every format listed there answers at
`/api/v1/datasets/<slug>/export.<format>` (tested through the application).

Import reads such a file (or an `scdl-catalogue` one) into the audit-spreadsheet importer's
own table: columns are renamed to the importer's headers and values put in its vocabulary,
then `inventory.audit_sheet.plan_import` / `importer.apply_import` do the work (natural keys,
history, audit, all or nothing). Columns the inventory has no field for (formats, URL, SIRET,
publication and update dates, information system) are kept in the entry's `extra["catalogue"]`
and written back on export.
"""

from __future__ import annotations

import io
import re
from dataclasses import dataclass, field, replace
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from patrimoine.access.permissions import is_public, readable_datasets
from patrimoine.access.principal import Principal
from patrimoine.core import csvcells
from patrimoine.core.errors import Invalid
from patrimoine.core.settings import Settings
from patrimoine.core.tabular import Row, Table
from patrimoine.core.text import key
from patrimoine.core.vocabulary import label
from patrimoine.datastore.models import DatasetVersion
from patrimoine.interop.public import FORMAT_LABELS, export_formats
from patrimoine.inventory import audit_sheet, importer
from patrimoine.inventory.models import Dataset, UpdateFrequency
from patrimoine.protection import gate
from patrimoine.standards import schemas

SCHEMA_NAME = "catalogue-donnees"
EXTRA_KEY = "catalogue"
# An entry with no published data and no format on record: said as such, like the schema's
# own "Inconnue" for frequencies, rather than leaving the entry out of the catalogue.
UNKNOWN_FORMAT = "inconnu"
_EMAIL = re.compile(r"[^@\s<>,;]+@[^@\s<>,;]+\.[^@\s<>,;]+")

# Columns of catalogue-donnees -> header of the audit importer (same meaning).
_TO_IMPORTER = {
    "nom_orga": "Collectivité",
    "service": "Direction",
    "titre": "Nom du tableau de suivi",
    "description": "Description",
    "mots_cles": "Mots-clés",
    "freq_maj": "Fréquence de mise à jour",
    "couv_geo": "Couverture géographique",
    "licence": "Licence",
    "contact_personne": "Courriel du contact",
}
# Columns of scdl-catalogue (OpenDataFrance) -> the same.
_SCDL_TO_IMPORTER = {
    "COLL_NOM": "Collectivité",
    "TITRE": "Nom du tableau de suivi",
    "DESCRIPTION": "Description",
    "THEME": "Thématique",
    "PRODUCTEUR_NOM": "Producteur",
    "COUV_SPAT_NOM": "Couverture géographique",
    "COUV_TEMP_DEBUT": "Début de couverture",
    "COUV_TEMP_FIN": "Fin de couverture",
    "FREQ_MAJ": "Fréquence de mise à jour",
    "MOTS_CLES": "Mots-clés",
    "LICENCE": "Licence",
}
# Columns kept in extra["catalogue"] under the catalogue-donnees name.
_KEPT = {
    "siret_orga": "siret_orga", "id_alt_orga": "id_alt_orga", "si": "si",
    "contact_service": "contact_service", "date_pub": "date_pub", "date_maj": "date_maj",
    "url": "url", "format": "format", "contact_personne": "contact_personne",
    "freq_maj": "freq_maj",
    "COLL_SIRET": "siret_orga", "DATE_PUBL": "date_pub", "DATE_MAJ": "date_maj",
    "URL": "url", "FORMAT_RESSOURCES": "format", "ID": "id", "FREQ_MAJ": "freq_maj",
    "COUV_SPAT_MAILLE": "couv_spat_maille", "PRODUCTEUR_SIRET": "producteur_siret",
    "NOMBRE_RESSOURCES": "nombre_ressources",
}
# Frequencies of both schemas that the inventory's vocabulary names differently.
_FREQUENCIES = {
    "toutes les heures": UpdateFrequency.CONTINUOUS,
    "continuelle": UpdateFrequency.CONTINUOUS,
    "bimestrielle": UpdateFrequency.QUARTERLY,
    "biennale": UpdateFrequency.IRREGULAR,
    "triennale": UpdateFrequency.IRREGULAR,
    "quinquennale": UpdateFrequency.IRREGULAR,
}
_SCDL_LICENCES = {
    "licence ouverte lo": "Licence Ouverte 2.0",
    "open database license odbl": "ODbL",
}


def schema() -> schemas.ShippedSchema:
    return schemas.get_schema(SCHEMA_NAME)


def field_names() -> list[str]:
    return [str(f["name"]) for f in schema().descriptor()["fields"]]


def required_fields() -> list[str]:
    return [str(f["name"]) for f in schema().descriptor()["fields"]
            if (f.get("constraints") or {}).get("required")]


# ---------------------------------------------------------------------------------------------
# Export
# ---------------------------------------------------------------------------------------------


@dataclass
class Skipped:
    slug: str
    title: str
    missing: list[str]  # column names of the schema

    def as_dict(self) -> dict[str, Any]:
        return {"slug": self.slug, "title": self.title, "missing": self.missing}


@dataclass
class CatalogueExport:
    rows: list[dict[str, str]]
    skipped: list[Skipped] = field(default_factory=list)
    incomplete_written: int = 0

    def csv_bytes(self) -> bytes:
        out = io.StringIO()
        writer = csvcells.writer(out, lineterminator="\n")
        names = field_names()
        writer.writerow(names)
        writer.writerows([row.get(n, "") for n in names] for row in self.rows)
        return out.getvalue().encode("utf-8")

    def summary(self) -> dict[str, Any]:
        return {"schema": SCHEMA_NAME, "rows": len(self.rows),
                "incomplete_written": self.incomplete_written,
                "skipped": [s.as_dict() for s in self.skipped]}


def _versions(session: Session, ids: list[int]) -> dict[int, tuple[DatasetVersion, DatasetVersion]]:
    """(first, latest) version of each dataset that has one."""
    found: dict[int, tuple[DatasetVersion, DatasetVersion]] = {}
    for start in range(0, len(ids), 500):
        chunk = ids[start:start + 500]
        for v in session.scalars(select(DatasetVersion)
                                 .where(DatasetVersion.dataset_id.in_(chunk))):
            first, last = found.get(v.dataset_id, (v, v))
            found[v.dataset_id] = (v if v.number < first.number else first,
                                   v if v.number > last.number else last)
    return found


def row_of(dataset: Dataset, versions: tuple[DatasetVersion, DatasetVersion] | None,
           readable: DatasetVersion | None, public_url: str | None) -> dict[str, str]:
    """The catalogue row of one dataset (fallbacks applied, nothing invented); `readable` is
    the newest version the reader may download, whose formats are listed."""
    kept = (dataset.extra or {}).get(EXTRA_KEY) or {}
    keywords = ",".join(k.replace(",", " ") for k in (dataset.keywords or []))
    url = str(kept.get("url") or "")
    if public_url and is_public(dataset):
        url = f"{public_url.rstrip('/')}/datasets/{dataset.slug}"
    formats = (",".join(FORMAT_LABELS[f] for f in export_formats(readable)) if readable
               else str(kept.get("format") or UNKNOWN_FORMAT))
    contact = dataset.contact_email or ""
    if kept.get("contact_personne") and contact and contact in str(kept["contact_personne"]):
        contact = str(kept["contact_personne"])  # several addresses, as imported
    frequency = label(dataset.update_frequency)
    if kept.get("freq_maj") and kept.get("freq_maj_as") == dataset.update_frequency.value:
        frequency = str(kept["freq_maj"])  # the exact wording imported
    return {
        "titre": dataset.title,
        "description": dataset.description.strip() or dataset.title,
        "mots_cles": keywords or (dataset.theme or ""),
        "nom_orga": dataset.organisation.name,
        "siret_orga": str(kept.get("siret_orga") or ""),
        "id_alt_orga": str(kept.get("id_alt_orga") or ""),
        "service": dataset.department.name if dataset.department else dataset.organisation.name,
        "si": str(kept.get("si") or ""),
        "contact_service": str(kept.get("contact_service") or ""),
        "contact_personne": contact,
        "date_pub": (versions[0].created_at.date().isoformat() if versions
                     else str(kept.get("date_pub") or "")),
        "date_maj": (versions[1].created_at.date().isoformat() if versions
                     else str(kept.get("date_maj") or "")),
        "freq_maj": frequency,
        "couv_geo": dataset.spatial_coverage or "",
        "url": url,
        "format": formats,
        "licence": dataset.licence or "",  # as recorded: a free text in this schema
    }


def export_catalogue(session: Session, principal: Principal, *, public_url: str | None = None,
                     include_incomplete: bool = False,
                     settings: Settings | None = None) -> CatalogueExport:
    """The inventory the principal may read, as catalogue-donnees rows. With `settings`, a
    version never scanned for personal data is scanned, as the portal does before offering
    it (gate.newest_readable_versions); without, it is not counted as downloadable."""
    datasets = list(session.scalars(
        select(Dataset).where(readable_datasets(principal))
        .options(selectinload(Dataset.organisation), selectinload(Dataset.department))
        .order_by(Dataset.organisation_id, Dataset.title, Dataset.id)))
    versions = _versions(session, [d.id for d in datasets])
    readable = gate.newest_readable_versions(session, principal, datasets, settings)
    required = required_fields()
    result = CatalogueExport(rows=[])
    for dataset in datasets:
        row = row_of(dataset, versions.get(dataset.id), readable.get(dataset.id), public_url)
        missing = [f for f in required if not row[f].strip()]
        if row["contact_personne"] and not all(
            _EMAIL.fullmatch(a.strip()) for a in re.split(r"[,;]", row["contact_personne"])
            if a.strip()
        ):
            missing.append("contact_personne")
        if missing and not include_incomplete:
            result.skipped.append(Skipped(dataset.slug, dataset.title, missing))
            continue
        if missing:
            result.incomplete_written += 1
        result.rows.append(row)
    return result


# ---------------------------------------------------------------------------------------------
# Import
# ---------------------------------------------------------------------------------------------


def _frequency_of(text: str) -> UpdateFrequency | None:
    folded = key(text)
    for word, value in _FREQUENCIES.items():
        if folded.startswith(word):
            return value
    return None


def to_importer_table(table: Table) -> tuple[Table, dict[int, dict[str, str]], str]:
    """The catalogue file as the audit importer's table, the kept columns per line, and which
    schema the headers follow."""
    headers = table.headers
    lowered = {h.strip() for h in headers}
    if {"COLL_NOM", "TITRE"} <= lowered:
        mapping, kind = _SCDL_TO_IMPORTER, "scdl-catalogue"
    elif {"titre", "nom_orga"} <= lowered:
        mapping, kind = _TO_IMPORTER, SCHEMA_NAME
    else:
        raise Invalid(f"« {table.filename} » ne suit pas le schéma catalogue-donnees (colonnes "
                      "« titre » et « nom_orga » attendues) ni le catalogue simplifié du SCDL "
                      "(colonnes « COLL_NOM » et « TITRE »).")
    new_headers = [mapping.get(h.strip(), h) for h in headers]
    index = {h.strip(): i for i, h in enumerate(headers)}
    kept: dict[int, dict[str, str]] = {}
    rows: list[Row] = []
    for line, cells in table.rows:
        cells = list(cells)
        extra = {_KEPT[h]: cells[i].strip() for h, i in index.items()
                 if h in _KEPT and cells[i].strip()}
        kept[line] = extra
        for name in ("freq_maj", "FREQ_MAJ"):
            if name in index:
                value = _frequency_of(cells[index[name]])
                if value is not None:
                    cells[index[name]] = label(value)
        if "service" in index and "nom_orga" in index and audit_sheet.name_key(
            cells[index["service"]]
        ) == audit_sheet.name_key(cells[index["nom_orga"]]):
            cells[index["service"]] = ""  # the organisation itself, as export writes it
        if "description" in index and "titre" in index and key(
            cells[index["description"]]
        ) == key(cells[index["titre"]]):
            cells[index["description"]] = ""  # the title standing in for a description
        if "contact_personne" in index:
            found = _EMAIL.search(cells[index["contact_personne"]])
            cells[index["contact_personne"]] = found.group() if found else \
                cells[index["contact_personne"]]
        if "LICENCE" in index:
            cells[index["LICENCE"]] = _SCDL_LICENCES.get(key(cells[index["LICENCE"]]),
                                                         cells[index["LICENCE"]])
        rows.append(Row(line, cells))
    converted = replace(table, headers=new_headers, rows=rows)
    return converted, kept, kind


@dataclass
class CatalogueImport:
    kind: str  # the schema the file follows
    plan: audit_sheet.ImportPlan
    result: importer.ImportResult | None
    kept: dict[int, dict[str, str]]

    @property
    def ok(self) -> bool:
        return self.plan.ok

    def as_dict(self) -> dict[str, Any]:
        body = self.plan.as_dict() if self.result is None else {
            **self.result.as_dict(), "rows": [r.as_dict() for r in self.plan.rows]}
        return {**body, "schema": self.kind}


def plan_catalogue(session: Session, principal: Principal, data: bytes,
                   filename: str) -> CatalogueImport:
    """What importing the catalogue file would do; writes nothing."""
    table, kept, kind = to_importer_table(audit_sheet.read_spreadsheet(data, filename))
    return CatalogueImport(kind, audit_sheet.plan_import(session, principal, table), None, kept)


def apply_catalogue(session: Session, principal: Principal,
                    planned: CatalogueImport) -> CatalogueImport:
    """Apply a valid plan through the importer, then keep the columns it has no field for."""
    result = importer.apply_import(session, principal, planned.plan)
    created = iter(result.created)
    slugs: dict[int, str] = {}
    for row in planned.plan.rows:
        if row.action == "create":
            slugs[row.line] = next(created)
        elif row.slug:
            slugs[row.line] = row.slug
    by_slug = {d.slug: d for d in session.scalars(
        select(Dataset).where(Dataset.slug.in_(list(slugs.values()))))} if slugs else {}
    for line, slug in slugs.items():
        dataset = by_slug.get(slug)
        extra = dict(planned.kept.get(line) or {})
        if dataset is None or not extra:
            continue
        if "freq_maj" in extra:  # the wording is given back while the frequency is the same
            extra["freq_maj_as"] = dataset.update_frequency.value
        current = dict(dataset.extra or {})
        if current.get(EXTRA_KEY) != extra:
            current[EXTRA_KEY] = extra
            dataset.extra = current
    session.flush()
    return CatalogueImport(planned.kind, planned.plan, result, planned.kept)


def import_catalogue(session: Session, principal: Principal, data: bytes, filename: str, *,
                     dry_run: bool = False) -> CatalogueImport:
    """Read, plan and (unless dry_run) apply; a plan with errors raises Invalid on apply."""
    planned = plan_catalogue(session, principal, data, filename)
    if dry_run:
        return planned
    return apply_catalogue(session, principal, planned)
