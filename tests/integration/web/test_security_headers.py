"""Security headers on every response; the embeddable chart and map may be framed by anyone,
nothing else; the session cookie's flags."""

from __future__ import annotations

import re
from collections.abc import Mapping
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from patrimoine.bootstrap import Services
from patrimoine.core.db import Database
from patrimoine.web.app import create_app
from tests import factories as f
from tests.factories import portal_world

# Headers, cookies and frames are the web layer's: the database does not change them.
pytestmark = pytest.mark.database_free

TEMPLATES = Path(__file__).parents[3] / "src" / "patrimoine" / "web" / "templates"


def _checked(h: Mapping[str, str], framed: bool) -> str:
    assert h["x-content-type-options"] == "nosniff"
    assert h["referrer-policy"] == ("no-referrer" if framed else "same-origin")
    csp = h["content-security-policy"]
    assert "script-src 'self'" in csp and "unsafe-eval" not in csp
    assert "'unsafe-inline'" not in csp.split("script-src")[1].split(";")[0]
    assert ("frame-ancestors *" if framed else "frame-ancestors 'none'") in csp
    return csp


def test_every_kind_of_response_carries_the_headers(services: Services, tmp_path: Path) -> None:
    world = portal_world(services, tmp_path)
    client = TestClient(create_app(services=services))
    slug = world.counters.slug
    for url in ("/", "/connexion", f"/datasets/{slug}", "/api/v1/datasets",
                f"/api/v1/datasets/{slug}/records", "/static/js/portal.js", "/page-inconnue",
                f"/datasets/{slug}/chart.vl.json", "/catalog.ttl"):
        r = client.get(url)
        _checked(r.headers, framed=False)
        assert r.headers["x-frame-options"] == "DENY", url
    for url in (f"/embed/datasets/{slug}/map", f"/embed/datasets/{slug}/chart"):
        r = client.get(url)
        _checked(r.headers, framed=True)
        assert "x-frame-options" not in r.headers, url
    # The API's documentation keeps working: its inline scripts are allowed by their hash.
    docs = client.get("/api/v1/docs")
    csp = docs.headers["content-security-policy"]
    inline = re.findall(r"<script>(.*?)</script>", docs.text, re.S)
    assert inline and csp.count("'sha256-") == len(inline)


def test_no_inline_script_in_the_templates() -> None:
    for template in TEMPLATES.rglob("*.html"):
        text = template.read_text(encoding="utf-8")
        for tag in re.findall(r"<script\b[^>]*>", text):
            assert "src=" in tag or "application/ld+json" in tag, (template.name, tag)
        assert not re.search(r"\son[a-z]+=|javascript:", text), template.name


def test_session_cookie_flags(services: Services, db: Database) -> None:
    with db.unit_of_work() as s:
        f.account(s, "admin@ville.fr", superadmin=True)
    services.settings.secure_cookies = True
    client = TestClient(create_app(services=services), base_url="https://testserver")
    token = f.csrf_of(client.get("/connexion").text)
    r = client.post("/connexion", data={"email": "admin@ville.fr", "password": f.PASSWORD,
                                        "csrf_token": token}, follow_redirects=False)
    cookie = r.headers["set-cookie"].lower()
    assert "httponly" in cookie and "samesite=lax" in cookie and "secure" in cookie
