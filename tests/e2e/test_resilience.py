"""The engine dies: clients get a fast 503 with Retry-After, and service comes back by itself.

Runs after the other end-to-end modules (file order), since it restarts the shared engine.
"""

from __future__ import annotations

import os
import signal
import time

import httpx
import pytest

from adapters.record import AdapterRecord
from tests.helpers import Stack, wait_for

pytestmark = pytest.mark.engine


def chat(stack: Stack, model: str | None = None) -> httpx.Response:
    body = {
        "model": model or stack.model,
        "messages": [{"role": "user", "content": "hi"}],
        "max_tokens": 2,
    }
    url = f"{stack.base_url}/v1/chat/completions"
    return httpx.post(url, json=body, headers=stack.headers, timeout=30)


def test_client_disconnect_aborts_the_engine_request(stack: Stack) -> None:
    asked = 1900
    body = {
        "model": stack.model, "prompt": "hi", "max_tokens": asked, "ignore_eos": True,
        "stream": True,
    }  # fmt: skip
    before = settled_generation_tokens(stack)
    url = f"{stack.base_url}/v1/completions"
    with httpx.stream("POST", url, json=body, headers=stack.headers, timeout=30) as resp:
        next(resp.iter_bytes())
    generated = settled_generation_tokens(stack) - before
    # Closing the client connection aborts the engine's request long before 1900 tokens.
    assert 0 < generated < asked / 2, f"the engine generated {generated} of {asked} tokens"


def settled_generation_tokens(stack: Stack) -> float:
    """vLLM's generated-token counter once it has stopped moving (it is updated in steps)."""
    last, stable_since = engine_generation_tokens(stack), time.monotonic()
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        time.sleep(0.5)
        now = engine_generation_tokens(stack)
        if now != last:
            last, stable_since = now, time.monotonic()
        elif time.monotonic() - stable_since >= 3:
            return last
    raise AssertionError("vllm:generation_tokens_total never settled")


def engine_generation_tokens(stack: Stack) -> float:
    text = httpx.get(f"{stack.engine_url}/metrics", timeout=5).text
    total = 0.0
    for line in text.splitlines():
        if line.startswith("vllm:generation_tokens_total{"):
            total += float(line.rsplit(" ", 1)[1])
    return total


def eventually_status(url: str, status: int, within_s: float) -> bool:
    deadline = time.monotonic() + within_s
    while time.monotonic() < deadline:
        if httpx.get(url, timeout=5).status_code == status:
            return True
        time.sleep(0.2)
    return False


def test_engine_killed_then_back(stack: Stack, published_adapter: AdapterRecord) -> None:
    assert chat(stack).status_code == 200
    engine_pid = stack.pid_of("engine")
    os.kill(engine_pid, signal.SIGKILL)

    deadline = time.monotonic() + 10
    statuses = []
    while time.monotonic() < deadline:
        started = time.monotonic()
        resp = chat(stack)
        assert time.monotonic() - started < 5, "a request hung while the engine was down"
        statuses.append(resp.status_code)
        if resp.status_code == 503:
            error = resp.json()["error"]
            assert error["code"] == "engine_unavailable"
            assert int(resp.headers["retry-after"]) > 0
            break
        time.sleep(0.1)
    assert statuses[-1] == 503, statuses
    assert eventually_status(f"{stack.base_url}/health/ready", 503, within_s=5)
    assert httpx.get(f"{stack.base_url}/health/live").status_code == 200

    wait_for(f"{stack.base_url}/health/ready", timeout_s=300)
    assert stack.pid_of("engine") != engine_pid
    assert chat(stack).status_code == 200
    # the new engine process has no adapters loaded; the gateway loads them again
    assert chat(stack, published_adapter.name).status_code == 200
