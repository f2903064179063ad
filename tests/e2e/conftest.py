"""Browser tests: a real `patrimoine serve` in a subprocess over the test's own store, driven
by Playwright with Debian's chromium (never a downloaded browser)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.support import server

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]


@pytest.fixture
def serve(cli_env: dict[str, str], tmp_path: Path) -> Iterator[Any]:
    """A function starting the server once the test has put its data in the store."""
    started: list[server.Server] = []

    def start() -> str:
        started.append(server.start(cli_env, tmp_path / "serve.log"))
        return started[-1].url

    yield start
    for running in started:
        server.stop(running)


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    if not CHROMIUM.exists():
        pytest.skip("chromium absent : lancez scripts/system-deps.sh (paquet Debian chromium).")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), headless=True,
                                             args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def page(browser: Any) -> Iterator[Any]:
    context = browser.new_context(locale="fr-FR", timezone_id="Europe/Paris",
                                  viewport={"width": 1280, "height": 900})
    context.set_default_timeout(15_000)
    page = context.new_page()
    # Whatever a test does, the pages must work under the Content-Security-Policy.
    violations: list[str] = []
    page.on("console", lambda message: violations.append(message.text)
            if "Content Security Policy" in message.text else None)
    yield page
    context.close()
    assert not violations, violations


def login(page: Any, base_url: str, email: str, password: str) -> None:
    page.goto(f"{base_url}/connexion")
    page.get_by_label("Adresse électronique").fill(email)
    page.get_by_label("Mot de passe").fill(password)
    page.get_by_role("button", name="Se connecter").click()
    page.wait_for_url(f"{base_url}/admin")


def nav(page: Any, name: str) -> Any:
    """A link of the main navigation (the breadcrumb may hold one of the same name)."""
    return page.get_by_role("navigation", name="Navigation principale").get_by_role(
        "link", name=name, exact=True)
