"""schemathesis over the OpenAPI document, in process, on a throw-away demo territory: as an
anonymous visitor and with an instance administrator's API token (writes included), no
server error and no answer outside what the document declares (status, media type, body,
headers, `Allow` of a 405), and no operation whose declared security requires
authentication that answers without it (schemathesis's ignored_auth, probing the
administrator's successes without the token and with a wrong one). With the token, every
such operation must get past authentication at least once: the fuzzing reaches them.

The document itself passes openapi-spec-validator, and its error bodies are the real ones.

The budget is PATRIMOINE_FUZZ_EXAMPLES: unset (`make test`), each operation gets a few
generated requests; set (CI sets it in .ci/run), each gets that many, and the coverage phase
runs too (boundary values, wrong types, every undeclared method: thousands of requests).
"""

from __future__ import annotations

import logging
import os
from collections.abc import Iterator
from typing import Any

import pytest
import schemathesis
from schemathesis.engine import Status, events
from sqlalchemy import select

from patrimoine.access import service as accounts
from patrimoine.access.models import Account
from patrimoine.web.app import create_app
from tests.factories import DemoTerritory, demo_territory

# The document and the HTTP layer are the subject: run once, on SQLite. What the database
# itself refuses (integers beyond its range, NUL bytes) is tested on both databases in
# test_malformed_requests.py.
pytestmark = [pytest.mark.heavy, pytest.mark.database_free]

BUDGET = os.environ.get("PATRIMOINE_FUZZ_EXAMPLES")
EXAMPLES = int(BUDGET) if BUDGET else 4
PHASES = ("examples", "coverage", "fuzzing", "stateful") if BUDGET else ("examples", "fuzzing")
CHECKS = ("not_a_server_error", "status_code_conformance", "content_type_conformance",
          "response_schema_conformance", "response_headers_conformance", "unsupported_method",
          "allow_header_conformance", "ignored_auth")
ADMIN = "admin@valdeloire.example"

# Checks left out for one operation, each with its reason.
EXCEPTIONS = {
    # Schema names may hold a slash (irve/statique), so GET /schemas/{name:path} also routes
    # /schemas/arbres-urbains/validate (a schema of that name would be found there): `Allow`
    # truthfully names GET beside the POST the document declares at that address.
    ("POST /api/v1/schemas/{name}/validate", "allow_header_conformance"),
}


@pytest.fixture(scope="module")
def territory(_templates: Any, tmp_path_factory: pytest.TempPathFactory
              ) -> Iterator[DemoTerritory]:
    """One territory for the module: the anonymous run writes nothing, the administrator's
    run (second) writes what it likes, the document test only reads."""
    tmp = tmp_path_factory.mktemp("fuzz")
    territory = demo_territory(_templates.new_url(tmp), tmp)
    yield territory
    territory.services.db.dispose()


class AdminToken:
    """An administrator's API token on every request; a new one when the run revoked it
    (DELETE /api/v1/tokens/{id} is fuzzed too)."""

    def __init__(self, territory: DemoTerritory) -> None:
        self.db = territory.services.db
        self.secret = ""

    def get(self, case: Any, context: Any) -> str:
        with self.db.unit_of_work() as s:
            if not self.secret or accounts.account_for_token(s, self.secret) is None:
                account = s.scalar(select(Account).where(Account.email == ADMIN))
                assert account is not None
                self.secret = accounts.create_api_token(s, account, "fuzz")[1]
        return self.secret

    def set(self, case: Any, data: str, context: Any) -> None:
        case.headers = {**(case.headers or {}), "Authorization": f"Bearer {data}"}


def failures_of(schema: Any, statuses: dict[str, set[int]]) -> list[str]:
    """The checks that failed (one line per operation and check); `statuses` gets, for each
    operation, the status codes its generated requests were answered with."""
    found: dict[tuple[str, str], str] = {}
    for event in schemathesis.engine.from_schema(schema).execute():
        if isinstance(event, events.NonFatalError):
            found[(event.label, "error")] = repr(event.value)
        if not isinstance(event, events.ScenarioFinished):
            continue
        recorder = event.recorder
        for case_id, interaction in recorder.interactions.items():
            node = recorder.cases.get(case_id)
            if interaction.response is not None and node is not None \
                    and node.value.method.upper() == str(event.label).split(" ")[0]:
                statuses.setdefault(str(event.label), set()).add(
                    interaction.response.status_code)
        for case_id, checks in recorder.checks.items():
            for check in checks:
                key = (str(event.label), check.name)
                if check.status != Status.FAILURE or key in EXCEPTIONS or key in found:
                    continue
                case = recorder.cases[case_id].value
                interaction = recorder.interactions.get(case_id)
                status = interaction.response.status_code \
                    if interaction and interaction.response else None
                title = check.failure_info.failure.title if check.failure_info else ""
                found[key] = (f"{case.method} {case.formatted_path} query={case.query} "
                              f"body={str(case.body)[:200]} -> {status} {title}")
    return [f"{label} [{check}]: {what}" for (label, check), what in sorted(found.items())]


