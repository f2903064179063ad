"""Grants on restricted datasets: who may give them, their life (from, until, revoke), and
their scope (rows, hidden columns) enforced by every read of the datastore API."""

from __future__ import annotations

import csv
import io
import json
from datetime import datetime, timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from patrimoine.access import service as accounts
from patrimoine.access.models import AuditEvent
from patrimoine.access.principal import Principal
from patrimoine.core.clock import now
from patrimoine.core.db import Database
from patrimoine.core.errors import Forbidden, Invalid
from patrimoine.core.settings import Settings
from patrimoine.grants import service as grants
from patrimoine.grants.models import DatasetGrant, GranteeKind
from patrimoine.inventory import service as inventory
from patrimoine.inventory.models import Dataset
from tests import factories as f
from tests.factories import EQUIPEMENTS_COLUMNS, EQUIPEMENTS_SQL, GRANTS_SLUG, GrantsWorld, login


def principal_of(session: Session, email: str) -> Principal:
    account = session.scalar(select(accounts.Account).where(accounts.Account.email == email))
    assert account is not None
    return Principal.of(account)


def dataset_of(session: Session) -> Dataset:
    return inventory.get_dataset(session, Principal.system("tests"), GRANTS_SLUG)


def give(db: Database, email: str = "alice@autre.fr", *, by: str = "cdo@ville.fr",
         kind: GranteeKind = GranteeKind.ACCOUNT, hours: float = 1, start: datetime | None = None,
         rows: str | dict[str, object] | None = None, hidden: list[str] | None = None) -> int:
    with db.unit_of_work() as s:
        grant = grants.create_grant(s, principal_of(s, by), dataset_of(s), grants.GrantInput(
            grantee_kind=kind, grantee=email, purpose="Étude de fréquentation",
            valid_from=start, valid_until=(start or now()) + timedelta(hours=hours),
            row_filter=rows, hidden_columns=hidden or []))
        return grant.id


# ------------------------------------------------------------------ who may grant


def test_only_the_organisations_managers_grant_and_the_dpo_sees(db: Database,
                                                                world: GrantsWorld) -> None:
    for email in ("dpo@ville.fr", "referent@ville.fr"):
        with pytest.raises(Forbidden, match="donner des accès"):
            give(db, by=email)
    give(db)  # the chief data officer
    with db.unit_of_work() as s:
        dataset = dataset_of(s)
        assert len(grants.list_grants(s, principal_of(s, "dpo@ville.fr"), dataset)) == 1
        with pytest.raises(Forbidden):
            grants.list_grants(s, principal_of(s, "referent@ville.fr"), dataset)
        with pytest.raises(Forbidden, match="révoquer"):
            grants.revoke_grant(s, principal_of(s, "dpo@ville.fr"), dataset, 1)
        grant = grants.create_grant(s, Principal.system("tests"), dataset, grants.GrantInput(
            GranteeKind.ACCOUNT, "bob@autre.fr", "Contrôle", now() + timedelta(days=1)))
        assert grant.granted_by_label == "tests"


