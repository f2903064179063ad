"""Small measuring tools shared by the benchmarks: timed subprocesses, servers, HTTP timings."""

from __future__ import annotations

import http.client
import os
import socket
import statistics
import subprocess
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import psutil


@dataclass
class Run:
    seconds: float
    peak_rss_mb: float
    stdout: str


def run_measured(cmd: Sequence[str], env: dict[str, str] | None = None,
                 cwd: Path | None = None) -> Run:
    """Run a command to completion; wall time and the peak RSS of its whole process tree."""
    start = time.perf_counter()
    proc = subprocess.Popen(list(cmd), env=env, cwd=cwd, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)
    peak = 0
    done = threading.Event()

    def sample() -> None:
        nonlocal peak
        try:
            root = psutil.Process(proc.pid)
        except psutil.NoSuchProcess:
            return
        while not done.is_set():
            try:
                tree = [root, *root.children(recursive=True)]
                peak = max(peak, sum(p.memory_info().rss for p in tree))
            except psutil.Error:
                pass
            time.sleep(0.02)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    out, err = proc.communicate()
    done.set()
    sampler.join()
    seconds = time.perf_counter() - start
    if proc.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd)} failed ({proc.returncode}):\n{err[-3000:]}")
    return Run(seconds, peak / 2**20, out)


def median_run(runs: Sequence[Run]) -> Run:
    """Runs of one command summed up: the median time, the highest peak RSS, the last output."""
    return Run(statistics.median(r.seconds for r in runs), max(r.peak_rss_mb for r in runs),
               runs[-1].stdout)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Server:
    """A server subprocess on 127.0.0.1:port, stopped when the block ends."""

    def __init__(self, cmd: Sequence[str], port: int, env: dict[str, str] | None = None,
                 ready_path: str = "/") -> None:
        self.cmd, self.port, self.env, self.ready_path = list(cmd), port, env, ready_path

    def __enter__(self) -> Server:
        self.proc = subprocess.Popen(self.cmd, env=self.env, stdout=subprocess.DEVNULL,
                                     stderr=subprocess.PIPE, text=True)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"server exited: {self.proc.stderr.read()[-2000:]}")
            try:
                status, _ = get(self.connection(), self.ready_path)
                if status < 500:
                    return self
            except OSError:
                time.sleep(0.2)
        raise RuntimeError("server did not start within 60 s")

    def connection(self) -> http.client.HTTPConnection:
        return http.client.HTTPConnection("127.0.0.1", self.port, timeout=600)

    def rss_mb(self) -> float:
        try:
            return psutil.Process(self.proc.pid).memory_info().rss / 2**20
        except psutil.Error:
            return 0.0

    def __exit__(self, *exc: object) -> None:
        self.proc.terminate()
        try:
            self.proc.wait(10)
        except subprocess.TimeoutExpired:
            self.proc.kill()


def get(conn: http.client.HTTPConnection, path: str) -> tuple[int, int]:
    """GET a path on a keep-alive connection; status and body size (the body is read fully)."""
    conn.request("GET", path, headers={"Accept": "application/json"})
    response = conn.getresponse()
    size = 0
    while chunk := response.read(1 << 20):
        size += len(chunk)
    return response.status, size


@dataclass
class Timing:
    median_ms: float
    p95_ms: float
    bytes: int


def time_requests(conn: http.client.HTTPConnection, path: str, n: int) -> Timing:
    """One untimed warm-up request, then n timed ones (client side: sent → last byte)."""
    status, size = get(conn, path)
    if status != 200:
        raise RuntimeError(f"GET {path} answered {status}")
    samples = []
    for _ in range(n):
        start = time.perf_counter()
        get(conn, path)
        samples.append((time.perf_counter() - start) * 1000)
    samples.sort()
    p95 = samples[max(0, round(0.95 * len(samples)) - 1)]
    return Timing(statistics.median(samples), p95, size)


def time_download(url: str, n: int) -> Timing:
    """A whole download with curl: Python's http.client decodes chunked bodies slower than
    a fast server sends them, and would measure itself instead of the server."""
    samples, size = [], 0
    for _ in range(n):
        start = time.perf_counter()
        out = subprocess.run(["curl", "-sf", "-o", "/dev/null", "-w", "%{size_download}", url],
                             capture_output=True, text=True, check=True).stdout
        samples.append((time.perf_counter() - start) * 1000)
        size = int(float(out))
    samples.sort()
    return Timing(statistics.median(samples), samples[-1], size)


def time_calls(call, n: int) -> Timing:  # type: ignore[no-untyped-def]
    """The same for an in-process call (the engine floor)."""
    call()
    samples = []
    for _ in range(n):
        start = time.perf_counter()
        call()
        samples.append((time.perf_counter() - start) * 1000)
    samples.sort()
    return Timing(statistics.median(samples), samples[max(0, round(0.95 * n) - 1)], 0)


def environment(**extra: str) -> dict[str, str]:
    env = dict(os.environ)
    env.update(extra)
    return env
