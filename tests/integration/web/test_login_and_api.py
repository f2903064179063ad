from __future__ import annotations

import re

from fastapi.testclient import TestClient

from patrimoine.core.db import Database
from patrimoine.inventory.models import AccessLevel
from tests import factories as f


def _csrf(html: str) -> str:
    match = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert match
    return match.group(1)


def login(client: TestClient, email: str, password: str = f.PASSWORD) -> None:
    token = _csrf(client.get("/connexion").text)
    r = client.post("/connexion", data={"email": email, "password": password,
                                        "csrf_token": token, "next": "/admin"},
                    follow_redirects=False)
    assert r.status_code == 303, r.text


def test_login_requires_csrf_and_right_password(client: TestClient, db: Database) -> None:
    with db.unit_of_work() as s:
        f.account(s, "admin@ville.fr", superadmin=True)
    page = client.get("/connexion")
    assert page.status_code == 200 and 'lang="fr"' in page.text
    r = client.post("/connexion", data={"email": "admin@ville.fr", "password": f.PASSWORD})
    assert r.status_code == 403 and "formulaire a expiré" in r.text
    token = _csrf(page.text)
    r = client.post("/connexion", data={"email": "admin@ville.fr", "password": "faux-mot-de-passe",
                                        "csrf_token": token})
    assert r.status_code == 401 and "incorrect" in r.text
    login(client, "admin@ville.fr")
    assert client.get("/api/v1/me").json()["email"] == "admin@ville.fr"


def test_open_redirect_after_login_is_refused(client: TestClient, db: Database) -> None:
    with db.unit_of_work() as s:
        f.account(s, "admin@ville.fr", superadmin=True)
    token = _csrf(client.get("/connexion").text)
    r = client.post("/connexion", data={"email": "admin@ville.fr", "password": f.PASSWORD,
                                        "csrf_token": token, "next": "//evil.example/"},
                    follow_redirects=False)
    assert r.headers["location"] == "/admin"


def test_anonymous_api_sees_only_open_entries(client: TestClient, db: Database) -> None:
    with db.unit_of_work() as s:
        ville = f.organisation(s)
        f.dataset(s, ville, "Budget primitif", **f.PUBLIC)
        f.dataset(s, ville, "Badges riverains", access_level=AccessLevel.RESTRICTED)
    body = client.get("/api/v1/datasets").json()
    assert [d["title"] for d in body["items"]] == ["Budget primitif"]
    assert client.get("/api/v1/datasets/badges-riverains").status_code == 404
    assert client.get("/api/v1/datasets/budget-primitif").json()["access_level"] == "open"


def test_api_writes_with_token_and_errors_have_one_shape(client: TestClient, db: Database) -> None:
    with db.unit_of_work() as s:
        ville = f.organisation(s)
        f.account(s, "admin@ville.fr", superadmin=True)
        org_id = ville.id
    # Anonymous write: refused, same JSON error shape.
    r = client.post("/api/v1/datasets", json={"title": "X", "organisation_id": org_id})
    assert r.status_code == 401
    assert set(r.json()) == {"ok", "status", "error", "errors"}
    login(client, "admin@ville.fr")
    # Cookie session without the CSRF header: refused.
    assert client.post("/api/v1/tokens", json={"name": "n"}).status_code == 403
    csrf = _csrf(client.get("/connexion").text)
    r = client.post("/api/v1/tokens", json={"name": "script"}, headers={"X-CSRF-Token": csrf})
    secret = r.json()["token"]
    client.cookies.clear()
    auth = {"Authorization": f"Bearer {secret}"}
    r = client.post("/api/v1/datasets", headers=auth,
                    json={"title": "Fréquentation des piscines", "organisation_id": org_id,
                          "access_level": "restricted", "keywords": ["sport", "Sport", " piscine"]})
    assert r.status_code == 201, r.text
    assert r.json()["keywords"] == ["sport", "piscine"]
    slug = r.json()["slug"]
    data = {**r.json(), "theme": "Sports"}
    r = client.put(f"/api/v1/datasets/{slug}", headers=auth, json=data)
    assert r.json()["theme"] == "Sports"
    history = client.get(f"/api/v1/datasets/{slug}/history", headers=auth).json()
    assert [h["action"] for h in history] == ["updated", "created"]
    assert history[0]["changes"] == {"theme": [None, "Sports"]}
    r = client.post("/api/v1/datasets", headers=auth, json={"title": "", "organisation_id": org_id})
    assert r.status_code == 422 and r.json()["errors"]
    assert client.get("/api/v1/datasets",
                      headers={"Authorization": "Bearer pat_faux"}).status_code == 401