def test_grants_are_checked_when_given(db: Database, world: GrantsWorld) -> None:
    with pytest.raises(Invalid) as missing:
        give(db, rows="commune:eq:Lyon\nmontant:gte:beaucoup")
    assert "montant" in missing.value.message and "nombre" in missing.value.message
    with pytest.raises(Invalid, match="« inconnue » n'existe pas"):
        give(db, rows='{"column": "inconnue", "op": "eq", "value": "x"}')
    with pytest.raises(Invalid, match="Colonnes à masquer inconnues : salaire"):
        give(db, hidden=["salaire"])
    with pytest.raises(Invalid, match="Toutes les colonnes"):
        give(db, hidden=[c["name"] for c in EQUIPEMENTS_COLUMNS])  # type: ignore[misc]
    with pytest.raises(Invalid, match="partenaire dans aucune"):
        give(db, kind=GranteeKind.PARTNER)
    with pytest.raises(Invalid, match="Aucun compte actif"):
        give(db, "personne@nulle.part")
    with pytest.raises(Invalid, match="Organisation « Nulle Part » introuvable"):
        give(db, "Nulle Part", kind=GranteeKind.ORGANISATION)
    with pytest.raises(Invalid) as dates:
        give(db, hours=-1)
    assert dates.value.errors == ["Dates : la fin doit être postérieure au début."]
    with db.unit_of_work() as s:
        cdo = principal_of(s, "cdo@ville.fr")
        with pytest.raises(Invalid) as purpose:
            grants.create_grant(s, cdo, dataset_of(s), grants.GrantInput(
                GranteeKind.ACCOUNT, "alice@autre.fr", "  ", now() + timedelta(days=1)))
        assert purpose.value.errors[0].startswith("Finalité : indiquez pourquoi")
        opened = f.dataset(s, f.organisation(s), "Ouvert", **f.PUBLIC)
        with pytest.raises(Invalid, match="Seuls les jeux de données à accès restreint"):
            grants.create_grant(s, cdo, opened, grants.GrantInput(
                GranteeKind.ACCOUNT, "alice@autre.fr", "x", now() + timedelta(days=1)))


# -------------------------------------------------------------------- lifecycle


def test_grant_lifecycle_from_until_and_revoke(client: TestClient, db: Database,
                                               world: GrantsWorld) -> None:
    alice = "alice@autre.fr"
    assert world.get(client, alice, "/records").status_code == 404
    later = give(db, start=now() + timedelta(hours=2))
    assert world.get(client, alice, "/records").status_code == 404
    current = give(db)
    body = world.get(client, alice, "/records").json()
    assert body["total"] == 9
    # The dataset is listed for the grantee, never on the public portal.
    listed = client.get("/api/v1/datasets",
                        headers={"Authorization": f"Bearer {world.tokens[alice]}"})
    assert listed.status_code == 200 and GRANTS_SLUG in listed.text  # readable_datasets (SQL)
    others = client.get("/api/v1/datasets",
                        headers={"Authorization": f"Bearer {world.tokens['bob@autre.fr']}"})
    assert GRANTS_SLUG not in others.text
    assert client.get(f"/datasets/{GRANTS_SLUG}").status_code == 404
    with db.unit_of_work() as s:
        grant = s.get(DatasetGrant, current)
        assert grant is not None
        until = grant.valid_until
        alice_p = principal_of(s, alice)
        dataset = dataset_of(s)
        assert [g.id for g in grants.active_grants(s, alice_p, dataset,
                                                   until - timedelta(microseconds=1))] == [current]
        # At the `until` instant the grant no longer applies; the later one starts after.
        assert grants.active_grants(s, alice_p, dataset, until) == []
        assert [g.id for g in grants.active_grants(s, alice_p, dataset,
                                                   until + timedelta(hours=1))] == [later]
        grants.revoke_grant(s, principal_of(s, "cdo@ville.fr"), dataset, current, "Fin d'étude")
    assert world.get(client, alice, "/records").status_code == 404
    with db.unit_of_work() as s, pytest.raises(Invalid, match="déjà révoquée"):
        grants.revoke_grant(s, principal_of(s, "cdo@ville.fr"), dataset_of(s), current)


def test_an_expired_grant_stops_working(client: TestClient, db: Database,
                                        world: GrantsWorld) -> None:
    grant_id = give(db)
    assert world.get(client, "alice@autre.fr", "/records").status_code == 200
    with db.unit_of_work() as s:  # time passes: the grant's end is now behind us
        s.execute(update(DatasetGrant).where(DatasetGrant.id == grant_id).values(
            valid_from=now() - timedelta(days=2), valid_until=now() - timedelta(seconds=1)))
    for path in ("/records", "/facets?facet=commune", "/aggregate", "/export.csv"):
        assert world.get(client, "alice@autre.fr", path).status_code == 404
    listed = world.get(client, "cdo@ville.fr", "/grants")
    assert listed.json()[0]["state"] == "expired"


