"""The chain of upstreams: an engine that fails sends traffic to the fallback (marked by a
header), its breaker opens, and after the half-open probe succeeds traffic returns to it."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable

import httpx
from prometheus_client import REGISTRY

from gateway.settings import Settings
from tests.gateway.protection.conftest import FALLBACK_KEY, Gateway, chat
from tests.gateway.protection.fake_upstream import FakeUpstream

UPSTREAM = "x-loragate-upstream"


async def post(client: httpx.AsyncClient, stream: bool = False) -> httpx.Response:
    return await client.post("/v1/chat/completions", json=chat(stream=stream))


async def status(client: httpx.AsyncClient) -> dict[str, object]:
    response = await client.get("/v1/status")
    assert response.status_code == 200
    body: dict[str, object] = response.json()
    return body


def breaker_gauge(upstream: str) -> float | None:
    return REGISTRY.get_sample_value("loragate_upstream_breaker_state", {"upstream": upstream})


async def test_failing_engine_falls_back_then_returns_after_the_probe(
    engine: FakeUpstream,
    backup: FakeUpstream,
    make_settings: Callable[..., Settings],
    gateway: Gateway,
) -> None:
    async with gateway(make_settings()) as (_, client):
        first = await post(client)
        assert (first.status_code, first.headers[UPSTREAM]) == (200, engine.public_name)

        engine.failing = True
        for _ in range(3):  # each is tried on the engine, then served by the fallback
            response = await post(client)
            assert response.status_code == 200, response.text
            assert response.headers[UPSTREAM] == "fallback-0"
            assert response.json()["choices"][0]["message"]["content"] == "from backup"
        assert len(engine.seen) == 4
        assert backup.seen[-1].model == "hosted-model"
        assert backup.seen[-1].authorization == f"Bearer {FALLBACK_KEY}"

        response = await post(client)  # the breaker is open: the engine is not asked
        assert response.headers[UPSTREAM] == "fallback-0"
        assert len(engine.seen) == 4
        shown = await status(client)
        assert (shown["status"], shown["assistant"]) == ("degraded", "show")
        assert shown["upstreams"] == [
            {"name": engine.public_name, "healthy": True, "breaker": "open"},
            {"name": "fallback-0", "healthy": True, "breaker": "closed"},
        ]
        page = (await client.get("/v1/status")).text
        for secret in (FALLBACK_KEY, backup.url, engine.url):
            assert secret not in page
        await asyncio.sleep(0.25)  # the metrics sampler runs every health_interval_s
        assert breaker_gauge(engine.public_name) == 2
        assert breaker_gauge("fallback-0") == 0

        engine.failing = False
        await asyncio.sleep(0.55)  # breaker_open_s: now half-open, one probe goes through
        response = await post(client)
        assert response.headers[UPSTREAM] == engine.public_name
        assert len(engine.seen) == 5
        shown = await status(client)
        assert shown["status"] == "ok"
        assert shown["upstreams"][0]["breaker"] == "closed"  # type: ignore[index]


async def test_engine_off_the_network_falls_back_and_comes_back(
    engine: FakeUpstream,
    backup: FakeUpstream,
    make_settings: Callable[..., Settings],
    gateway: Gateway,
) -> None:
    async with gateway(make_settings()) as (_, client):
        await engine.stop()
        for stream in (False, True, False, True):
            response = await post(client, stream=stream)
            assert response.status_code == 200, response.text
            assert response.headers[UPSTREAM] == "fallback-0"
        assert [seen.stream for seen in backup.seen] == [False, True, False, True]
        shown = await status(client)
        engine_status = shown["upstreams"][0]  # type: ignore[index]
        assert engine_status == {"name": engine.public_name, "healthy": False, "breaker": "open"}

        await engine.start()  # the health check sees it back: traffic returns by itself
        deadline = time.monotonic() + 5
        while (await post(client)).headers[UPSTREAM] != engine.public_name:
            assert time.monotonic() < deadline, "traffic never returned to the engine"
            await asyncio.sleep(0.05)
        assert (await status(client))["status"] == "ok"


async def test_without_a_fallback_the_client_gets_a_fast_503(
    engine: FakeUpstream, make_settings: Callable[..., Settings], gateway: Gateway
) -> None:
    async with gateway(make_settings(fallbacks=False)) as (_, client):
        engine.failing = True
        for _ in range(3):
            response = await post(client)
            assert response.status_code == 502
            assert response.json()["error"]["code"] == "upstream_error"
        response = await post(client)  # open: refused at once, the engine is spared
        assert response.status_code == 503
        assert response.json()["error"]["code"] == "engine_unavailable"
        assert response.headers["retry-after"] == "2"
        assert len(engine.seen) == 3
        shown = await status(client)
        assert (shown["status"], shown["assistant"]) == ("unavailable", "pause")

        await engine.stop()
        started = time.monotonic()
        response = await post(client, stream=True)
        assert response.status_code == 503
        assert time.monotonic() - started < 2


async def test_streams_fall_back_only_before_their_first_byte(
    engine: FakeUpstream,
    backup: FakeUpstream,
    make_settings: Callable[..., Settings],
    gateway: Gateway,
) -> None:
    async with gateway(make_settings(breaker_failures=10)) as (_, client):
        engine.failing = True
        response = await post(client, stream=True)
        assert response.status_code == 200
        assert response.headers[UPSTREAM] == "fallback-0"
        assert "from backup" in response.text
        assert response.text.rstrip().endswith("data: [DONE]")

        engine.failing, engine.break_stream = False, True
        asked_backup = len(backup.seen)
        response = await post(client, stream=True)
        assert response.status_code == 200
        assert response.headers[UPSTREAM] == engine.public_name
        assert "from engine" in response.text
        assert '"code":"stream_interrupted"' in response.text
        assert "[DONE]" not in response.text
        assert len(backup.seen) == asked_backup  # too late to fall back


async def test_adapter_requests_reach_a_fallback_only_with_its_own_model(
    engine: FakeUpstream,
    backup: FakeUpstream,
    make_settings: Callable[..., Settings],
    gateway: Gateway,
    publish_adapter: Callable[[Settings], str],
) -> None:
    settings = make_settings(fallback_model=None)
    adapter = publish_adapter(settings)
    async with gateway(settings) as (_, client):
        served = await client.post("/v1/chat/completions", json=chat(adapter))
        assert served.headers[UPSTREAM] == engine.public_name
        assert engine.seen[-1].model == adapter
        await engine.stop()
        response = await client.post("/v1/chat/completions", json=chat(adapter))
        assert response.status_code == 503
        assert response.json()["error"]["code"] == "engine_unavailable"
        response = await post(client)  # the base model's name is passed through
        assert response.headers[UPSTREAM] == "fallback-0"
        assert backup.seen[-1].model == "base"

    settings = make_settings(fallback_model="hosted-model")
    async with gateway(settings) as (_, client):
        response = await client.post("/v1/chat/completions", json=chat(adapter))
        assert response.status_code == 200
        assert response.headers[UPSTREAM] == "fallback-0"
        assert backup.seen[-1].model == "hosted-model"
