"""A throw-away PostgreSQL cluster for the test run: initdb in a temporary folder, a
loopback port, stopped at the end. Runs as the `postgres` system user when we are root,
since PostgreSQL refuses to run as root."""

from __future__ import annotations

import glob
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import time
from pathlib import Path


def _bindir() -> Path:
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"))
    if found:
        return Path(found[-1]).parent
    initdb = shutil.which("initdb")
    if initdb:
        return Path(initdb).resolve().parent
    raise RuntimeError(
        "PostgreSQL introuvable : lancez scripts/system-deps.sh (paquet postgresql).")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class TemporaryCluster:
    def __init__(self) -> None:
        self.bindir = _bindir()
        self.root = Path(tempfile.mkdtemp(prefix="patrimoine-pg-"))
        self.datadir = self.root / "data"
        self.port = free_port()
        self.user = "postgres"
        self._as_other = os.geteuid() == 0

    def _run(self, *args: str) -> None:
        cmd = [str(self.bindir / args[0]), *args[1:]]
        if self._as_other:
            cmd = ["runuser", "-u", "postgres", "--", *cmd]
        subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)

    def start(self) -> TemporaryCluster:
        if self._as_other:
            pw = pwd.getpwnam("postgres")
            os.chown(self.root, pw.pw_uid, pw.pw_gid)
        self._run("initdb", "-D", str(self.datadir), "-U", self.user, "-A", "trust",
                  "-E", "UTF8", "--locale=C.UTF-8", "--no-sync")
        # Durability off, and no autovacuum: its workers visit the run's databases in turn,
        # for about a seventh of the server's CPU, on rows the tests delete anyway.
        self._run(
            "pg_ctl", "-D", str(self.datadir), "-l", str(self.root / "log"), "-w", "start",
            "-o", f"-p {self.port} -h 127.0.0.1 -k {self.root} -F -c fsync=off "
                  "-c synchronous_commit=off -c full_page_writes=off -c max_connections=200 "
                  "-c autovacuum=off",
        )
        return self

    def url(self, database: str = "postgres") -> str:
        return f"postgresql+psycopg://{self.user}@127.0.0.1:{self.port}/{database}"

    def stop(self) -> None:
        try:
            self._run("pg_ctl", "-D", str(self.datadir), "-m", "immediate", "-w", "stop")
        finally:
            time.sleep(0.1)
            shutil.rmtree(self.root, ignore_errors=True)
