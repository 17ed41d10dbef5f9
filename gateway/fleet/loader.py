"""Runtime LoRA loading: the first request naming an adapter loads it into the engine.

One load at a time per adapter and engine (concurrent first requests wait for the same
load); loading is idempotent (an engine that already has it counts as success).
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import defaultdict
from collections.abc import Callable
from pathlib import Path

import aiohttp
import orjson

from adapters.record import AdapterRecord
from gateway.errors import APIError
from gateway.fleet.errors import AdapterLoadFailed, EngineUnreachable
from gateway.fleet.pool import UpstreamPool
from gateway.fleet.upstream import Upstream
from gateway.settings import Settings

log = logging.getLogger("loragate.lora")

ALREADY_LOADED = "has already been loaded"
ALREADY = "already_loaded"
"""The load hook's result when the engine had the adapter already (no load happened)."""

LoadHook = Callable[[str, str, float | None], None]
"""Called after each load: (adapter name, 'ok' or the error's code, seconds or None)."""


def _no_hook(adapter: str, result: str, seconds: float | None) -> None:
    return None


class AdapterLoader:
    """Loads adapters into engines: one load of an adapter at a time, and one load per engine
    at a time (a load stalls the engine's scheduling for its duration; loading many at once
    would stall every other request for all of them together).
    """

    def __init__(self, pool: UpstreamPool, on_load: LoadHook = _no_hook) -> None:
        self.pool = pool
        self.on_load = on_load
        self._locks: defaultdict[tuple[str, str], asyncio.Lock] = defaultdict(asyncio.Lock)
        self._engine_slots: defaultdict[str, asyncio.Semaphore] = defaultdict(
            lambda: asyncio.Semaphore(1)
        )

    async def ensure_loaded(self, upstream: Upstream, record: AdapterRecord) -> None:
        if record.name in upstream.loaded_adapters:
            return
        async with self._locks[(upstream.url, record.name)]:
            if record.name in upstream.loaded_adapters:  # loaded while we waited
                return
            started = time.perf_counter()
            try:
                async with self._engine_slots[upstream.url]:
                    loaded = await self._load(upstream, record)
            except APIError as exc:
                self.on_load(record.name, exc.code or "error", None)
                raise
            upstream.add_adapter(record.name)
            if not loaded:  # another gateway (replica or worker) loaded it first
                self.on_load(record.name, ALREADY, None)
                return
            elapsed = time.perf_counter() - started
            self.on_load(record.name, "ok", elapsed)
            log.info("loaded %s into %s in %.0f ms", record.name, upstream.name, elapsed * 1000)

    def forget(self, upstream: Upstream, name: str) -> None:
        upstream.forget_adapter(name)

    async def unload_everywhere(self, name: str) -> None:
        for upstream in self.pool.upstreams:
            if name not in upstream.loaded_adapters:
                continue
            upstream.forget_adapter(name)
            try:
                async with self.pool.session.post(
                    f"{upstream.url}/v1/unload_lora_adapter", json={"lora_name": name}
                ) as resp:
                    await resp.read()
            except (aiohttp.ClientError, TimeoutError) as exc:
                log.warning("could not unload %s from %s: %r", name, upstream.url, exc)

    async def _load(self, upstream: Upstream, record: AdapterRecord) -> bool:
        """Load it; False when the engine had it already."""
        path = engine_path(record.artifact_dir, self.pool.settings)
        body = {"lora_name": record.name, "lora_path": path}
        try:
            async with self.pool.session.post(
                f"{upstream.url}/v1/load_lora_adapter", json=body
            ) as resp:
                status, payload = resp.status, await resp.read()
        except (aiohttp.ClientError, TimeoutError) as exc:
            raise EngineUnreachable(
                f"The model service did not answer while loading {record.name}.",
                self.pool.settings.retry_after_s,
            ) from exc
        if status == 200:
            return True
        if status == 400 and ALREADY_LOADED in payload.decode(errors="ignore"):
            return False
        raise AdapterLoadFailed(
            f"The engine could not load adapter {record.name}: {_message(payload)}"
        )


def engine_path(artifact_dir: str, settings: Settings) -> str:
    """Where the engines find an adapter's files: the registry path rewritten to
    ``engine.adapter_dir`` when the engines mount the shared volume elsewhere."""
    mounted = settings.engine.adapter_dir
    if mounted is None:
        return artifact_dir
    try:
        inside = Path(artifact_dir).relative_to(settings.adapters_dir)
    except ValueError:  # not in the registry's folder: give it as it is
        return artifact_dir
    return str(mounted / inside)


def _message(payload: bytes) -> str:
    try:
        data = orjson.loads(payload)
        return str(data.get("error", {}).get("message") or data)
    except (orjson.JSONDecodeError, AttributeError):
        return payload[:300].decode(errors="replace")
