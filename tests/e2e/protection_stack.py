"""A ``loragate up`` stack with two gateway workers and a fallback stand-in, for the
degradation and fallback tests; and ways to spread requests over both workers."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
from prometheus_client.multiprocess import MultiProcessCollector

from tests.helpers import Stack, free_port, start_stack, stop_stack, wait_for

REPO = Path(__file__).resolve().parents[2]
WORKERS = 2


@dataclass
class ProtectedStack:
    """The stack, its fallback stand-in (``bench/stub_upstream.py``) and that one's process."""

    stack: Stack
    stub: subprocess.Popen[bytes]
    stub_port: int

    @property
    def stub_url(self) -> str:
        return f"http://127.0.0.1:{self.stub_port}"


def start_stub(port: int, log: Path) -> subprocess.Popen[bytes]:
    argv = [sys.executable, "bench/stub_upstream.py", "--port", str(port), "--chunks", "4"]
    with log.open("wb") as out:
        proc = subprocess.Popen(argv, cwd=REPO, stdout=out, stderr=subprocess.STDOUT)
    wait_for(f"http://127.0.0.1:{port}/health", timeout_s=30, proc=proc)
    return proc


def stop_process(proc: subprocess.Popen[bytes]) -> None:
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


@contextmanager
def protected_stack(root: Path, **env: str) -> Iterator[ProtectedStack]:
    """Two gateway workers over the real engine, with the stand-in as ``fallback-0``."""
    stub_port = free_port()
    stub = start_stub(stub_port, root / "stub.log")
    try:
        fallbacks = json.dumps([{"url": f"http://127.0.0.1:{stub_port}/v1"}])
        stack = start_stack(
            root / "data",
            root / "up.log",
            LORAGATE_WORKERS=str(WORKERS),
            LORAGATE_PROTECTION__FALLBACKS=fallbacks,
            **env,
        )
    except Exception:
        stop_process(stub)
        raise
    try:
        yield ProtectedStack(stack, stub, stub_port)
    finally:
        stop_stack(stack)
        stop_process(stub)


def chat_body(model: str, stream: bool = False) -> dict[str, Any]:
    body: dict[str, Any] = {
        "model": model,
        "messages": [{"role": "user", "content": "hi"}],
        "max_tokens": 2,
    }
    if stream:
        body["stream"] = True
    return body


def spread(
    stack: Stack, body: dict[str, Any], count: int = 24, parallel: int = 8
) -> list[httpx.Response]:
    """``count`` requests, ``parallel`` at a time, each on a new connection (so both
    workers get some)."""

    def one(_: int) -> httpx.Response:
        return httpx.post(
            f"{stack.base_url}/v1/chat/completions", json=body, headers=stack.headers, timeout=30
        )

    with ThreadPoolExecutor(parallel) as pool:
        return list(pool.map(one, range(count)))


def requests_by_worker(stack: Stack) -> dict[str, float]:
    """Completion requests each gateway worker has answered so far (its metric file's)."""
    counts: dict[str, float] = {}
    for path in (stack.data_dir / "run" / "metrics").glob("counter_*.db"):
        pid = path.stem.rsplit("_", 1)[-1]
        merge = MultiProcessCollector.merge
        metrics = merge([str(path)], accumulate=False)  # type: ignore[no-untyped-call]
        counts[pid] = sum(
            sample.value
            for metric in metrics
            for sample in metric.samples
            if sample.name == "loragate_requests_total"
        )
    return counts


def workers_that_served(stack: Stack, action: Callable[[], None]) -> int:
    """How many gateway workers answered some of the requests ``action`` sends."""
    before = requests_by_worker(stack)
    action()
    after = requests_by_worker(stack)
    return sum(1 for pid, count in after.items() if count > before.get(pid, 0.0))
