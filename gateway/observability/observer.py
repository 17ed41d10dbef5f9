"""Wires the metrics into the app: middleware, ``/metrics``, and state sampled each second.

The pool's view of each upstream (up, breaker, resident adapters) and the degradation mode
are sampled by every worker every ``health_interval_s``; their gauges' multiprocess modes
combine the workers' views.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
from collections.abc import Callable, Iterable

from fastapi import FastAPI
from prometheus_client import multiprocess
from starlette.responses import Response

from gateway.fleet.pool import UpstreamPool
from gateway.fleet.upstream import Upstream
from gateway.observability import labels
from gateway.observability.exposition import MetricsEndpoint
from gateway.observability.finetune import FinetuneCollector
from gateway.observability.http import RequestMetricsMiddleware
from gateway.observability.metrics import (
    ADAPTER_PLACEMENT,
    ADAPTERS_RESIDENT,
    BREAKER_STATE,
    DEGRADATION_MODE,
    ENGINE_ACTIVE_ADAPTERS,
    ENGINE_IN_FLIGHT,
    ENGINE_KV_CACHE,
    ENGINE_RUNNING,
    ENGINE_WAITING,
    UPSTREAM_UP,
    initialise_label_sets,
)
from gateway.observability.multiproc import active_dir
from gateway.observability.restarts import EngineRestartsCollector
from gateway.settings import Settings

log = logging.getLogger("loragate.metrics")

METRICS_PATH = "/metrics"
BREAKER_CLOSED = 0
DEGRADATION_NORMAL = 0


def _normal() -> int:
    return DEGRADATION_NORMAL


def _closed(upstream: Upstream) -> int:
    return BREAKER_CLOSED


def _none() -> Iterable[tuple[str, int]]:
    return ()


def sample_engine(upstream: Upstream, breaker_state: int, placed_before: set[str]) -> set[str]:
    """One engine's gauges, under its public name (never its URL); returns the adapter
    labels placed there now (those placed before and no longer are set to 0)."""
    name = upstream.name
    UPSTREAM_UP.labels(name).set(1 if upstream.healthy else 0)
    BREAKER_STATE.labels(name).set(breaker_state)
    ADAPTERS_RESIDENT.labels(name).set(len(upstream.loaded_adapters))
    ENGINE_RUNNING.labels(name).set(upstream.load.running)
    ENGINE_WAITING.labels(name).set(upstream.load.waiting)
    ENGINE_KV_CACHE.labels(name).set(upstream.load.kv_cache_usage)
    ENGINE_IN_FLIGHT.labels(name).set(upstream.in_flight)
    ENGINE_ACTIVE_ADAPTERS.labels(name).set(len(upstream.active_adapters()))
    adapter_label = labels.budget().adapters.known
    placed = {adapter_label(adapter) for adapter in upstream.loaded_adapters}
    for adapter in placed:
        ADAPTER_PLACEMENT.labels(adapter, name).set(1)
    for adapter in placed_before - placed:
        ADAPTER_PLACEMENT.labels(adapter, name).set(0)
    return placed


class MetricsObserver:
    """The app's metrics. The degradation switch and the circuit breakers
    (:mod:`gateway.protection.setup`) replace ``degradation_mode``, ``breaker_state`` and
    ``other_breakers`` (the fallbacks': (name, state) pairs) with functions that read theirs."""

    def __init__(self, settings: Settings, pool: UpstreamPool) -> None:
        self.settings = settings
        self.pool = pool
        self.degradation_mode: Callable[[], int] = _normal
        self.breaker_state: Callable[[Upstream], int] = _closed
        self.other_breakers: Callable[[], Iterable[tuple[str, int]]] = _none
        self._task: asyncio.Task[None] | None = None
        self._placed: dict[str, set[str]] = {}
        shared = active_dir()
        labels.configure(
            labels.LabelBudget(
                adapter_limit=settings.metrics.adapter_labels,
                model_limit=settings.metrics.model_labels,
                shared_dir=shared / "labels" if shared else None,
            )
        )
        initialise_label_sets()

    def install(self, app: FastAPI) -> None:
        """Add the request middleware (outermost) and the ``/metrics`` route."""
        collectors = [
            FinetuneCollector(self.settings.job_database_url),
            EngineRestartsCollector(self.settings.run_dir),
        ]
        app.add_api_route(
            METRICS_PATH,
            MetricsEndpoint(collectors).handle,
            methods=["GET"],
            tags=["health"],
            summary="Prometheus metrics",
            name="metrics",
            response_class=Response,
            responses={200: {"description": "The text format.", "content": {"text/plain": {}}}},
        )
        app.add_middleware(RequestMetricsMiddleware)

    def start(self) -> None:
        self.sample()
        self._task = asyncio.create_task(self._sample_forever(), name="metrics-sampler")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        if active_dir() is not None:  # this worker's live gauges no longer count
            multiprocess.mark_process_dead(os.getpid())  # type: ignore[no-untyped-call]

    def sample(self) -> None:
        DEGRADATION_MODE.set(self.degradation_mode())
        for upstream in self.pool.upstreams:
            before = self._placed.get(upstream.name, set())
            self._placed[upstream.name] = sample_engine(
                upstream, self.breaker_state(upstream), before
            )
        for name, state in self.other_breakers():
            BREAKER_STATE.labels(name).set(state)

    async def _sample_forever(self) -> None:
        while True:
            await asyncio.sleep(self.settings.health_interval_s)
            try:
                self.sample()
            except Exception as exc:  # never let a metrics bug stop the sampling
                log.warning("metrics sampling failed: %r", exc)
