"""A real Redis for the tests (Debian's redis-server) on 127.0.0.1, a free port, no disk."""

from __future__ import annotations

import os
import shutil
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
import redis

from tests.helpers import free_port

REDIS_SERVER = shutil.which("redis-server")


def require_redis_server() -> str:
    """The redis-server binary; skips the test without one, except in CI, where it fails."""
    if REDIS_SERVER is None:
        if os.environ.get("CI"):
            pytest.fail("redis-server is missing: scripts/system-deps.sh installs it")
        pytest.skip("redis-server is not installed (scripts/system-deps.sh installs it)")
    return REDIS_SERVER


@contextmanager
def running_redis(folder: Path) -> Iterator[str]:
    """Start redis-server; yield its ``redis://`` URL; stop it."""
    binary = require_redis_server()
    port = free_port()
    args = [binary, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly"]
    args += ["no", "--dir", str(folder), "--daemonize", "no"]
    log = (folder / "redis.log").open("wb")
    proc = subprocess.Popen(args, stdout=log, stderr=subprocess.STDOUT)
    url = f"redis://127.0.0.1:{port}/0"
    try:
        _wait_ping(url, proc)
        yield url
    finally:
        proc.terminate()
        proc.wait(timeout=10)
        log.close()


def _wait_ping(url: str, proc: subprocess.Popen[bytes]) -> None:
    client = redis.Redis.from_url(url)
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"redis-server exited with {proc.returncode}")
        try:
            if client.ping():
                client.close()
                return
        except redis.ConnectionError:
            time.sleep(0.05)
    raise TimeoutError("redis-server did not answer PING")
