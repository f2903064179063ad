"""schemathesis over the OpenAPI document, in process, on a throw-away demo territory: as an
anonymous visitor and with an instance administrator's API token (writes included), no
server error and no answer outside what the document declares (status, media type, body,
headers, `Allow` of a 405).

The budget is PATRIMOINE_FUZZ_EXAMPLES: unset (`make test`), each operation gets a few
generated requests; set (CI sets it in .ci/run), each gets that many, and the coverage phase
runs too (boundary values, wrong types, every undeclared method: thousands of requests).
"""

from __future__ import annotations

import logging
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import schemathesis
from schemathesis.engine import Status, events
from sqlalchemy import select

from patrimoine.access import service as accounts
from patrimoine.access.models import Account
from patrimoine.web.app import create_app
from tests.factories import DemoTerritory, demo_territory

BUDGET = os.environ.get("PATRIMOINE_FUZZ_EXAMPLES")
EXAMPLES = int(BUDGET) if BUDGET else 4
PHASES = ("examples", "coverage", "fuzzing", "stateful") if BUDGET else ("examples", "fuzzing")
CHECKS = ("not_a_server_error", "status_code_conformance", "content_type_conformance",
          "response_schema_conformance", "response_headers_conformance", "unsupported_method",
          "allow_header_conformance")
ADMIN = "admin@valdeloire.example"

# Checks left out for one operation, each with its reason.
EXCEPTIONS = {
    # Schema names may hold a slash (irve/statique), so GET /schemas/{name:path} also routes
    # /schemas/arbres-urbains/validate (a schema of that name would be found there): `Allow`
    # truthfully names GET beside the POST the document declares at that address.
    ("POST /api/v1/schemas/{name}/validate", "allow_header_conformance"),
}


@pytest.fixture
def territory(database_url: str, tmp_path: Path) -> Iterator[DemoTerritory]:
    territory = demo_territory(database_url, tmp_path)
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


def failures_of(schema: Any) -> list[str]:
    found: dict[tuple[str, str], str] = {}
    for event in schemathesis.engine.from_schema(schema).execute():
        if isinstance(event, events.NonFatalError):
            found[(event.label, "error")] = repr(event.value)
        if not isinstance(event, events.ScenarioFinished):
            continue
        recorder = event.recorder
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
    assert failures_of(schema) == []
