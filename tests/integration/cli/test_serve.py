"""`patrimoine serve` (uvicorn asked for httptools and uvloop by name: it would not start
without them) logs each request unless PATRIMOINE_ACCESS_LOG=0, and prints the public URL
its outgoing links are built on."""

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


def test_serve_prints_the_public_url_its_links_use(cli_env: dict[str, str],
                                                   tmp_path: Path) -> None:
    env = {**cli_env, "PATRIMOINE_WARM_LAYOUTS": "0",
           "PATRIMOINE_PUBLIC_URL": "https://donnees.exemple.fr"}
    logged = _serve_once(env, tmp_path / "serve.log")
    assert "Adresse publique des liens (catalogues, DCAT, CKAN) : https://donnees.exemple.fr" \
        in logged
    default = _serve_once({**cli_env, "PATRIMOINE_WARM_LAYOUTS": "0"}, tmp_path / "d.log")
    assert "Adresse publique des liens (catalogues, DCAT, CKAN) : http://127.0.0.1:8000" \
        in default