@pytest.mark.parametrize("who", ["anonyme", "administrateur"])
def test_openapi_holds_under_fuzzing(who: str, territory: DemoTerritory,
                                     caplog: pytest.LogCaptureFixture) -> None:
    config = schemathesis.Config.from_dict({
        # Hypothesis's health checks time the generation of data, not the application: on a
        # busy machine they would fail the run for nothing.
        "seed": 12, "workers": 1, "suppress-health-check": ["all"],
        "generation": {"max-examples": EXAMPLES, "database": "none"},
        "phases": {p: {"enabled": p in PHASES}
                   for p in ("examples", "coverage", "fuzzing", "stateful")},
        "checks": {"enabled": False, **{c: {"enabled": True} for c in CHECKS}},
    })
    schema = schemathesis.openapi.from_asgi(
        "/api/v1/openapi.json", create_app(services=territory.services), config=config)
    if who == "administrateur":
        schema.auth.providers.append(AdminToken(territory))
    caplog.set_level(logging.CRITICAL, logger="patrimoine")  # server errors are asserted
    statuses: dict[str, set[int]] = {}
    assert failures_of(schema, statuses) == []
    if who == "administrateur":
        required = _requiring_authentication(schema.raw_schema)
        assert "POST /api/v1/tokens" in required and "GET /api/v1/me" in required
        assert {label for label in required if statuses.get(label, {401}) <= {401}} == set()


def _requiring_authentication(document: dict[str, Any]) -> set[str]:
    """The operations whose declared security has no anonymous alternative."""
    return {f"{method.upper()} {path}" for path, item in document["paths"].items()
            for method, operation in item.items()
            if operation.get("security") and {} not in operation["security"]}


def test_the_document_is_valid_and_declares_how_to_authenticate(
        territory: DemoTerritory) -> None:
    from fastapi.testclient import TestClient
    from openapi_spec_validator import validate

    client = TestClient(create_app(services=territory.services))
    document = client.get("/api/v1/openapi.json").json()
    validate(document)
    schemes = document["components"]["securitySchemes"]
    assert schemes["jeton"] == {**schemes["jeton"], "type": "http", "scheme": "bearer"}
    assert schemes["session"]["in"] == "cookie"
    assert schemes["session"]["name"] == "patrimoine_session"
    assert schemes["csrf"]["in"] == "header" and schemes["csrf"]["name"] == "X-CSRF-Token"
    paths = document["paths"]
    assert paths["/api/v1/datasets"]["post"]["security"] == [
        {"jeton": []}, {"session": [], "csrf": []}]
    assert paths["/api/v1/me"]["get"]["security"] == [{"jeton": []}, {"session": []}]
    assert paths["/api/v1/datasets"]["get"]["security"] == [{}, {"jeton": []}, {"session": []}]
    assert paths["/catalog.ttl"]["get"]["security"] == []
    assert "401" not in paths["/catalog.ttl"]["get"]["responses"]

    # the errors documented are the ones answered: same shape, same French message
    declared = paths["/api/v1/datasets"]["get"]["responses"]
    for status, request in ((401, {"headers": {"Authorization": "Bearer faux"}}),
                            (404, {"url": "/api/v1/datasets/inexistant"}),
                            (422, {"params": {"per_page": 0}}),
                            (401, {"method": "POST", "json": {}})):
        answer = client.request(request.get("method", "GET"),
                                request.get("url", "/api/v1/datasets"),
                                params=request.get("params"), json=request.get("json"),
                                headers=request.get("headers"))
        assert answer.status_code == status, answer.text
        example = declared[str(status)]["content"]["application/json"]["example"]
        assert answer.json().keys() == example.keys() and answer.json()["status"] == status
    invalid = client.get("/api/v1/datasets", params={"per_page": 0}).json()
    assert invalid == declared["422"]["content"]["application/json"]["example"]
