"""The platform export carries the sovereignty registers, and an import into an empty store
gives every row back."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

from sqlalchemy import select

from patrimoine.access.principal import Principal
from patrimoine.bootstrap import Services, bootstrap
from patrimoine.core.settings import Settings
from patrimoine.protection.register.service import ActivityInput, create_activity
from patrimoine.reversibility import formats
from patrimoine.reversibility.export import export_all
from patrimoine.reversibility.restore import import_all
from patrimoine.sovereignty import applications as apps
from patrimoine.sovereignty import contracts as ctr
from patrimoine.sovereignty import partners, strategy
from patrimoine.sovereignty.models import ClauseStatus, DataLocation, HostingMode, TestResult
from patrimoine.storage.schema import metadata
from tests import factories as f

TABLES = ("application", "application_change", "application_dataset", "application_activity",
          "sensitivity_level", "contract", "contract_change", "contract_application",
          "contract_activity", "charter_clause", "contract_clause", "reversibility_test",
          "charter_partner", "partner_action")


def _rows(services: Services) -> dict[str, list[tuple[Any, ...]]]:
    out = {}
    with services.db.engine.connect() as conn:
        for table in metadata.sorted_tables:
            if table.name in TABLES:
                out[table.name] = [tuple(r) for r in conn.execute(
                    select(*formats.exported_columns(table)).order_by(
                        *table.primary_key.columns))]
    return out


def test_export_and_import_keep_every_sovereignty_record(
        services: Services, system: Principal, _templates: Any, tmp_path: Path) -> None:
    with services.db.unit_of_work() as s:
        org = f.organisation(s)
        dataset = f.dataset(s, org, "Places en crèche")
        activity = create_activity(s, system, ActivityInput(organisation_id=org.id,
                                                            name="Crèches"))
        strategy.set_level(s, system, org.id, strategy.LevelInput(
            code="secret", label="Secret", allowed_modes=[HostingMode.OWN],
            allowed_locations=[DataLocation.FRANCE]))
        app = apps.create_application(s, system, apps.ApplicationInput(
            organisation_id=org.id, name="Crèches", hosting_mode="saas", host="Nuage",
            location="eu", certifications=["hds"], sensitivity="secret",
            datasets=[dataset.slug], activities=[activity.reference]))
        contract = ctr.create_contract(s, system, ctr.ContractInput(
            organisation_id=org.id, title="Crèches", supplier_name="Nuage",
            supplier_siret="73282932000074", end_date=date(2027, 6, 30), processor=True,
            applications=[app.reference], activities=[activity.reference]))
        ctr.set_clause_status(s, system, contract, "reversibilite", ctr.ClauseStatusInput(
            status=ClauseStatus.NEGOTIATED, article="CCAP 12", evidence="avenant-2.pdf"))
        ctr.record_test(s, system, contract, ctr.TestInput(
            tested_on=date(2025, 1, 15), formats=["CSV"], result=TestResult.PARTIAL))
        partner = partners.create_partner(s, system, partners.PartnerInput(
            organisation_id=org.id, name="Coopérative", siren="900100017", kind="company",
            signed_on=date(2024, 1, 1)))
        partners.record_action(s, system, partner, partners.ActionInput(
            year=2025, description="Données ouvertes."))
    before = _rows(services)
    assert all(before[t] for t in TABLES), [t for t in TABLES if not before[t]]

    export_all(services.settings, services.db, tmp_path / "export")
    assert (tmp_path / "export" / formats.TABLES_DIR / "contract_clause.csv").is_file()
    target = tmp_path / "target"
    target.mkdir()
    empty = bootstrap(Settings(data_dir=target / "data", database_url=_templates.new_url(target),
                               secret_key="test-secret-key"))
    try:
        import_all(empty.settings, empty.db, tmp_path / "export")
        assert _rows(empty) == before
    finally:
        empty.db.dispose()
