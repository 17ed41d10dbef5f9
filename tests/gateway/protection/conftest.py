"""A gateway app in this process in front of two controllable stand-ins: an engine and a
fallback, both on 127.0.0.1."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from adapters.record import AdapterRecord, adapter_name
from adapters.registry import AdapterRegistry
from gateway.app import create_app
from gateway.settings import Settings
from tests.gateway.protection.fake_upstream import FakeUpstream

BASE = "base"
FALLBACK_KEY = "sk-fallback-secret"


@pytest.fixture
async def engine() -> AsyncIterator[FakeUpstream]:
    upstream = FakeUpstream("engine")
    await upstream.start()
    yield upstream
    await upstream.stop()


@pytest.fixture
async def backup() -> AsyncIterator[FakeUpstream]:
    upstream = FakeUpstream("backup", models=["hosted-model"])
    await upstream.start()
    yield upstream
    await upstream.stop()


@pytest.fixture
def make_settings(
    tmp_path: Path, database_url: str, engine: FakeUpstream, backup: FakeUpstream
) -> Callable[..., Settings]:
    """Settings of a gateway over ``engine``; ``fallback_model`` (None: pass the name through)
    and ``fallbacks=False`` shape the fallback chain; the rest are protection settings."""

    def make(
        fallbacks: bool = True, fallback_model: str | None = "hosted-model", **protection: Any
    ) -> Settings:
        chain = [{"url": f"{backup.url}/v1", "api_key": FALLBACK_KEY, "model": fallback_model}]
        return Settings(
            data_dir=tmp_path / "data",
            database_url=database_url,
            upstreams=[engine.url],
            served_model_name=BASE,
            health_interval_s=0.1,
            retry_after_s=2,
            auth={"enabled": False},
            protection={
                "fallbacks": chain if fallbacks else [],
                "breaker_failures": 3,
                "breaker_open_s": 0.5,
                "switch_refresh_s": 0.1,
                **protection,
            },
        )

    return make


Gateway = Callable[[Settings], AbstractAsyncContextManager[tuple[FastAPI, httpx.AsyncClient]]]


@pytest.fixture
def gateway() -> Gateway:
    """Runs the app (its lifespan included) and gives a client of it."""

    @asynccontextmanager
    async def run(settings: Settings) -> AsyncIterator[tuple[FastAPI, httpx.AsyncClient]]:
        app = create_app(settings)
        async with app.router.lifespan_context(app):
            transport = httpx.ASGITransport(app=app)
            async with httpx.AsyncClient(transport=transport, base_url="http://gw") as client:
                yield app, client

    return run


def chat(model: str = BASE, stream: bool = False) -> dict[str, Any]:
    return {"model": model, "messages": [{"role": "user", "content": "hi"}], "stream": stream}


@pytest.fixture
def publish_adapter(tmp_path: Path) -> Callable[[Settings], str]:
    """Puts an adapter of the base model in a gateway's registry; returns its name."""

    def publish(settings: Settings) -> str:
        source = tmp_path / "adapter-src"
        source.mkdir(exist_ok=True)
        for name in ("adapter_config.json", "adapter_model.safetensors"):
            (source / name).write_text("{}")
        record = AdapterRecord(
            name=adapter_name(BASE, "demo", "ftjob-1"),
            base_model=BASE,
            rank=8,
            alpha=16,
            target_modules=["q_proj"],
        )
        return AdapterRegistry(settings.adapters_dir).publish(source, record).name

    return publish
