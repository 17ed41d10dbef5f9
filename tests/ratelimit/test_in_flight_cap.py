"""The gateway's cap on requests in flight: a slow engine fills it, the next requests wait
in the queue, and past the queue they get 503 + Retry-After at once."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Callable
from pathlib import Path

import httpx
import pytest
from prometheus_client import REGISTRY

from gateway.app import create_app
from gateway.settings import Settings
from tests.gateway.protection.fake_upstream import FakeUpstream

BODY = {"model": "base", "messages": [{"role": "user", "content": "hi"}], "max_tokens": 4}


@pytest.fixture
async def slow_engine() -> AsyncIterator[FakeUpstream]:
    engine = FakeUpstream("engine")
    engine.answer.clear()  # every completion waits until the test lets it answer
    await engine.start()
    yield engine
    engine.answer.set()
    await engine.stop()


def rejections() -> float:
    value = REGISTRY.get_sample_value(
        "loragate_rate_limit_rejections_total", {"reason": "concurrency"}
    )
    return value or 0.0


async def test_past_the_cap_and_the_queue_requests_are_refused_at_once(
    slow_engine: FakeUpstream, tmp_path: Path
) -> None:
    settings = Settings(
        data_dir=tmp_path,
        upstreams=[slow_engine.url],
        served_model_name="base",
        retry_after_s=3,
        auth={"enabled": False},
        limits={"max_in_flight": 2, "max_queued": 1, "queue_timeout_s": 30},
    )
    app = create_app(settings)
    before = rejections()
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://gw") as client:
            calls = [asyncio.create_task(client.post("/v1/chat/completions", json=BODY))]
            calls += [asyncio.create_task(client.post("/v1/chat/completions", json=BODY))]
            await until(lambda: len(slow_engine.seen) == 2)
            queued = asyncio.create_task(client.post("/v1/chat/completions", json=BODY))
            await asyncio.sleep(0.2)
            started = time.monotonic()
            refused = await client.post("/v1/chat/completions", json=BODY)
            assert time.monotonic() - started < 1  # refused at once, not after a wait
            assert refused.status_code == 503
            assert refused.json()["error"]["code"] == "engine_overloaded"
            assert refused.headers["retry-after"] == "3"
            assert len(slow_engine.seen) == 2  # the engine never saw the queued one yet
            slow_engine.answer.set()
            replies = await asyncio.gather(*calls, queued)
    assert [r.status_code for r in replies] == [200, 200, 200]
    assert len(slow_engine.seen) == 3
    assert rejections() == before + 1


async def until(condition: Callable[[], bool], timeout_s: float = 5) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if condition():
            return
        await asyncio.sleep(0.01)
    raise AssertionError("condition never held")
