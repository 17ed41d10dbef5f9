"""One-line hooks the serving code calls where something worth counting happens."""

from __future__ import annotations

from gateway.observability import labels
from gateway.observability.metrics import (
    ADAPTER_LOAD_SECONDS,
    ADAPTER_LOADS,
    QUEUED,
    RATE_LIMIT_REJECTIONS,
    ROUTING_DECISIONS,
)


def record_adapter_load(adapter: str, result: str, seconds: float | None = None) -> None:
    """A runtime load of ``adapter`` ended with ``result`` ('ok' or the error's code)."""
    ADAPTER_LOADS.labels(labels.budget().adapters(adapter), result).inc()
    if seconds is not None:
        ADAPTER_LOAD_SECONDS.observe(seconds)


def record_routing_decision(kind: str) -> None:
    """The routing policy chose an engine; ``kind`` is base, affinity, spill or cold."""
    ROUTING_DECISIONS.labels(kind).inc()


def record_rate_limit_rejection(reason: str) -> None:
    """A rate limit refused a request; ``reason`` is one of a few fixed words."""
    RATE_LIMIT_REJECTIONS.labels(reason).inc()


def record_queued(delta: int) -> None:
    """A request started (+1) or stopped (-1) waiting for capacity."""
    QUEUED.inc(delta)
