"""The last completion requests this gateway process served, for ``GET /admin/summary``.

The request metrics middleware appends one small tuple per completion request (a bounded
deque: no lock, no I/O); the summary is computed only when an admin asks. It is this
process's view: with several workers each keeps its own, and Prometheus has the sum.
"""

from __future__ import annotations

import os
import time
from collections import Counter, deque
from typing import Any, NamedTuple

from gateway.observability.metrics import NO_ADAPTER

KEPT = 2000
SHOWN_ERRORS = 20


class Served(NamedTuple):
    at: float  # unix time
    endpoint: str
    model: str
    adapter: str
    status: str
    seconds: float


RECENT: deque[Served] = deque(maxlen=KEPT)


def remember(endpoint: str, model: str, adapter: str, status: str, seconds: float) -> None:
    RECENT.append(Served(time.time(), endpoint, model, adapter, status, seconds))


def is_error(status: str) -> bool:
    return not status.isdigit() or int(status) >= 400


def summary(window_s: float, recent: deque[Served] = RECENT) -> dict[str, Any]:
    """Counts by status and model over the last ``window_s`` and the latest errors."""
    since = time.time() - window_s
    served = [s for s in list(recent) if s.at >= since]
    errors = [s for s in served if is_error(s.status)]
    latencies = sorted(s.seconds for s in served if not is_error(s.status))
    p50 = latencies[len(latencies) // 2] if latencies else None
    return {
        "object": "gateway.summary",
        "process": os.getpid(),
        "window_s": window_s,
        "requests": len(served),
        "errors": len(errors),
        "by_status": dict(Counter(s.status for s in served)),
        "by_model": dict(Counter(_model_of(s) for s in served)),
        "p50_seconds": p50,
        "recent_errors": [_row(s) for s in reversed(errors[-SHOWN_ERRORS:])],
        "recent_requests": [_row(s) for s in reversed(served[-SHOWN_ERRORS:])],
    }


def _model_of(served: Served) -> str:
    return served.adapter if served.adapter != NO_ADAPTER else served.model


def _row(served: Served) -> dict[str, Any]:
    return {
        "created_at": int(served.at),
        "endpoint": served.endpoint,
        "model": served.model,
        "adapter": None if served.adapter == NO_ADAPTER else served.adapter,
        "status": served.status,
        "seconds": round(served.seconds, 4),
    }