def test_organisation_wide_and_partner_grants(client: TestClient, db: Database,
                                              world: GrantsWorld) -> None:
    give(db, "Autre Ville", kind=GranteeKind.ORGANISATION, rows="commune:eq:Paris")
    for email in ("alice@autre.fr", "bob@autre.fr"):
        body = world.get(client, email, "/records").json()
        assert [r["_row"] for r in body["rows"]] == [5, 6]
    assert world.get(client, "asso@partenaire.fr", "/records").status_code == 404
    give(db, "asso@partenaire.fr", kind=GranteeKind.PARTNER, hidden=["nom"])
    body = world.get(client, "asso@partenaire.fr", "/records").json()
    assert body["total"] == 9 and "nom" not in body["columns"]


# ------------------------------------------------------------------------ scope


def test_rows_and_hidden_columns_in_every_read(client: TestClient, db: Database,
                                               world: GrantsWorld) -> None:
    give(db, rows="commune:eq:Lyon", hidden=["nom", "montant", "latitude"])
    alice = "alice@autre.fr"

    def ok(path: str, **params: object) -> dict[str, object]:
        r = world.get(client, alice, path, **params)
        assert r.status_code == 200, r.text
        return r.json()

    def refused(path: str, **params: object) -> str:
        r = world.get(client, alice, path, **params)
        assert r.status_code == 422, r.text
        return r.json()["error"]

    body = ok("/records")
    assert body["total"] == 3 and [r["_row"] for r in body["rows"]] == [2, 3, 9]
    assert body["columns"] == ["_row", "commune", "quantite", "actif", "signe", "maj",
                               "longitude"]
    # The user's filter is AND-ed to the grant's rows.
    assert [r["_row"] for r in ok("/records", where="quantite:gte:4")["rows"]] == [2, 9]
    assert ok("/records", where="commune:eq:Paris")["total"] == 0
    assert [r["_row"] for r in ok("/records", sort="-quantite")["rows"]] == [2, 9, 3]
    first = ok("/records", limit=2)
    following = ok("/records", limit=2, cursor=first["next_cursor"])
    assert [r["_row"] for r in following["rows"]] == [9] and following["next_cursor"] is None
    # Hidden columns cannot be used, not even indirectly; their names are not revealed.
    assert "« montant » n'existe pas" in refused("/records", where="montant:gt:0")
    assert "n'existe pas" in refused("/records", filter=json.dumps(
        {"or": [{"column": "nom", "op": "contains", "value": "a"}]}))
    refused("/records", sort="montant")
    refused("/records", columns="commune,nom")
    refused("/facets", facet="montant")
    refused("/aggregate", metric="sum:montant")
    refused("/aggregate", group_by="nom")
    refused("/export.csv", columns="nom")
    refused("/export.csv", sort="-montant")
    refused("/records", bbox="0,40,10,50")  # positions use the hidden latitude
    refused("/export.geojson")
    error = world.get(client, alice, "/records", where="nom:eq:x").json()
    assert "montant" not in json.dumps(error, ensure_ascii=False)
    # Full-text search reads only visible columns: a word of the hidden name is not found.
    assert ok("/records", q="médiathèque")["total"] == 0
    assert ok("/records", q="lyon")["total"] == 3
    facets = ok("/facets", facet="commune")
    assert facets["total"] == 3
    assert facets["facets"][0]["values"] == [{"value": "Lyon", "count": 3}]  # type: ignore
    agg = ok("/aggregate", group_by="commune", metric="sum:quantite")
    assert agg["rows"] == [{"commune": "Lyon", "sum_quantite": 15}]
    exported = world.get(client, alice, "/export.csv").text
    table = list(csv.reader(io.StringIO(exported)))
    assert table[0] == ["_row", "commune", "quantite", "actif", "signe", "maj", "longitude"] \
        or "montant" not in table[0]
    assert len(table) == 4 and {r[table[0].index("commune")] for r in table[1:]} == {"Lyon"}
    for fmt in ("json", "ndjson", "parquet", "xlsx"):
        r = world.get(client, alice, f"/export.{fmt}")
        assert r.status_code == 200
        if fmt in ("json", "ndjson"):
            assert "montant" not in r.text and "Médiathèque" not in r.text
    listed = world.get(client, alice, "/versions").json()
    names = [c["name"] for c in listed[0]["columns"]]
    assert "nom" not in names and listed[0]["row_count"] is None
    assert listed[0]["positions"] is None
    # Staff of the organisation read everything, unchanged.
    staff = world.get(client, "dpo@ville.fr", "/records").json()
    assert staff["total"] == 9 and "montant" in staff["columns"]


