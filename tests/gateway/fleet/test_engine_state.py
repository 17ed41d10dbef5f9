"""Engine state: each engine's /metrics and /v1/models read once per interval for the whole
host (one worker scrapes, the others read its file), taken over when that worker stops, and
fed to the routing policy."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from aiohttp import web

from gateway.fleet.engine_state import EngineStatePoller
from gateway.fleet.pool import UpstreamPool
from gateway.settings import Settings
from tests.gateway.fleet.aiohttp_stub import StubServer

PAGE = """# TYPE vllm:num_requests_running gauge
vllm:num_requests_running{engine="0",model_name="m"} 3.0
vllm:num_requests_waiting{engine="0",model_name="m"} 2.0
vllm:kv_cache_usage_perc{engine="0",model_name="m"} 0.25
vllm:lora_requests_info{max_lora="2",running_lora_adapters="ft:old",waiting_lora_adapters=""} 1.0
vllm:lora_requests_info{max_lora="2",running_lora_adapters="ft:a",waiting_lora_adapters="ft:b"} 2.0
"""
MODELS = {"data": [{"id": "m", "parent": None}, {"id": "ft:a", "parent": "m"}]}


class StubEngine(StubServer):
    def __init__(self) -> None:
        super().__init__()
        self.scrapes = 0

    def add_routes(self, app: web.Application) -> None:
        app.router.add_get("/metrics", self._metrics)
        app.router.add_get("/v1/models", self._models)
        app.router.add_get("/health", self._health)

    async def _metrics(self, _: web.Request) -> web.Response:
        self.scrapes += 1
        return web.Response(text=PAGE)

    async def _models(self, _: web.Request) -> web.Response:
        return web.json_response(MODELS)

    async def _health(self, _: web.Request) -> web.Response:
        return web.Response()


@pytest.fixture
async def engine() -> AsyncIterator[StubEngine]:
    stub = StubEngine()
    await stub.start()
    yield stub
    await stub.stop()


async def test_one_scrape_per_interval_for_all_workers_of_a_host(
    engine: StubEngine, tmp_path: Path
) -> None:
    settings = Settings(data_dir=tmp_path, upstreams=[engine.url])
    pools = [UpstreamPool(settings) for _ in range(3)]  # three gateway workers of one host
    pollers = [EngineStatePoller(pool, 0.25, tmp_path / "share") for pool in pools]
    for pool in pools:
        await pool.start()
    try:
        for _ in range(4):  # four intervals
            for poller in pollers:
                await poller.tick()
        assert engine.scrapes == 4  # not 12
        assert sorted(poller.scrapes for poller in pollers) == [0, 0, 4]
        for pool in pools:
            (upstream,) = pool.upstreams
            assert (upstream.load.running, upstream.load.waiting) == (3, 2)
            assert upstream.load.kv_cache_usage == 0.25
            assert upstream.load.max_lora == 2
            assert upstream.active_adapters() == {"ft:a", "ft:b"}  # the newest series only
            assert upstream.loaded_adapters == {"ft:a"}

        leader = next(p for p in pollers if p.scrapes)
        await leader.stop()  # its worker exits: the lock is released
        others = [p for p in pollers if p is not leader]
        for poller in others:
            await poller.tick()
        assert sum(p.scrapes for p in others) == 1  # another worker took over at once
    finally:
        for poller in pollers:
            await poller.stop()
        for pool in pools:
            await pool.stop()


async def test_the_policy_reads_the_scraped_state(engine: StubEngine, tmp_path: Path) -> None:
    idle = StubEngine()  # answers nothing: never healthy
    settings = Settings(data_dir=tmp_path, upstreams=[engine.url, idle.url])
    pool = UpstreamPool(settings)
    await pool.start()
    try:
        poller = EngineStatePoller(pool, 0.25, None)
        await poller.tick()
        ranked = pool.ranked("ft:a")
        assert [up.url for up in ranked] == [engine.url]  # the only healthy engine
        assert pool.decide("ft:a").kind == "affinity"  # it has ft:a registered
        assert pool.decide("ft:new").kind == "cold"
        assert pool.decide(None).kind == "base"
    finally:
        await pool.stop()
