"""Server subprocesses for the benchmarks: start, wait until ready, measure, stop by PID."""

from __future__ import annotations

import contextlib
import http.client
import socket
import subprocess
import time
from pathlib import Path

import psutil

MIB = 1024 * 1024
STOP_GRACE_S = 5.0


def free_port() -> int:
    """A TCP port on 127.0.0.1 that was free a moment ago."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def http_status(port: int, path: str, timeout_s: float = 1.0) -> int | None:
    """Status of GET http://127.0.0.1:<port><path>, or None when nothing answers."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout_s)
    try:
        conn.request("GET", path)
        resp = conn.getresponse()
        resp.read()
        return resp.status
    except (OSError, http.client.HTTPException):
        return None
    finally:
        conn.close()


def log_tail(path: Path, lines: int = 30) -> str:
    try:
        text = path.read_text(errors="replace")
    except OSError:
        return ""
    return "\n".join(text.splitlines()[-lines:])


class ServerProcess:
    """A server we started; it gets its own session so a terminal's Ctrl-C reaches only us."""

    def __init__(
        self, name: str, cmd: list[str], env: dict[str, str], log_path: Path, cwd: Path
    ) -> None:
        self.name = name
        self.log_path = log_path
        with log_path.open("wb") as log:
            self.popen = subprocess.Popen(
                cmd,
                env=env,
                cwd=cwd,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        self._proc = psutil.Process(self.popen.pid)

    @property
    def pid(self) -> int:
        return self.popen.pid

    def wait_ready(self, port: int, path: str, timeout_s: float) -> None:
        """Polls GET <path> until it answers 200; raises RuntimeError on exit or timeout."""
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if self.popen.poll() is not None:
                raise RuntimeError(self.failure(f"exited with code {self.popen.returncode}"))
            if http_status(port, path) == 200:
                return
            time.sleep(0.1)
        raise RuntimeError(self.failure(f"not ready at {path} within {timeout_s:.0f}s"))

    def failure(self, what: str) -> str:
        tail = log_tail(self.log_path)
        return f"{self.name} (pid {self.pid}) {what}; last lines of its output:\n{tail}"

    def rss_bytes(self) -> int:
        """Resident memory of the server and any children it started."""
        total = 0
        for proc in [self._proc, *self._children()]:
            with contextlib.suppress(psutil.Error):
                total += proc.memory_info().rss
        return total

    def cpu_seconds(self) -> float:
        """User + system CPU time used so far by the server and its live children."""
        total = 0.0
        for proc in [self._proc, *self._children()]:
            try:
                times = proc.cpu_times()
            except psutil.Error:
                continue
            total += times.user + times.system
        return total

    def _children(self) -> list[psutil.Process]:
        try:
            return self._proc.children(recursive=True)
        except psutil.Error:
            return []

    def stop(self) -> None:
        """SIGTERM, then SIGKILL after a grace period; children are stopped by their PIDs too."""
        children = self._children()
        if self.popen.poll() is None:
            self.popen.terminate()
            try:
                self.popen.wait(STOP_GRACE_S)
            except subprocess.TimeoutExpired:
                self.popen.kill()
                self.popen.wait(STOP_GRACE_S)
        for child in children:
            _stop_pid(child)


def _stop_pid(proc: psutil.Process) -> None:
    """psutil checks the PID still names the same process before it signals."""
    try:
        proc.terminate()
        proc.wait(STOP_GRACE_S)
    except psutil.TimeoutExpired:
        with contextlib.suppress(psutil.Error):
            proc.kill()
    except psutil.Error:
        pass
