"""Behind a reverse proxy every connection comes from the proxy: the per-address login
throttle must count the visitor's address (X-Forwarded-For) when, and only when, the proxy is
trusted (PATRIMOINE_TRUSTED_PROXIES)."""

from __future__ import annotations

import re
from pathlib import Path

import httpx2 as httpx

from tests.support import server

LIMITS = {"PATRIMOINE_WARM_LAYOUTS": "0", "PATRIMOINE_ACCESS_LOG": "0",
          "PATRIMOINE_LOGIN_FAILURES_PER_ADDRESS": "2",
          "PATRIMOINE_LOGIN_FAILURES_PER_ACCOUNT": "100"}


def _failed_login(url: str, forwarded_for: str, email: str) -> int:
    with httpx.Client(base_url=url, headers={"X-Forwarded-For": forwarded_for}) as client:
        form = client.get("/connexion").text
        match = re.search(r'name="csrf_token" value="([^"]+)"', form)
        assert match, form[:500]
        response = client.post("/connexion", data={
            "email": email, "password": "pas le bon", "csrf_token": match.group(1)})
        return response.status_code


def _statuses(env: dict[str, str], log: Path) -> list[int]:
    running = server.start(env, log)
    try:
        first = [_failed_login(running.url, "203.0.113.7", f"inconnu{i}@exemple.fr")
                 for i in range(3)]
        return [*first, _failed_login(running.url, "198.51.100.9", "autre@exemple.fr")]
    finally:
        server.stop(running)


def test_a_trusted_proxy_gives_each_visitor_their_own_address(cli_env: dict[str, str],
                                                               tmp_path: Path) -> None:
    trusted = _statuses({**cli_env, **LIMITS, "PATRIMOINE_TRUSTED_PROXIES": "127.0.0.1"},
                        tmp_path / "trusted.log")
    # The second failure from 203.0.113.7 locks that address; the next visitor is not locked.
    assert trusted == [401, 429, 429, 401]


def test_an_untrusted_proxy_header_is_ignored(cli_env: dict[str, str], tmp_path: Path) -> None:
    # Without trust, X-Forwarded-For is anyone's say: every request is the connection's
    # address, so a visitor cannot dodge the lock by sending another header.
    untrusted = _statuses({**cli_env, **LIMITS}, tmp_path / "untrusted.log")
    assert untrusted == [401, 429, 429, 429]
