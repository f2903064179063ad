from __future__ import annotations

import pytest

from patrimoine.access import audit
from patrimoine.access import service as accounts
from patrimoine.access.models import Role
from patrimoine.access.permissions import can_edit_dataset, can_read_dataset
from patrimoine.access.principal import Principal
from patrimoine.core.db import Database
from patrimoine.core.errors import Conflict, Forbidden, Invalid, Unauthenticated
from patrimoine.inventory import queries, service
from patrimoine.inventory.models import AccessLevel
from patrimoine.inventory.service import DatasetInput
from tests import factories as f


def test_password_is_hashed_with_argon2_and_checked(db: Database) -> None:
    with db.unit_of_work() as s:
        acc = f.account(s, "dpo@ville.fr")
        assert acc.password_hash.startswith("$argon2")
        assert f.PASSWORD not in acc.password_hash
    with db.unit_of_work() as s:
        assert accounts.authenticate(s, "DPO@ville.fr ", f.PASSWORD) is not None
        assert accounts.authenticate(s, "dpo@ville.fr", "wrong-password") is None
        assert accounts.authenticate(s, "nobody@ville.fr", f.PASSWORD) is None


def test_account_rules(db: Database) -> None:
    with db.unit_of_work() as s:
        f.account(s, "a@ville.fr")
        with pytest.raises(Conflict):
            f.account(s, "A@ville.fr")
        with pytest.raises(Invalid):
            accounts.create_account(s, email="pas-une-adresse", full_name="x", password="x" * 12)
        with pytest.raises(Invalid):
            accounts.create_account(s, email="b@ville.fr", full_name="x", password="court")


def test_api_token_shown_once_stored_hashed_and_revocable(db: Database) -> None:
    with db.unit_of_work() as s:
        acc = f.account(s)
        token, secret = accounts.create_api_token(s, acc, "script")
        assert secret.startswith("pat_") and secret not in token.token_hash
        assert accounts.account_for_token(s, secret).id == acc.id
        assert accounts.account_for_token(s, secret + "x") is None
        accounts.revoke_api_token(s, acc, token.id)
        assert accounts.account_for_token(s, secret) is None


def test_permissions_by_role_and_access_level(db: Database) -> None:
    with db.unit_of_work() as s:
        ville, ccas = f.organisation(s, "Ville"), f.organisation(s, "CCAS")
        si, rh = f.department(s, ville, "SI"), f.department(s, ville, "RH")
        open_ = f.dataset(s, ville, "Ouvert", si, **f.PUBLIC)
        # Open but not published: nobody outside the organisation reads it.
        draft = f.dataset(s, ville, "Ouvert non publié", si, access_level=AccessLevel.OPEN)
        internal = f.dataset(s, ville, "Interne", si, access_level=AccessLevel.INTERNAL)
        restricted_si = f.dataset(s, ville, "Restreint SI", si, access_level=AccessLevel.RESTRICTED)
        restricted_rh = f.dataset(s, ville, "Restreint RH", rh, access_level=AccessLevel.RESTRICTED)
        referent = Principal.of(f.account(s, "ref@ville.fr",
                                          roles=[(ville, Role.DATA_REFERENT, si)]))
        cdo = Principal.of(f.account(s, "cdo@ville.fr",
                                     roles=[(ville, Role.CHIEF_DATA_OFFICER, None)]))
        other = Principal.of(f.account(s, "agent@ccas.fr", roles=[(ccas, Role.AGENT, None)]))
        partner = Principal.of(f.account(s, "p@asso.fr", roles=[(ville, Role.PARTNER, None)]))
        anon = Principal.anonymous()

        everything = [open_, draft, internal, restricted_si, restricted_rh]
        assert [d.title for d in everything if can_read_dataset(anon, d)] == ["Ouvert"]
        assert [d.title for d in everything if can_read_dataset(partner, d)] == ["Ouvert"]
        assert [d.title for d in everything if can_read_dataset(other, d)] == ["Ouvert"]
        assert [d.title for d in everything if can_read_dataset(referent, d)] == [
            "Ouvert", "Ouvert non publié", "Interne", "Restreint SI"]
        assert all(can_read_dataset(cdo, d) for d in everything)
        assert can_edit_dataset(referent, restricted_si)
        assert not can_edit_dataset(referent, restricted_rh)
        assert can_edit_dataset(cdo, restricted_rh) and not can_edit_dataset(other, open_)

        # The SQL form agrees with the Python form for every principal.
        for p in (anon, partner, other, referent, cdo):
            listed = {d.title for d in queries.list_datasets(s, p, queries.DatasetFilters()).items}
            assert listed == {d.title for d in everything if can_read_dataset(p, d)}


def test_writes_refused_without_rights(db: Database) -> None:
    with db.unit_of_work() as s:
        ville = f.organisation(s, "Ville")
        agent = Principal.of(f.account(s, roles=[(ville, Role.AGENT, None)]))
        data = DatasetInput(title="X", organisation_id=ville.id)
        with pytest.raises(Forbidden):
            service.create_dataset(s, agent, data)
        with pytest.raises(Unauthenticated):
            service.create_dataset(s, Principal.anonymous(), data)


def test_audit_chain_detects_tampering(db: Database) -> None:
    with db.unit_of_work() as s:
        ville = f.organisation(s, "Ville")
        f.dataset(s, ville, "Un")
        f.dataset(s, ville, "Deux")
        report = audit.verify(s)
        assert report.ok and report.checked >= 3
    with db.engine.begin() as c:
        c.exec_driver_sql("UPDATE audit_event SET target = 'falsifié' WHERE id = 2")
    with db.unit_of_work() as s:
        report = audit.verify(s)
        assert not report.ok and report.broken_at == 2


def test_titles_that_match_page_names_get_another_slug(db) -> None:  # type: ignore[no-untyped-def]
    from patrimoine.core.errors import Invalid
    from patrimoine.inventory import service as inventory
    from patrimoine.inventory.service import DatasetInput
    from tests import factories

    with db.unit_of_work() as session:
        org = factories.organisation(session)
        assert factories.dataset(session, org, title="Statistiques").slug == "statistiques-2"
        assert factories.dataset(session, org, title="Nouveau").slug == "nouveau-2"
        try:
            inventory.create_dataset(session, factories.SYSTEM, DatasetInput(
                title="Autre", organisation_id=org.id), slug="import")
        except Invalid as exc:
            assert "réservé" in exc.message
        else:
            raise AssertionError("a reserved slug was accepted")
