"""A real `patrimoine serve` in a subprocess, for tests that speak HTTP to it (browsers,
the ckanapi client...)."""

from __future__ import annotations

import os
import subprocess
import sys
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path

from tests.support.postgres import free_port

PATRIMOINE = Path(sys.executable).parent / "patrimoine"


@dataclass
class Server:
    url: str
    process: subprocess.Popen[bytes]
    log: Path


def _wait_until_up(server: Server, timeout: float = 120.0) -> None:
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


def start(env: dict[str, str], log: Path, port: int | None = None) -> Server:
    """Start the server on `port` (a free one by default) and wait until it answers."""
    port = port or free_port()
    with log.open("wb") as out:
        process = subprocess.Popen(
            [str(PATRIMOINE), "serve", "--host", "127.0.0.1", "--port", str(port)],
            env={**os.environ, **env}, stdout=out, stderr=subprocess.STDOUT,
        )
    server = Server(f"http://127.0.0.1:{port}", process, log)
    try:
        _wait_until_up(server)
    except RuntimeError:
        stop(server)
        raise
    return server


def kill(server: Server) -> None:
    """kill -9: no shutdown, no flush, as a power cut or the OOM killer would."""
    server.process.kill()
    server.process.wait()


def stop(server: Server) -> None:
    server.process.terminate()
    try:
        server.process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        server.process.kill()
        server.process.wait()
