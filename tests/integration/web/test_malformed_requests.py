"""Malformed identifiers and text answer 404 or 422 with a French message, never 500:
integers beyond the range the databases hold (core.db.DbInt, DbBigInt), and lone UTF-16
surrogates, NUL or bytes that are not UTF-8 (web/wellformed.py). A 405 names every method
its address takes."""

from __future__ import annotations

import json
import re
from pathlib import Path
from urllib.parse import quote

import pytest
from fastapi.testclient import TestClient

from patrimoine.access import service as accounts
from patrimoine.bootstrap import Services
from patrimoine.inventory.models import AccessLevel, LifecycleStage
from patrimoine.web.wellformed import bad_escape
from tests import factories as f

HUGE = (2**31, 2**63, 2**64 + 1)  # PostgreSQL's integer, SQLite's, anything larger
LONE = "%ED%A0%80"  # U+D800 as if it were a UTF-8 character
MALFORMED = "Requête invalide : texte mal formé."


@pytest.fixture
def world(services: Services, tmp_path: Path) -> tuple[str, dict[str, str]]:
    """A dataset with one version, and an instance administrator's token header."""
    with services.db.unit_of_work() as s:
        entry = f.dataset(s, f.organisation(s), "Comptages", access_level=AccessLevel.OPEN,
                          lifecycle_stage=LifecycleStage.PUBLISHED, licence="etalab-2.0")
        admin = f.account(s, "admin@example.fr", superadmin=True)
        token = accounts.create_api_token(s, admin, "tests")[1]
    f.load(services, entry, f.write(tmp_path, "c.csv", "commune;nombre\nLyon;3\nNîmes;5\n"))
    return entry.slug, {"Authorization": f"Bearer {token}"}


def integer_addresses(client: TestClient, slug: str) -> list[tuple[str, str]]:
    """(method, path) of every documented operation with an integer in its path, that
    integer set to each of HUGE."""
    found = []
    for path, operations in client.get("/api/v1/openapi.json").json()["paths"].items():
        for method, operation in operations.items():
            ints = [p["name"] for p in operation.get("parameters", [])
                    if p["in"] == "path" and p["schema"].get("type") == "integer"]
            if not ints:
                continue
            for value in HUGE:
                filled = path.replace("{slug}", slug).replace("{fmt}", "csv")
                for name in ints:
                    filled = filled.replace("{" + name + "}", str(value))
                found.append((method.upper(), re.sub(r"\{\w+\}", "x", filled)))
    return found


PAGES = ["/admin/protection/traitements/{n}", "/admin/protection/traitements/{n}/modifier",
         "/admin/protection/demandes/{n}", "/admin/protection/violations/{n}",
         "/admin/protection/aipd/{n}", "/admin/conservation/bordereaux/{n}",
         "/admin/conservation/bordereaux/{n}.xlsx",
         "/admin/souverainete/applications/{n}", "/admin/souverainete/contrats/{n}",
         "/admin/inventaire/{slug}/donnees-personnelles?version={n}",
         "/datasets/{slug}/telecharger?version={n}"]


def test_integers_beyond_what_the_database_holds_are_refused(
        client: TestClient, world: tuple[str, dict[str, str]]) -> None:
    slug, token = world
    addresses = integer_addresses(client, slug)
    assert len(addresses) >= 3 * 30  # ids of the register, slips, grants, tokens, versions
    for method, path in addresses:
        for headers in (token, {}):
            r = client.request(method, path, headers={**headers, "Accept": "application/json"},
                               json={} if method in ("POST", "PUT") else None)
            assert r.status_code in (401, 404, 422), (method, path, r.status_code, r.text)
            assert r.json()["ok"] is False
    for page in PAGES:
        for value in HUGE:
            r = client.get(page.format(n=value, slug=slug), headers=token)
            assert r.status_code in (404, 422), (page, r.status_code)
    # Query parameters and JSON bodies bounded the same way.
    for path in (f"/api/v1/datasets/{slug}/records?offset={2**63}",
                 f"/api/v1/datasets?page={2**62}", f"/admin/inventaire?page={2**62}"):
        assert client.get(path, headers=token).status_code == 422, path
    r = client.post("/api/v1/datasets", headers=token,
                    json={"title": "Trop grand", "organisation_id": 2**63})
    assert r.status_code == 422
    assert "organisation_id" in r.json()["errors"][0]
    assert "doit être inférieur ou égal à" in r.json()["errors"][0]  # said in French


