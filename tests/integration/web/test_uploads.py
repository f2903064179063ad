"""Receiving an upload (web/uploads.py): every route taking a file accepts one at the size
limit and refuses one just above it with the same French message, 413 for the API and in
the form for pages; temporary files do not stay."""

from __future__ import annotations

import html
from collections.abc import Callable
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from patrimoine.access import service as accounts
from patrimoine.access.models import Account
from patrimoine.core.db import Database
from patrimoine.core.settings import Settings
from patrimoine.web.uploads import _sent_name, too_large
from tests.factories import CDO, LIGERAC_COUNTERS_CSV, ligerac, login

DATA = LIGERAC_COUNTERS_CSV.encode("cp1252")
LIMIT = len(DATA)  # the file below is exactly at the limit; one byte more is refused

Post = Callable[[TestClient, bytes], Any]  # the client's response


def _bearer(db: Database, email: str) -> dict[str, str]:
    with db.unit_of_work() as s:
        account = s.scalars(select(Account).where(Account.email == email)).one()
        _row, secret = accounts.create_api_token(s, account, "tests")
    return {"Authorization": f"Bearer {secret}"}


def _routes(slug: str, auth: dict[str, str], token: str) -> dict[str, Post]:
    def api(url: str) -> Post:
        return lambda c, data: c.post(url, headers=auth, data={"dry_run": "1"},
                                      files={"file": ("comptages.csv", data, "text/csv")})

    def page(url: str, field: str) -> Post:
        return lambda c, data: c.post(url, data={"csrf_token": token, "dry_run": "1"},
                                      files={field: ("comptages.csv", data, "text/csv")})

    return {
        "api inventory": api("/api/v1/inventory/import"),
        "api version": api(f"/api/v1/datasets/{slug}/versions"),
        "api schema validation": api("/api/v1/schemas/fontaine-eau/validate"),
        "api scdl catalogue": api("/api/v1/inventory/import-scdl"),
        "api register": api("/api/v1/protection/register/import"),
        "page version": page(f"/admin/inventaire/{slug}/donnees", "fichier"),
        "page inventory": page("/admin/inventaire/import", "fichier"),
        "page register": page("/admin/protection/registre/import", "file"),
    }


@pytest.fixture
def routes(client: TestClient, db: Database, settings: Settings) -> dict[str, Post]:
    world = ligerac(db)
    auth = _bearer(db, CDO)
    token = login(client, CDO)
    settings.max_upload_bytes = LIMIT
    return _routes(world.slug, auth, token)


def test_the_same_refusal_just_above_the_limit_everywhere(
        client: TestClient, settings: Settings, routes: dict[str, Post]) -> None:
    message = too_large(LIMIT).message
    assert message == ("Le fichier envoyé est trop volumineux : il dépasse la taille permise "
                       f"({LIMIT} octets).")
    for name, post in routes.items():
        r = post(client, DATA + b"x")
        assert r.status_code == 413, (name, r.text)
        if name.startswith("api"):
            assert r.json()["error"] == message, name
        else:
            assert message in html.unescape(r.text), name
    assert list((settings.data_dir / "uploads").glob("upload-*")) == []


def test_at_the_limit_the_file_is_received(
        client: TestClient, settings: Settings, routes: dict[str, Post]) -> None:
    message = too_large(LIMIT).message
    for name, post in routes.items():
        r = post(client, DATA)
        assert r.status_code != 413 and message not in html.unescape(r.text), (name, r.text)
    # Where the CSV is what the route expects, it is read through.
    assert routes["api version"](client, DATA).json()["plan"]["delimiter"] == ";"
    assert routes["api schema validation"](client, DATA).json()["file"] == "comptages.csv"
    assert "Aperçu de « comptages.csv »" in html.unescape(
        routes["page version"](client, DATA).text)
    assert list((settings.data_dir / "uploads").glob("upload-*")) == []


def test_a_body_far_above_the_limit_is_not_kept(
        client: TestClient, settings: Settings, routes: dict[str, Post]) -> None:
    message = too_large(LIMIT).message
    big = DATA * 40
    api = routes["api version"](client, big)
    assert api.status_code == 413 and api.json()["error"] == message
    page = routes["page version"](client, big)  # read and dropped: the browser sees the form
    assert page.status_code == 413 and message in html.unescape(page.text)
    assert 'name="fichier"' in page.text
    assert list((settings.data_dir / "uploads").glob("upload-*")) == []


def test_a_page_upload_still_needs_the_form_token(client: TestClient,
                                                  routes: dict[str, Post]) -> None:
    r = client.post("/admin/inventaire/import", data={"csrf_token": "faux"},
                    files={"fichier": ("comptages.csv", DATA, "text/csv")})
    assert r.status_code == 403


def test_the_sent_name_loses_its_folders() -> None:
    assert _sent_name("../../etc/comptages.csv") == "comptages.csv"
    assert _sent_name("C:\\Users\\agent\\comptages.csv") == "comptages.csv"
    assert _sent_name("..") == "fichier" and _sent_name("/") == "fichier"
