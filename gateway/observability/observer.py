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

from gateway.fleet.pool import Upstream, UpstreamPool
from gateway.observability import labels
from gateway.observability.exposition import MetricsEndpoint
from gateway.observability.finetune import FinetuneCollector
from gateway.observability.http import RequestMetricsMiddleware
from gateway.observability.metrics import (
    ADAPTERS_RESIDENT,
    BREAKER_STATE,
    DEGRADATION_MODE,
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
        app.add_route(METRICS_PATH, MetricsEndpoint(collectors).handle, methods=["GET"])
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
            UPSTREAM_UP.labels(upstream.url).set(1 if upstream.healthy else 0)
            BREAKER_STATE.labels(upstream.url).set(self.breaker_state(upstream))
            ADAPTERS_RESIDENT.labels(upstream.url).set(len(upstream.loaded_adapters))
        for name, state in self.other_breakers():
            BREAKER_STATE.labels(name).set(state)

    async def _sample_forever(self) -> None:
        while True:
            await asyncio.sleep(self.settings.health_interval_s)
            try:
                self.sample()
            except Exception as exc:  # never let a metrics bug stop the sampling
                log.warning("metrics sampling failed: %r", exc)
