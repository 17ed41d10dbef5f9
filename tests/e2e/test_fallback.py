"""Kill the engine under load: its breaker opens and requests go to the fallback stand-in
(503 + Retry-After once that is gone too), never a hang or a 500; the supervisor restarts
the engine and traffic returns to it by itself.

One ``loragate up`` with two gateway workers; four client threads keep requests (whole and
streamed) going while the engine is killed.
"""

from __future__ import annotations

import os
import signal
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass

import httpx
import pytest

from tests.e2e.protection_stack import (
    ProtectedStack,
    chat_body,
    protected_stack,
    spread,
    stop_process,
)
from tests.helpers import Stack, wait_for

pytestmark = pytest.mark.engine

CLIENTS = 4
HANG_S = 10.0
"""No request may take longer than this (the engine's death is noticed at once)."""


@dataclass
class Outcome:
    """What one request under load got."""

    sent_at: float
    took_s: float
    status: int
    upstream: str | None
    retry_after: str | None
    body: str


@pytest.fixture(scope="module")
def protected(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ProtectedStack]:
    with protected_stack(tmp_path_factory.mktemp("fallback")) as running:
        yield running


def request(stack: Stack, stream: bool) -> Outcome:
    sent_at = time.monotonic()
    try:
        response = httpx.post(
            f"{stack.base_url}/v1/chat/completions",
            json=chat_body(stack.model, stream=stream),
            headers=stack.headers,
            timeout=30,
        )
    except httpx.HTTPError as exc:  # a hang or a dropped connection: recorded, then failed
        return Outcome(sent_at, time.monotonic() - sent_at, 0, None, None, repr(exc))
    return Outcome(
        sent_at,
        time.monotonic() - sent_at,
        response.status_code,
        response.headers.get("x-loragate-upstream"),
        response.headers.get("retry-after"),
        response.text,
    )


def load(stack: Stack, seconds: float) -> list[Outcome]:
    """``CLIENTS`` threads sending requests back to back (every other one streamed)."""
    outcomes: list[Outcome] = []
    stop_at = time.monotonic() + seconds

    def client(index: int) -> None:
        stream = index % 2 == 1
        while time.monotonic() < stop_at:
            outcomes.append(request(stack, stream))
            stream = not stream

    threads = [threading.Thread(target=client, args=(i,)) for i in range(CLIENTS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return outcomes


def assert_well_formed(outcomes: list[Outcome]) -> None:
    """Every answer is a success, an interrupted stream, or a 503 with Retry-After."""
    for outcome in outcomes:
        assert outcome.took_s < HANG_S, f"a request hung for {outcome.took_s:.1f} s"
        assert outcome.status in (200, 503), (outcome.status, outcome.body[:300])
        if outcome.status == 503:
            assert int(outcome.retry_after or 0) > 0, outcome.body
            assert '"engine_unavailable"' in outcome.body
        elif "data:" in outcome.body:  # a stream ends with [DONE] or an in-band error
            done = outcome.body.rstrip().endswith("data: [DONE]")
            assert done or '"stream_interrupted"' in outcome.body, outcome.body[-300:]


def engine_status(stack: Stack) -> dict[str, object]:
    shown = httpx.get(f"{stack.base_url}/v1/status", timeout=10).json()
    engine: dict[str, object] = shown["upstreams"][0]
    assert engine["name"] == "engine-0"
    return engine


def breaker_metric(stack: Stack) -> float:
    text = httpx.get(f"{stack.base_url}/metrics", timeout=10).text
    series = 'loragate_upstream_breaker_state{upstream="engine-0"}'
    values = [float(line.split()[-1]) for line in text.splitlines() if line.startswith(series)]
    assert values, f"{series} not exported"
    return max(values)


def test_engine_killed_under_load(protected: ProtectedStack) -> None:
    stack = protected.stack
    warm = spread(stack, chat_body(stack.model), count=8)
    assert {r.headers["x-loragate-upstream"] for r in warm} == {"engine-0"}
    engine_pid = stack.pid_of("engine")

    killer = threading.Timer(2.0, os.kill, args=(engine_pid, signal.SIGKILL))
    killer.start()
    killed_at = time.monotonic() + 2.0
    outcomes = load(stack, seconds=10.0)
    killer.join()
    assert_well_formed(outcomes)
    after = [o for o in outcomes if o.sent_at > killed_at + 1.0]
    assert after, "no requests were sent after the engine died"
    assert all(o.status == 200 and o.upstream == "fallback-0" for o in after), [
        (o.status, o.upstream) for o in after
    ]
    assert engine_status(stack) == {"name": "engine-0", "healthy": False, "breaker": "open"}
    assert breaker_metric(stack) == 2
    shown = httpx.get(f"{stack.base_url}/v1/status", timeout=10).json()
    assert (shown["status"], shown["assistant"]) == ("degraded", "show")

    stop_process(protected.stub)  # no fallback left either: 503 + Retry-After, at once
    outcomes = load(stack, seconds=3.0)
    assert outcomes, "no requests were sent with no upstream left"
    assert_well_formed(outcomes)
    assert any(o.status == 503 for o in outcomes) or all(
        o.upstream == "engine-0"
        for o in outcomes  # only if the engine was back already
    )

    wait_for(f"{stack.base_url}/health/ready", timeout_s=300)
    assert stack.pid_of("engine") != engine_pid
    deadline = time.monotonic() + 30
    while True:  # traffic returns by itself, in both workers
        back = spread(stack, chat_body(stack.model), count=16)
        if all(
            r.status_code == 200 and r.headers["x-loragate-upstream"] == "engine-0" for r in back
        ):
            break
        assert time.monotonic() < deadline, [r.status_code for r in back]
        time.sleep(0.5)
    assert engine_status(stack)["breaker"] == "closed"
    assert httpx.get(f"{stack.base_url}/v1/status", timeout=10).json()["status"] == "ok"
