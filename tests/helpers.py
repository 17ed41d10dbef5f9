"""Small helpers shared by the tests: free ports, waiting for a URL, a running stack.

The stack runs with auth on (the default): requests send ``stack.headers`` (the admin key),
and the official client gets ``api_key=stack.admin_key``.
"""

from __future__ import annotations

import ctypes
import os
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import httpx


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def wait_for(url: str, timeout_s: float, proc: subprocess.Popen[bytes] | None = None) -> None:
    """Poll ``url`` until it answers 200; fail early if ``proc`` exits."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if proc is not None and proc.poll() is not None:
            raise RuntimeError(f"process exited with {proc.returncode} before {url} was ready")
        try:
            if httpx.get(url, timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.5)
    raise TimeoutError(f"{url} not ready after {timeout_s} s")


@dataclass
class Stack:
    """A running ``loragate up``: the engine and the gateway, as a user starts them."""

    proc: subprocess.Popen[bytes]
    data_dir: Path
    port: int
    engine_port: int
    model: str = "loragate-tiny"

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def engine_url(self) -> str:
        return f"http://127.0.0.1:{self.engine_port}"

    @property
    def admin_key(self) -> str:
        """The admin key the first start wrote (auth is on, as by default)."""
        return (self.data_dir / "admin.key").read_text().strip()

    @property
    def headers(self) -> dict[str, str]:
        """Headers that authenticate a request with the admin key."""
        return {"Authorization": f"Bearer {self.admin_key}"}

    def pid_of(self, name: str) -> int:
        return int((self.data_dir / "run" / f"{name}.pid").read_text())

    def log_of(self, name: str) -> str:
        return (self.data_dir / "logs" / f"{name}.log").read_text(errors="replace")


def _die_with_parent() -> None:  # pragma: no cover - runs in the child before exec
    ctypes.CDLL("libc.so.6").prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG


def free_ports(count: int) -> int:
    """The first of ``count`` consecutive free ports (for ``--engines N``)."""
    for _ in range(100):
        first = free_port()
        if all(_is_free(first + i) for i in range(1, count)):
            return first
    raise RuntimeError(f"no {count} consecutive free ports")


def _is_free(port: int) -> bool:
    with socket.socket() as sock:
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            return False
        return True


def start_stack(data_dir: Path, log_path: Path, **env: str) -> Stack:
    """``loragate up`` with ``env`` (``LORAGATE_ENGINE__COUNT=N``: N engines, their ports
    consecutive and free)."""
    port, engine_port = free_port(), free_ports(int(env.get("LORAGATE_ENGINE__COUNT", "1")))
    full_env = dict(os.environ)
    full_env.update(
        LORAGATE_DATA_DIR=str(data_dir),
        LORAGATE_PORT=str(port),
        LORAGATE_ENGINE__PORT=str(engine_port),
        **env,
    )
    with log_path.open("wb") as log_file:
        proc = subprocess.Popen(
            [sys.executable, "-m", "gateway.cli.main", "up"],
            env=full_env,
            stdout=log_file,
            stderr=subprocess.STDOUT,
            preexec_fn=_die_with_parent,  # a killed test run leaves no stack behind
        )
    stack = Stack(proc, data_dir, port, engine_port)
    try:
        wait_for(f"{stack.base_url}/health/ready", timeout_s=600, proc=proc)
        every_worker_ready(stack)
    except Exception:
        stop_stack(stack)
        raise
    return stack


def every_worker_ready(stack: Stack, in_a_row: int = 10, timeout_s: float = 60) -> None:
    """Ready on many new connections in a row: with several gateway workers, one that says
    ready does not mean the others have seen the engine yet."""
    deadline = time.monotonic() + timeout_s
    streak = 0
    while streak < in_a_row:
        if time.monotonic() > deadline:
            raise TimeoutError(f"{stack.base_url} not ready on {in_a_row} connections in a row")
        ok = httpx.get(f"{stack.base_url}/health/ready", timeout=5).status_code == 200
        streak = streak + 1 if ok else 0
        if not ok:
            time.sleep(0.1)


def stop_stack(stack: Stack) -> None:
    if stack.proc.poll() is None:
        stack.proc.send_signal(signal.SIGTERM)
        try:
            stack.proc.wait(timeout=60)
        except subprocess.TimeoutExpired:
            stack.proc.kill()
            stack.proc.wait()


def start_gateway(stack: Stack, data_dir: Path, log_path: Path, **env: str) -> Stack:
    """``loragate serve`` (the gateway alone) in front of ``stack``'s engine, with a data
    folder of its own (its admin key, metrics, engine state) and ``env`` on top (e.g. another
    ``LORAGATE_DATABASE_URL``). The answer is a ``Stack`` whose process is that gateway."""
    port = free_port()
    full_env = dict(os.environ)
    full_env.update(
        LORAGATE_DATA_DIR=str(data_dir),
        LORAGATE_PORT=str(port),
        LORAGATE_BASE_MODEL=str(stack.data_dir / "models" / stack.model),
        LORAGATE_ENGINE__PORT=str(stack.engine_port),
        **env,
    )
    with log_path.open("wb") as log_file:
        proc = subprocess.Popen(
            [sys.executable, "-m", "gateway.cli.main", "serve"],
            env=full_env,
            stdout=log_file,
            stderr=subprocess.STDOUT,
            preexec_fn=_die_with_parent,
        )
    gateway = Stack(proc, data_dir, port, stack.engine_port, stack.model)
    try:
        wait_for(f"{gateway.base_url}/health/ready", timeout_s=120, proc=proc)
        every_worker_ready(gateway)
    except Exception:
        stop_stack(gateway)
        raise
    return gateway