def test_text_that_no_database_holds_is_refused_with_a_french_message(
        client: TestClient, world: tuple[str, dict[str, str]]) -> None:
    slug, token = world
    lone_filter = quote(json.dumps({"column": "commune", "op": "eq", "value": "\ud800"}))
    nul_filter = quote(json.dumps({"column": "commune", "op": "eq", "value": "\x00"}))
    for path in (f"/api/v1/datasets/{LONE}", f"/api/v1/datasets?q={LONE}",
                 f"/api/v1/datasets/{slug}/records?q={LONE}",
                 f"/api/v1/datasets/{slug}/records?where=commune:eq:{LONE}",
                 f"/api/v1/datasets/{slug}/records?filter={lone_filter}",
                 f"/api/v1/datasets/{slug}/records?filter={nul_filter}",
                 f"/api/v1/datasets/{slug}/export.csv?filter={lone_filter}",
                 f"/api/v1/datasets/{slug}/records?q=%00",
                 f"/api/3/action/package_search?q={LONE}",
                 "/api/3/action/package_search?facet.field=%5B%22%5Cud800%22%5D",
                 f"/api/3/action/package_show?id={LONE}"):
        r = client.get(path, headers=token)
        assert r.status_code == 422, (path, r.status_code, r.text)
        assert r.json()["error"] == MALFORMED
    assert "paramètre « filter »" in client.get(
        f"/api/v1/datasets/{slug}/records?filter={lone_filter}").json()["errors"][0]
    for method, path, body in (
            ("POST", "/api/v1/tokens", b'{"name": "\\ud800"}'),
            ("POST", "/api/v1/tokens", b'{"name": "\\udc00\\ud800"}'),
            ("POST", "/api/v1/tokens", b'{"name": "a\\u0000"}'),
            ("POST", "/api/v1/tokens", b'{"name": "\xed\xa0\x80"}'),
            ("POST", "/api/v1/tokens", b'{"name": "\xff"}'),
            ("PUT", f"/api/v1/datasets/{slug}", b'{"title": "\\uD800x"}'),
            ("POST", "/api/3/action/package_show", b'{"id": "\\ud800"}'),
            ("POST", "/api/3/action/package_search", b'{"sort": "\\ud800"}')):
        r = client.request(method, path, content=body,
                           headers={**token, "Content-Type": "application/json"})
        assert r.status_code == 422, (path, body, r.status_code, r.text)
        assert r.json()["error"] == MALFORMED
    # A browser gets the French error page.
    page = client.get(f"/datasets?q={LONE}", headers={"Accept": "text/html"})
    assert page.status_code == 422 and "texte mal formé" in page.text
    # Well-formed text goes through: a surrogate pair (an emoji), an escaped backslash.
    r = client.post("/api/v1/tokens", headers={**token, "Content-Type": "application/json"},
                    content=b'{"name": "jeton \\ud83d\\ude00 \\\\ud800"}')
    assert r.status_code == 201
    assert r.json()["name"] == "jeton \U0001f600 \\ud800"
    assert client.get(f"/api/v1/datasets?q={quote('Nîmes')}").status_code == 200


def test_bad_escape_reads_json_escapes_as_json_does() -> None:
    def impossible(text: str) -> bool:  # what json.loads makes of it
        return any(c == "\x00" or 0xD800 <= ord(c) <= 0xDFFF for c in json.loads(text))

    for text in ('"\\ud800"', '"\\uDBFF"', '"\\udc00"', '"\\u0000"', '"\\ud83d\\u0041"',
                 '"\\ud83d x \\ude00"', '"\\\\\\ud800"', '"\\ude00\\ud83d"'):
        assert impossible(text) and bad_escape(text), text
    for text in ('"\\ud83d\\ude00"', '"\\\\ud800"', '"\\\\\\\\ud800"', '"plain"',
                 '"\\n\\u00e9"'):
        assert not impossible(text) and not bad_escape(text), text


def test_a_405_names_every_method_of_its_address(client: TestClient) -> None:
    r = client.request("OPTIONS", "/api/v1/datasets")
    assert r.status_code == 405
    assert r.headers["allow"] == "GET, POST, HEAD"
    assert r.json()["error"] == "Cette action n'est pas permise ici."
    # An identifier route is not a literal sibling's: /dpias/missing is only read.
    r = client.request("PUT", "/api/v1/protection/dpias/missing")
    assert r.status_code == 405 and r.headers["allow"] == "GET, HEAD"
    assert client.delete("/api/v1/protection/activities").headers["allow"] == "GET, POST, HEAD"
    assert client.get("/api/v1/protection/activities/-1").status_code == 404