def test_several_grants_give_any_of_their_rows_and_only_columns_all_show(
        client: TestClient, db: Database, world: GrantsWorld) -> None:
    give(db, rows="commune:eq:Lyon", hidden=["nom"])
    give(db, "Autre Ville", kind=GranteeKind.ORGANISATION,
         rows={"column": "commune", "op": "eq", "value": "Paris"}, hidden=["montant"])
    body = world.get(client, "alice@autre.fr", "/records").json()
    assert [r["_row"] for r in body["rows"]] == [2, 3, 5, 6, 9]
    assert "nom" not in body["columns"] and "montant" not in body["columns"]
    bob = world.get(client, "bob@autre.fr", "/records").json()
    assert [r["_row"] for r in bob["rows"]] == [5, 6] and "nom" in bob["columns"]


def test_a_grant_filter_on_a_column_a_new_version_lacks_gives_no_rows(
        client: TestClient, db: Database, settings: Settings, world: GrantsWorld) -> None:
    give(db, rows="commune:eq:Lyon")
    with db.unit_of_work() as s:
        f.parquet_version(settings, s, dataset_of(s),
                          "SELECT _row, nom FROM (" + EQUIPEMENTS_SQL + ")",
                          columns=[{"name": "nom", "type": "string"}], positions=None)
    r = world.get(client, "alice@autre.fr", "/records")
    assert r.status_code == 403
    assert "ne s'applique pas à cette version" in r.json()["error"]
    old = world.get(client, "alice@autre.fr", "/versions/1/records").json()
    assert old["total"] == 3


# ---------------------------------------------------------------------- logging


def test_every_read_of_closed_data_is_logged(client: TestClient, db: Database,
                                             world: GrantsWorld) -> None:
    grant_id = give(db, rows="commune:eq:Lyon")
    paths = ["/records", "/versions/1/records", "/facets?facet=commune",
             "/aggregate?group_by=commune", "/export.csv", "/versions/1/export?format=json"]
    for path in paths:
        assert world.get(client, "alice@autre.fr", path).status_code == 200
    assert world.get(client, "dpo@ville.fr", "/records").status_code == 200
    with db.unit_of_work() as s:
        events = list(s.scalars(select(AuditEvent).where(
            AuditEvent.target == f"dataset:{GRANTS_SLUG}", AuditEvent.action.like("datastore.%"))
            .order_by(AuditEvent.id)))
    assert [e.action for e in events] == ["datastore.read"] * 4 + ["datastore.export"] * 2 \
        + ["datastore.read"]
    assert all(e.details["grants"] == [grant_id] for e in events[:6])
    assert "grants" not in events[6].details and events[6].actor_label.endswith("<dpo@ville.fr>")
    assert events[2].details["query"] == "facet=commune"
    # The back-office page of a closed entry is logged too.
    login(client, "dpo@ville.fr")
    assert client.get(f"/admin/inventaire/{GRANTS_SLUG}").status_code == 200
    with db.unit_of_work() as s:
        last = s.scalars(select(AuditEvent).order_by(AuditEvent.id.desc())).first()
        assert last is not None and last.action == "inventory.read"
        assert last.target == f"dataset:{GRANTS_SLUG}"
