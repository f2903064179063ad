"""Browser tests: a real `patrimoine serve` in a subprocess over the test's own store, driven
by Playwright with Debian's chromium (never a downloaded browser)."""

from __future__ import annotations

import os
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from tests.support.postgres import free_port

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]
PATRIMOINE = Path(sys.executable).parent / "patrimoine"


@dataclass
class Server:
    url: str
    process: subprocess.Popen[bytes]
    log: Path


def _wait_until_up(server: Server, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if server.process.poll() is not None:
            raise RuntimeError(f"patrimoine serve stopped:\n{server.log.read_text()}")
        try:
            with urllib.request.urlopen(f"{server.url}/connexion", timeout=2) as response:
                if response.status == 200:
                    return
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            pass
        time.sleep(0.1)
    raise RuntimeError(f"patrimoine serve did not answer in {timeout} s:\n{server.log.read_text()}")


@pytest.fixture
def serve(cli_env: dict[str, str], tmp_path: Path) -> Iterator[Any]:
    """A function starting the server once the test has put its data in the store."""
    started: list[Server] = []

    def start() -> str:
        port = free_port()
        log = tmp_path / "serve.log"
        with log.open("wb") as out:
            process = subprocess.Popen(
                [str(PATRIMOINE), "serve", "--host", "127.0.0.1", "--port", str(port)],
                env={**os.environ, **cli_env}, stdout=out, stderr=subprocess.STDOUT,
            )
        server = Server(f"http://127.0.0.1:{port}", process, log)
        started.append(server)
        _wait_until_up(server)
        return server.url

    yield start
    for server in started:
        server.process.terminate()
        try:
            server.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            server.process.kill()
            server.process.wait()


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
    yield page
    context.close()


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
