"""Per-request metrics of the completion endpoints, taken as pure ASGI around the app.

The middleware sees the response status and every body chunk as it is sent, so it times
the first chunk and the gaps between chunks without parsing them, and finds the token
usage in the last chunk's bytes. The serving code names the resolved model once with
:func:`note_model`; requests refused before that are labelled ``model="unknown"``.
"""

from __future__ import annotations

import time
from collections.abc import Iterable

from starlette.requests import Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from adapters.record import AdapterRecord
from gateway.observability import labels
from gateway.observability.metrics import (
    COMPLETION_TOKENS,
    IN_FLIGHT,
    ITL_SECONDS,
    NO_ADAPTER,
    PROMPT_TOKENS,
    REQUEST_SECONDS,
    REQUESTS,
    STREAM_CHUNKS,
    TTFT_SECONDS,
    UNKNOWN,
)
from gateway.observability.recent import remember
from gateway.observability.usage import find_usage

ENDPOINT_PATHS = {"/v1/chat/completions": "chat", "/v1/completions": "completions"}
LABELS_KEY = "metrics_model"
EVENT_STREAM = b"text/event-stream"
DONE = b"data: [DONE]"


def note_model(request: Request, model: str, adapter: AdapterRecord | None) -> None:
    """Tell the metrics which base model (and adapter) the request was resolved to."""
    if adapter is None:
        request.state.metrics_model = (model, None)
    else:
        request.state.metrics_model = (adapter.base_model, adapter.name)


class _Exchange:
    """What the middleware saw of one request and its response."""

    __slots__ = (
        "chunks",
        "complete",
        "failed",
        "first_at",
        "last_at",
        "prev",
        "status",
        "stream",
        "tail",
    )

    def __init__(self) -> None:
        self.status: int | None = None
        self.stream = False
        self.complete = False
        self.failed = False
        self.chunks = 0
        self.first_at = 0.0
        self.last_at = 0.0
        self.prev = b""
        self.tail = b""

    def saw(self, message: Message) -> None:
        if message["type"] == "http.response.start":
            self.status = message["status"]
            self.stream = _is_event_stream(message.get("headers", ()))
            return
        body: bytes = message.get("body", b"")
        if body:
            now = time.perf_counter()
            if not self.chunks:
                self.first_at = now
            self.last_at = now
            self.chunks += 1
            self.prev, self.tail = self.tail, body
        if not message.get("more_body", False):
            self.complete = True

    def last_bytes(self) -> bytes:
        """The last chunk (a stream's last two: ``[DONE]`` may come apart from the usage)."""
        return self.prev + self.tail if self.stream else self.tail

    def status_label(self, last_bytes: bytes) -> str:
        if self.failed:
            return "500"
        if not self.complete:  # the client went away before the end
            return "499"
        if self.stream and self.status == 200 and DONE not in last_bytes:
            return "interrupted"
        return str(self.status)


def _is_event_stream(headers: Iterable[tuple[bytes, bytes]]) -> bool:
    return any(name == b"content-type" and EVENT_STREAM in value for name, value in headers)


class RequestMetricsMiddleware:
    """Counts, times and measures the tokens of ``/v1/chat/completions`` and ``/v1/completions``."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        endpoint = ENDPOINT_PATHS.get(scope["path"]) if scope["type"] == "http" else None
        if endpoint is None:
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        exchange = _Exchange()

        async def observed_send(message: Message) -> None:
            exchange.saw(message)
            await send(message)

        IN_FLIGHT.inc()
        try:
            await self.app(scope, receive, observed_send)
        except Exception:
            exchange.failed = True
            raise
        finally:
            IN_FLIGHT.dec()
            _record(endpoint, scope.get("state", {}), exchange, started)


def _record(endpoint: str, state: dict[str, object], exchange: _Exchange, started: float) -> None:
    model, adapter = _labels(state)
    traffic = (endpoint, model, adapter)
    last_bytes = exchange.last_bytes()
    status = exchange.status_label(last_bytes)
    REQUESTS.labels(*traffic, status).inc()
    elapsed = time.perf_counter() - started
    REQUEST_SECONDS.labels(*traffic, "true" if exchange.stream else "false").observe(elapsed)
    remember(endpoint, model, adapter, status, elapsed)
    if exchange.stream and exchange.chunks:
        TTFT_SECONDS.labels(*traffic).observe(exchange.first_at - started)
        STREAM_CHUNKS.labels(*traffic).inc(exchange.chunks)
        if exchange.chunks > 1:
            gap = (exchange.last_at - exchange.first_at) / (exchange.chunks - 1)
            ITL_SECONDS.labels(*traffic).observe(gap)
    if exchange.status == 200:
        usage = find_usage(last_bytes)
        if usage is not None:
            PROMPT_TOKENS.labels(*traffic).inc(usage[0])
            COMPLETION_TOKENS.labels(*traffic).inc(usage[1])


def _labels(state: dict[str, object]) -> tuple[str, str]:
    noted = state.get(LABELS_KEY)
    if not isinstance(noted, tuple):
        return UNKNOWN, NO_ADAPTER
    model, adapter = noted
    budget = labels.budget()
    return budget.models(str(model)), budget.adapters(adapter) if adapter else NO_ADAPTER
