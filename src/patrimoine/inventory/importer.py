"""Import of the audit spreadsheet as Troyes built it: one row per dataset.

Three steps, each usable alone:

- `audit_sheet.read_spreadsheet` turns XLSX, ODS or CSV bytes into a table, finding the
  header row even below title rows (`core/tabular`);
- `audit_sheet.plan_import` matches headers, reads French values and compares each row with
  the inventory; it writes nothing;
- `apply_import` (here) writes a valid plan through the inventory service, so history and
  audit are kept; nothing is written unless the whole file is valid.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from pydantic import ValidationError
from sqlalchemy import select
from sqlalchemy.orm import Session

from patrimoine.access import audit
from patrimoine.access.permissions import can_import_inventory, require
from patrimoine.access.principal import Principal
from patrimoine.core.errors import Invalid
from patrimoine.core.text import key, slugify
from patrimoine.inventory import service
from patrimoine.inventory.audit_sheet import (
    FIELDS_OF_INPUT,
    ImportPlan,
    InventoryIndex,
    name_key,
    plan_import,
    read_spreadsheet,
)
from patrimoine.inventory.models import Dataset, Department, Organisation, OrganisationKind
from patrimoine.inventory.service import DatasetInput


@dataclass
class ImportResult:
    filename: str
    counts: dict[str, int]
    created: list[str]  # slugs
    updated: list[str]
    new_organisations: list[str]
    new_departments: list[tuple[str, str]]

    @property
    def ok(self) -> bool:
        return True

    def as_dict(self) -> dict[str, Any]:
        return {
            "ok": True, "dry_run": False, "filename": self.filename, "counts": self.counts,
            "created": self.created, "updated": self.updated,
            "new_organisations": self.new_organisations,
            "new_departments": [{"organisation": o, "department": d}
                                for o, d in self.new_departments],
        }


def _organisation_kind(name: str) -> OrganisationKind:
    k = key(name)
    compact = k.replace(" ", "")
    if "/" in name or " et " in f" {k} ":
        return OrganisationKind.OTHER
    if "metropole" in k:
        return OrganisationKind.METROPOLE
    if "agglomeration" in k or k.startswith("ca "):
        return OrganisationKind.AGGLOMERATION
    if "ccas" in compact or "cmas" in compact or "action sociale" in k:
        return OrganisationKind.CCAS
    if k.startswith("ville"):
        return OrganisationKind.VILLE
    if k.startswith(("commune", "mairie")):
        return OrganisationKind.COMMUNE
    if k.startswith(("syndicat", "sivu", "sivom")):
        return OrganisationKind.SYNDICAT
    return OrganisationKind.OTHER



# How often apply_import reports its progress, in rows.
PROGRESS_EVERY = 25


def apply_import(session: Session, principal: Principal, plan: ImportPlan, *,
                 create_places: bool = True,
                 progress: Callable[[int, int], None] | None = None) -> ImportResult:
    """Write a valid plan through the inventory service (history and audit kept).

    Raises Invalid, listing the row errors, when the plan has any: nothing is written then.
    Without `create_places` (the web preview's explicit confirmation not given), a plan
    that would create organisations or departments is refused too. `progress(done, total)`
    is told of the rows written now and then. The caller's unit of work makes the whole
    import one transaction.
    """
    require(can_import_inventory(principal), principal, "importer un inventaire")
    if not plan.ok:
        raise Invalid(
            f"Le fichier « {plan.filename} » contient {len(plan.errors)} erreur(s) ; "
            "rien n'a été importé. Corrigez-les puis recommencez.",
            errors=plan.error_lines(),
        )
    if not create_places and (plan.new_organisations or plan.new_departments):
        raise Invalid(
            f"L'import créerait {len(plan.new_organisations)} organisation(s) et "
            f"{len(plan.new_departments)} direction(s) : confirmez explicitement leur "
            "création (case à cocher de l'aperçu).")
    organisations: dict[str, Organisation] = {}
    departments: dict[tuple[int, str], Department] = {}
    wanted = {name_key(r.organisation) for r in plan.rows if r.action != "unchanged"}
    inventory = InventoryIndex(session, wanted, with_datasets=False)
    organisations.update(inventory.orgs)
    departments.update(inventory.deps)
    new_orgs: list[str] = []
    new_deps: list[tuple[str, str]] = []

    def organisation(name: str) -> Organisation:
        k = name_key(name)
        if k not in organisations:
            organisations[k] = service.create_organisation(
                session, principal, name=name, kind=_organisation_kind(name))
            new_orgs.append(name)
        return organisations[k]

    def department(org: Organisation, name: str | None) -> Department | None:
        if not name:
            return None
        k = (org.id, name_key(name))
        if k not in departments:
            departments[k] = service.create_department(session, principal, org, name)
            new_deps.append((org.name, name))
        return departments[k]

    to_update = [r.dataset_id for r in plan.rows if r.action == "update" and r.dataset_id]
    existing: dict[int, Dataset] = {}
    if to_update:
        existing = {d.id: d for d in session.scalars(
            select(Dataset).where(Dataset.id.in_(to_update)))}
    taken: set[str] = set(session.scalars(select(Dataset.slug)))
    created: list[str] = []
    updated: list[str] = []
    counts = {"create": 0, "update": 0, "unchanged": 0}
    total = len(plan.rows)
    try:
        for done, row in enumerate(plan.rows):
            if progress is not None and done % PROGRESS_EVERY == 0:
                progress(done, total)
            if row.action == "unchanged":
                counts["unchanged"] += 1
                continue
            org = organisation(row.organisation)
            dep = department(org, row.department)
            data = DatasetInput.model_validate({
                **{f: v for f, v in row.values.items() if f in FIELDS_OF_INPUT},
                "organisation_id": org.id,
                "department_id": dep.id if dep else None,
            })
            if row.action == "create":
                slug = _free_slug(row.title, taken)
                dataset = service.create_dataset(session, principal, data, slug=slug,
                                                 action="imported")
                created.append(dataset.slug)
                counts["create"] += 1
            else:
                target = existing.get(row.dataset_id or -1)
                if target is None:
                    raise Invalid(f"Ligne {row.line} : le jeu de données « {row.title} » a été "
                                  "supprimé entre l'aperçu et l'import ; relancez l'aperçu.")
                changed = service.update_dataset(session, principal, target, data,
                                                 action="import_updated")
                counts["update" if changed else "unchanged"] += 1
                if changed:
                    updated.append(target.slug)
    except ValidationError as exc:  # values were checked while planning; kept as a safeguard
        raise Invalid("Import refusé : une valeur est invalide.",
                      errors=[str(e.get("msg")) for e in exc.errors()]) from exc
    audit.record(session, principal, "inventory.import", f"file:{plan.filename}",
                 {"counts": counts, "new_organisations": new_orgs,
                  "new_departments": [f"{o} / {d}" for o, d in new_deps]})
    session.flush()
    if progress is not None:
        progress(total, total)
    return ImportResult(filename=plan.filename, counts=counts, created=created, updated=updated,
                        new_organisations=new_orgs, new_departments=new_deps)


def _free_slug(title: str, taken: set[str]) -> str:
    base = slugify(title)
    slug, n = base, 2
    while slug in taken:
        slug, n = f"{base[:74]}-{n}", n + 1
    taken.add(slug)
    return slug


def import_spreadsheet(session: Session, principal: Principal, data: bytes, filename: str,
                       dry_run: bool = False) -> ImportPlan | ImportResult:
    """Read, plan and (unless dry_run) apply; a plan with errors raises Invalid when applying."""
    require(can_import_inventory(principal), principal, "importer un inventaire")
    plan = plan_import(session, principal, read_spreadsheet(data, filename))
    if dry_run:
        return plan
    return apply_import(session, principal, plan)
