"""The personal-data gate holds publication back until the findings are resolved."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import select

from patrimoine.access.models import Account, Role
from patrimoine.access.principal import Principal
from patrimoine.bootstrap import Services
from patrimoine.core.errors import Forbidden, Invalid
from patrimoine.datastore import versions
from patrimoine.inventory import service as inventory
from patrimoine.inventory.models import AccessLevel, Dataset, LifecycleStage, Organisation
from patrimoine.protection.findings import service as findings
from patrimoine.protection.findings.models import NOT_PERSONAL
from patrimoine.publication import service as publication
from tests import factories as f
from tests.factories import CDO, REFERENT, ligerac

EMAILS_CSV = "association;contact;montant\n" + "".join(
    f"Club {i};president{i}@club{i}.fr;{100 + i}\n" for i in range(40))
CLEAN_CSV = "association;montant\n" + "".join(f"Club {i};{100 + i}\n" for i in range(40))


def _principal(services: Services, email: str) -> Principal:
    with services.db.session() as s:
        return Principal.of(s.scalars(select(Account).where(Account.email == email)).one())


def _load(services: Services, slug: str, path: Path, email: str = REFERENT) -> int:
    principal = _principal(services, email)
    with services.db.unit_of_work() as s:
        dataset = s.scalars(select(Dataset).where(Dataset.slug == slug)).one()
        return publication.add_version(s, services.settings, principal, dataset, path).number


def test_emails_block_publication_until_the_dpo_decides(services: Services,
                                                        tmp_path: Path) -> None:
    world = ligerac(services.db)
    with services.db.unit_of_work() as s:
        ville = s.get(Organisation, world.org_id)
        assert ville is not None
        f.account(s, "dpo@ligerac.fr", roles=[(ville, Role.DPO, None)])
    path = tmp_path / "subventions.csv"
    path.write_text(EMAILS_CSV, encoding="utf-8")
    assert _load(services, world.slug, path) == 1
    cdo = _principal(services, CDO)
    with services.db.unit_of_work() as s:
        dataset = s.scalars(select(Dataset).where(Dataset.slug == world.slug)).one()
        state = publication.status(s, cdo, dataset, services.settings)
        assert not state.missing
        assert any("Colonne « contact »" in b for b in state.blockers), state.blockers
        with pytest.raises(Invalid) as refused:
            publication.publish(s, cdo, dataset, services.settings)
        assert any("contact" in e for e in refused.value.errors)
    # The DPO records that these are the clubs' public contact addresses.
    dpo = _principal(services, "dpo@ligerac.fr")
    with services.db.unit_of_work() as s:
        dataset = s.scalars(select(Dataset).where(Dataset.slug == world.slug)).one()
        version = versions.latest_version(s, dataset)
        assert version is not None
        kinds = {(x.column, x.kind) for x in findings.findings_of(s, version)}
        assert ("contact", "email") in kinds
        findings.decide(s, dpo, dataset, version, "contact", "email", NOT_PERSONAL,
                        "Adresses publiques des clubs, publiées sur leurs sites.")
    with services.db.unit_of_work() as s:
        dataset = s.scalars(select(Dataset).where(Dataset.slug == world.slug)).one()
        assert publication.status(s, cdo, dataset, services.settings).blockers == []
        publication.publish(s, cdo, dataset, services.settings)
        assert dataset.lifecycle_stage == LifecycleStage.PUBLISHED


def test_a_published_dataset_refuses_a_version_with_personal_data(services: Services,
                                                                  tmp_path: Path) -> None:
    world = ligerac(services.db)
    clean = tmp_path / "propre.csv"
    clean.write_text(CLEAN_CSV, encoding="utf-8")
    _load(services, world.slug, clean)
    cdo = _principal(services, CDO)
    with services.db.unit_of_work() as s:
        dataset = s.scalars(select(Dataset).where(Dataset.slug == world.slug)).one()
        publication.publish(s, cdo, dataset, services.settings)
    leaky = tmp_path / "fuite.csv"
    leaky.write_text(EMAILS_CSV, encoding="utf-8")
    with pytest.raises(Invalid) as refused:
        _load(services, world.slug, leaky)
    assert "contrôle des données personnelles" in refused.value.message
    with services.db.session() as s:
        dataset = s.scalars(select(Dataset).where(Dataset.slug == world.slug)).one()
        assert [v.number for v in versions.list_versions(s, dataset)] == [1]
    files = list((services.settings.data_dir / "versions").rglob("*.parquet"))
    assert len(files) == 1


def test_inventory_flags_block_publication(services: Services, tmp_path: Path) -> None:
    world = ligerac(services.db)
    clean = tmp_path / "propre.csv"
    clean.write_text(CLEAN_CSV, encoding="utf-8")
    _load(services, world.slug, clean)
    cdo = _principal(services, CDO)
    with services.db.unit_of_work() as s:
        dataset = s.scalars(select(Dataset).where(Dataset.slug == world.slug)).one()
        dataset.contains_personal_data = True
        with pytest.raises(Invalid) as refused:
            publication.publish(s, cdo, dataset, services.settings)
        assert any("données personnelles" in e for e in refused.value.errors)


def test_the_inventory_entry_cannot_bypass_the_workflow(services: Services) -> None:
    """A referent may not make an entry open and published by editing it; the chief data
    officer may (an entry may describe data published elsewhere)."""
    world = ligerac(services.db)
    referent, cdo = _principal(services, REFERENT), _principal(services, CDO)
    with services.db.unit_of_work() as s:
        dataset = s.scalars(select(Dataset).where(Dataset.slug == world.slug)).one()
        opened = inventory.dataset_input(dataset).model_copy(update={
            "access_level": AccessLevel.OPEN, "lifecycle_stage": LifecycleStage.PUBLISHED})
        with pytest.raises(Forbidden) as refused:
            inventory.update_dataset(s, referent, dataset, opened)
        assert "demandez la publication" in refused.value.message
        # Other changes stay the referent's to make.
        retitled = inventory.dataset_input(dataset).model_copy(update={"title": "Vélos"})
        assert inventory.update_dataset(s, referent, dataset, retitled)
        with pytest.raises(Forbidden):
            inventory.create_dataset(s, referent, opened.model_copy(update={"title": "Autre"}))
        assert inventory.update_dataset(s, cdo, dataset, opened)
        # Once public, the referent keeps editing the entry.
        again = inventory.dataset_input(dataset).model_copy(update={"title": "Vélos 2"})
        assert inventory.update_dataset(s, referent, dataset, again)


def test_unpublishing_a_restricted_entry_keeps_it_restricted(services: Services) -> None:
    world = ligerac(services.db)
    cdo = _principal(services, CDO)
    with services.db.unit_of_work() as s:
        dataset = s.scalars(select(Dataset).where(Dataset.slug == world.slug)).one()
        dataset.access_level = AccessLevel.RESTRICTED
        dataset.lifecycle_stage = LifecycleStage.PUBLISHED
        publication.unpublish(s, cdo, dataset)
        assert dataset.access_level == AccessLevel.RESTRICTED
        assert dataset.lifecycle_stage == LifecycleStage.STORED
