"""Each engine's load and adapters, at most one interval old, scraped once per host.

Every ``interval_s`` (0.25 s by default) one gateway worker of the host, the one holding
an exclusive lock on ``<share dir>/engine-state.lock``, reads each engine's ``/metrics`` and
``/v1/models`` and writes what it found to ``engine-state.json`` (atomically); the other
workers read that file. So a host scrapes each engine once per interval whatever its number
of workers, and when the scraping worker dies its lock is released and another takes over
at its next tick. Without a share dir every worker scrapes for itself.
"""

from __future__ import annotations

import asyncio
import contextlib
import fcntl
import logging
import math
import os
import time
from pathlib import Path
from typing import Any

import aiohttp
import orjson

from gateway.fleet.engine_metrics import EngineMetrics, parse_engine_metrics
from gateway.fleet.pool import UpstreamPool
from gateway.fleet.upstream import Upstream

log = logging.getLogger("loragate.engine_state")

MODELS_EVERY_S = 2.0
"""How often /v1/models is read too: it changes only when adapters are loaded or unloaded,
and this gateway learns of its own loads at once."""
STATE_FILE = "engine-state.json"
LOCK_FILE = "engine-state.lock"


async def scrape(
    session: aiohttp.ClientSession, url: str, timeout_s: float, with_models: bool = True
) -> dict[str, Any]:
    """One engine's numbers as JSON-able data (``error`` set when it did not answer);
    ``adapters`` only ``with_models`` (its /v1/models changes only when adapters load)."""
    limit = aiohttp.ClientTimeout(total=timeout_s)
    try:
        async with session.get(f"{url}/metrics", timeout=limit) as resp:
            resp.raise_for_status()
            page = (await resp.read()).decode("utf-8", "replace")
        models = None
        if with_models:
            async with session.get(f"{url}/v1/models", timeout=limit) as resp:
                resp.raise_for_status()
                models = orjson.loads(await resp.read()).get("data", [])
    except (aiohttp.ClientError, TimeoutError, ValueError) as exc:
        return {"error": type(exc).__name__}
    metrics = parse_engine_metrics(page)
    sample: dict[str, Any] = {
        "running": metrics.running,
        "waiting": metrics.waiting,
        "kv": metrics.kv_cache_usage,
        "max_lora": metrics.max_lora,
        "running_adapters": sorted(metrics.running_adapters),
        "waiting_adapters": sorted(metrics.waiting_adapters),
    }
    if models is not None:
        sample["adapters"] = [str(m["id"]) for m in models if m.get("parent") is not None]
    return sample


def apply_sample(upstream: Upstream, sample: dict[str, Any], at: float) -> None:
    """Take one scrape's numbers into this worker's view of the engine."""
    if "error" in sample:
        return  # health is the prober's call; keep the last known load
    upstream.load = EngineMetrics(
        running=int(sample["running"]),
        waiting=int(sample["waiting"]),
        kv_cache_usage=float(sample["kv"]),
        max_lora=sample["max_lora"],
        running_adapters=frozenset(sample["running_adapters"]),
        waiting_adapters=frozenset(sample["waiting_adapters"]),
    )
    upstream.load_at = at
    if upstream.healthy and "adapters" in sample:
        upstream.set_adapters(set(sample["adapters"]))


class EngineStatePoller:
    """Keeps the pool's engines' load current (see the module's docstring)."""

    def __init__(
        self,
        pool: UpstreamPool,
        interval_s: float,
        share_dir: Path | None,
        models_every_s: float = MODELS_EVERY_S,
    ) -> None:
        self.pool = pool
        self.interval_s = interval_s
        self.models_every_s = models_every_s
        self._models_at = -math.inf
        self.share_dir = share_dir
        self.scrapes = 0
        """Scrapes of all engines this worker made (for tests and the benchmark)."""
        self._lock_fd: int | None = None
        self._seen_mtime = 0
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name="engine-state")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        if self._lock_fd is not None:
            os.close(self._lock_fd)  # releases the lock
            self._lock_fd = None

    async def _run(self) -> None:
        while True:
            started = time.monotonic()
            try:
                await self.tick()
            except Exception as exc:  # never let one bad tick stop the polling
                log.warning("engine state tick failed: %r", exc)
            await asyncio.sleep(max(0.0, self.interval_s - (time.monotonic() - started)))

    async def tick(self) -> None:
        samples: dict[str, dict[str, Any]] | None
        if self._leads():
            samples = await self._scrape_all()
            if self.share_dir is not None:
                self._publish(samples)
        else:
            samples = self._read_published()
            if samples is None:
                return
        now = time.monotonic()
        for upstream in self.pool.upstreams:
            if (sample := samples.get(upstream.url)) is not None:
                apply_sample(upstream, sample, now)
        self.pool.changed()

    async def _scrape_all(self) -> dict[str, dict[str, Any]]:
        upstreams = list(self.pool.upstreams)
        timeout = max(self.interval_s * 4, 1.0)
        now = time.monotonic()
        with_models = now - self._models_at >= self.models_every_s
        if with_models:
            self._models_at = now
        found = await asyncio.gather(
            *(scrape(self.pool.session, up.url, timeout, with_models) for up in upstreams)
        )
        self.scrapes += 1
        return {up.url: sample for up, sample in zip(upstreams, found, strict=True)}

    def _leads(self) -> bool:
        if self.share_dir is None or self._lock_fd is not None:
            return True
        self.share_dir.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.share_dir / LOCK_FILE, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            return False
        self._lock_fd = fd
        log.info("this worker (pid %d) now scrapes the engines for the host", os.getpid())
        return True

    def _publish(self, samples: dict[str, dict[str, Any]]) -> None:
        assert self.share_dir is not None
        path = self.share_dir / STATE_FILE
        partial = path.with_suffix(f".{os.getpid()}.tmp")
        partial.write_bytes(orjson.dumps(samples))
        os.replace(partial, path)

    def _read_published(self) -> dict[str, dict[str, Any]] | None:
        assert self.share_dir is not None
        path = self.share_dir / STATE_FILE
        try:
            mtime = path.stat().st_mtime_ns
            if mtime == self._seen_mtime:
                return None
            data: dict[str, dict[str, Any]] = orjson.loads(path.read_bytes())
        except (OSError, orjson.JSONDecodeError):
            return None
        self._seen_mtime = mtime
        return data
