"""A request that finds no engine healthy looks once more before it is refused: a worker may
not yet have seen an engine that another worker (or ``loragate up``) already saw come up."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from aiohttp import web

from gateway.errors import APIError
from gateway.fleet.loader import AdapterLoader
from gateway.fleet.pool import RECHECK_WAIT_S, UpstreamPool
from gateway.fleet.routing import Completion, CompletionRouter
from gateway.settings import Settings
from tests.gateway.fleet.aiohttp_stub import StubServer

ANSWER = {"id": "c1", "object": "chat.completion", "choices": []}


class LateEngine(StubServer):
    """An engine that starts listening only when told to; ``hang`` makes /health never answer."""

    def __init__(self, hang: bool = False) -> None:
        super().__init__()
        self.hang = hang
        self.released = asyncio.Event()

    def add_routes(self, app: web.Application) -> None:
        app.router.add_get("/health", self._health)
        app.router.add_get("/v1/models", self._models)
        app.router.add_post("/v1/chat/completions", self._chat)

    async def _health(self, _: web.Request) -> web.Response:
        if self.hang:
            await self.released.wait()
        return web.Response()

    async def _models(self, _: web.Request) -> web.Response:
        return web.json_response({"data": [{"id": "m", "parent": None}]})

    async def _chat(self, _: web.Request) -> web.Response:
        return web.json_response(ANSWER)


@pytest.fixture
async def engine() -> AsyncIterator[LateEngine]:
    stub = LateEngine()
    yield stub
    await stub.stop()


async def started_pool(engine: LateEngine, tmp_path: Path) -> UpstreamPool:
    pool = UpstreamPool(Settings(data_dir=tmp_path, upstreams=[engine.url]))
    await pool.start()  # its first probe finds nothing listening
    return pool


def chat() -> Completion:
    return Completion("/v1/chat/completions", b'{"model": "m"}', "r1", False, None)


async def test_a_request_sees_an_engine_the_schedule_has_not_probed_yet(
    engine: LateEngine, tmp_path: Path
) -> None:
    pool = await started_pool(engine, tmp_path)
    try:
        assert not pool.any_healthy
        await engine.start()
        assert not pool.any_healthy  # the next scheduled probe is still up to 0.25 s away
        router = CompletionRouter(pool.settings, pool, AdapterLoader(pool), [])
        response = await router.route(chat())
        assert response.status_code == 200
        assert pool.any_healthy
    finally:
        await pool.stop()


async def test_with_no_engine_listening_the_request_is_refused_at_once(
    engine: LateEngine, tmp_path: Path
) -> None:
    pool = await started_pool(engine, tmp_path)
    try:
        router = CompletionRouter(pool.settings, pool, AdapterLoader(pool), [])
        started = time.monotonic()
        with pytest.raises(APIError) as refused:
            await router.route(chat())
        assert refused.value.status == 503
        assert time.monotonic() - started < RECHECK_WAIT_S
    finally:
        await pool.stop()


async def test_an_engine_that_hangs_holds_the_refusal_up_for_the_wait_at_most(
    tmp_path: Path,
) -> None:
    hung = LateEngine(hang=True)
    pool = await started_pool(hung, tmp_path)
    await hung.start()
    try:
        started = time.monotonic()
        await asyncio.gather(*(pool.recheck() for _ in range(5)))  # one probe, shared
        waited = time.monotonic() - started
        assert RECHECK_WAIT_S * 0.8 <= waited < RECHECK_WAIT_S + 0.5
        assert not pool.any_healthy
    finally:
        await pool.stop()
        hung.released.set()
        await hung.stop()
