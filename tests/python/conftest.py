"""Fixtures for the tests of the Python client (contrib/python): a real
annalsd from the build directory ($ANNALS_BUILD, else build/) on a
temporary directory and Unix socket, started as tests/harness.c does."""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from typing import Iterator, List, Optional

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__))))
sys.path.insert(0, os.path.join(ROOT, "contrib", "python"))
BUILD = os.environ.get("ANNALS_BUILD") or os.path.join(ROOT, "build")

import annals  # noqa: E402


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Daemon:
    """annalsd on dir/data and dir/annalsd.sock; its log in dir."""

    def __init__(self, args: Optional[List[str]] = None,
                 env: Optional[dict] = None) -> None:
        self.dir = tempfile.mkdtemp(prefix="annals-py-")
        self.data = os.path.join(self.dir, "data")
        self.sock = os.path.join(self.dir, "annalsd.sock")
        self.log = os.path.join(self.dir, "annalsd.log")
        self.args = list(args or [])
        self.env = env
        self.proc: Optional[subprocess.Popen] = None
        self.start()

    def start(self) -> None:
        notify = os.path.join(self.dir, "notify")
        if os.path.exists(notify):
            os.unlink(notify)
        ns = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        ns.bind(notify)
        ns.settimeout(0.05)
        env = dict(os.environ, NOTIFY_SOCKET=notify, **(self.env or {}))
        with open(self.log, "ab") as log:
            self.proc = subprocess.Popen(
                [os.path.join(BUILD, "annalsd"), "--data", self.data,
                 "--socket", self.sock, "--map-size", "64M", *self.args],
                stderr=log, env=env)
        try:
            deadline = time.monotonic() + 10
            while time.monotonic() < deadline:
                try:
                    if b"READY=1" in ns.recv(256):
                        return
                except socket.timeout:
                    pass
                if self.proc.poll() is not None:
                    break
            raise RuntimeError("annalsd did not start:\n" + self.log_text())
        finally:
            ns.close()

    def log_text(self) -> str:
        with open(self.log, encoding="utf-8", errors="replace") as f:
            return f.read()

    def stop(self) -> int:
        if self.proc is None:
            return 0
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
        status = self.proc.wait(20)
        self.proc = None
        return status

    def client(self, **kw) -> annals.Client:
        return annals.connect(self.sock, **kw)

    def remove(self) -> None:
        self.stop()
        shutil.rmtree(self.dir, ignore_errors=True)


@pytest.fixture
def daemon_factory() -> Iterator:
    made: List[Daemon] = []

    def make(args: Optional[List[str]] = None, **kw) -> Daemon:
        d = Daemon(args, **kw)
        made.append(d)
        return d
    yield make
    for d in made:
        status = d.stop()
        log = d.log_text()
        shutil.rmtree(d.dir, ignore_errors=True)
        assert status == 0, f"annalsd exited with {status}:\n{log}"


@pytest.fixture
def daemon(daemon_factory) -> Daemon:
    return daemon_factory()


@pytest.fixture
def db(daemon) -> Iterator[annals.Client]:
    with daemon.client() as c:
        yield c


def event(i: int, **kw) -> dict:
    """A small valid record, numbered i."""
    rec = {"start": f"2015-01-{i % 28 + 1:02d}", "actors": ["RUS", "EGY"],
           "title": f"event {i}", "source": "t", "key": f"k{i}"}
    rec.update(kw)
    return rec
