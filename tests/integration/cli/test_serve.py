"""`patrimoine serve` (uvicorn asked for httptools and uvloop by name: it would not start
without them) logs each request unless PATRIMOINE_ACCESS_LOG=0."""

from __future__ import annotations

from pathlib import Path

from tests.support import server


def _serve_once(env: dict[str, str], log: Path) -> str:
    running = server.start(env, log)  # waits for /connexion to answer 200
    server.stop(running)
    return log.read_text()


def test_serve_logs_requests_unless_told_not_to(cli_env: dict[str, str],
                                                tmp_path: Path) -> None:
    logged = _serve_once({**cli_env, "PATRIMOINE_WARM_LAYOUTS": "0"}, tmp_path / "on.log")
    assert '"GET /connexion HTTP/1.1" 200' in logged
    quiet = _serve_once({**cli_env, "PATRIMOINE_WARM_LAYOUTS": "0",
                         "PATRIMOINE_ACCESS_LOG": "0"}, tmp_path / "off.log")
    assert "Patrimoine sert sur" in quiet and "GET /connexion" not in quiet
