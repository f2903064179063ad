"""Every request body but a file upload is bounded (web/body_limit.py): above the settings'
`max_body_bytes`, a French 413 before any route reads it, whether its length is declared or
it arrives in chunks; uploads keep their own, larger, limit."""

from __future__ import annotations

import html
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from patrimoine.core.settings import Settings
from patrimoine.web.body_limit import too_large_message
from tests.factories import LIGERAC_COUNTERS_CSV

# Request bodies are refused before any database work.
pytestmark = pytest.mark.database_free

LIMIT = 4096


def test_json_and_form_bodies_above_the_bound_are_refused(client: TestClient,
                                                          settings: Settings) -> None:
    settings.max_body_bytes = LIMIT
    message = too_large_message(LIMIT)
    assert message == ("Le contenu envoyé est trop volumineux : il dépasse la taille permise "
                       "(4096 octets).")
    big = {"title": "x" * LIMIT}
    for answer in (client.put("/api/v1/datasets/absent", json=big),
                   client.post("/api/3/action/package_search", json=big)):
        assert answer.status_code == 413 and answer.json()["error"] == message
    form = client.post("/connexion", data={"email": "a@b.fr", "password": "p" * LIMIT})
    assert form.status_code == 413 and message in html.unescape(form.text)

    def chunks() -> Iterator[bytes]:  # no declared length: counted as it arrives
        yield b'{"q": "'
        for _ in range(10):
            yield b"a" * 1000
        yield b'"}'

    chunked = client.post("/api/3/action/package_search", content=chunks(),
                          headers={"content-type": "application/json"})
    assert chunked.status_code == 413 and chunked.json()["error"] == message
    # Just below the bound, the route reads the body as before.
    small = client.post("/api/3/action/package_search", json={"q": "a" * 3000})
    assert small.status_code == 200 and small.json()["success"] is True


def test_an_upload_above_the_bound_keeps_its_own_limit(client: TestClient,
                                                       settings: Settings) -> None:
    settings.max_body_bytes = 1024
    data = LIGERAC_COUNTERS_CSV.encode() * 4
    assert len(data) > 1024
    answer = client.post("/api/v1/schemas/fontaine-eau/validate",
                         files={"file": ("comptages.csv", data, "text/csv")})
    assert answer.status_code == 200 and answer.json()["file"] == "comptages.csv"
