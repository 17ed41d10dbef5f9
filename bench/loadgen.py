"""An efficient closed-loop HTTP/1.1 load generator for the gateway benchmarks.

Each concurrent worker owns one keep-alive connection (raw asyncio protocol, httptools
response parser, uvloop when available) and sends the same POST body over and over,
one request at a time, until the request count or the time limit is reached. Works for
plain (Content-Length) and streamed (chunked SSE) replies.

    python bench/loadgen.py http://127.0.0.1:9001/v1/chat/completions -c 32 -n 2000 --stream
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import time
from collections import Counter
from collections.abc import Callable, Coroutine
from dataclasses import asdict, dataclass, field
from typing import Any, TypeVar, cast
from urllib.parse import urlsplit

import httptools

T = TypeVar("T")

DONE_TAIL = b"data: [DONE]\n\n"
CHAT_REQUEST: dict[str, Any] = {
    "model": "stub-model",
    "messages": [{"role": "user", "content": "Say hello"}],
    "max_tokens": 16,
}
STREAM_EXTRA: dict[str, Any] = {"stream": True, "stream_options": {"include_usage": True}}
REQUEST_GRACE_S = 10.0


@dataclass(frozen=True)
class LoadResult:
    """What one load run measured. Latencies cover successful requests only."""

    count: int
    errors: int
    wall_s: float
    rps: float
    p50_ms: float
    p99_ms: float
    ttfc_p50_ms: float
    ttfc_p99_ms: float
    error_kinds: dict[str, int] = field(default_factory=dict)
    warmup_errors: int = 0

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class Target:
    host: str
    port: int
    request: bytes


@dataclass
class _Tally:
    """Shared by the workers of one run: tickets handed out and what came back."""

    remaining: int
    deadline: float
    latencies: list[float] = field(default_factory=list)
    ttfcs: list[float] = field(default_factory=list)
    errors: Counter[str] = field(default_factory=Counter)

    def take(self, now: float) -> bool:
        if self.remaining <= 0 or now >= self.deadline:
            return False
        self.remaining -= 1
        return True


def chat_body(stream: bool, model: str = "stub-model") -> bytes:
    """The benchmark's small chat request, compact JSON."""
    request = {**CHAT_REQUEST, "model": model, **(STREAM_EXTRA if stream else {})}
    return json.dumps(request, separators=(",", ":")).encode()


def build_target(url: str, body: bytes, headers: dict[str, str] | None = None) -> Target:
    """Parses an http:// URL and renders the one request every worker will send."""
    parts = urlsplit(url)
    if parts.scheme != "http" or not parts.hostname:
        raise ValueError(f"only http://host[:port]/path URLs are supported, not {url!r}")
    port = parts.port or 80
    path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    lines = [
        f"POST {path} HTTP/1.1",
        f"Host: {parts.hostname}:{port}",
        "Content-Type: application/json",
        "Accept: */*",
        f"Content-Length: {len(body)}",
        *(f"{name}: {value}" for name, value in (headers or {}).items()),
    ]
    head = ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")
    return Target(parts.hostname, port, head + body)


class _Exchange(asyncio.Protocol):
    """One keep-alive client connection that carries one request at a time."""

    def __init__(self, stream: bool) -> None:
        self._stream = stream
        self._parser = httptools.HttpResponseParser(self)
        self._transport: asyncio.Transport | None = None
        self._done: asyncio.Future[str | None] | None = None
        self._status = 0
        self._first = 0.0
        self._tail = b""
        self.keep_alive = True

    @property
    def usable(self) -> bool:
        return self._transport is not None and self.keep_alive

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self._transport = cast(asyncio.Transport, transport)  # uvloop's is not a subclass

    def connection_lost(self, exc: Exception | None) -> None:
        self._transport = None
        self._finish(f"connection lost: {type(exc).__name__ if exc else 'closed by peer'}")

    def data_received(self, data: bytes) -> None:
        try:
            self._parser.feed_data(data)
        except httptools.HttpParserError as exc:
            self.keep_alive = False
            self._finish(f"bad response: {type(exc).__name__}")
            self.close()

    def on_headers_complete(self) -> None:
        self._status = self._parser.get_status_code()

    def on_body(self, body: bytes) -> None:
        if not self._stream:
            if not self._first:
                self._first = time.perf_counter()
            return
        if not self._first and b"data:" in body:
            self._first = time.perf_counter()
        self._tail = (self._tail + body)[-len(DONE_TAIL) :]

    def on_message_complete(self) -> None:
        self.keep_alive = self._parser.should_keep_alive()
        if not 200 <= self._status < 300:
            self._finish(f"HTTP {self._status}")
        elif self._stream and self._tail != DONE_TAIL:
            self._finish("stream did not end with data: [DONE]")
        else:
            self._finish(None)

    def _finish(self, error: str | None) -> None:
        done = self._done
        if done is not None and not done.done():
            done.set_result(error)
        self._done = None

    async def send(self, request: bytes) -> tuple[str | None, float]:
        """Sends one request; returns (error or None, time of the first body bytes)."""
        if self._transport is None:
            return "connection closed", 0.0
        self._status, self._first, self._tail = 0, 0.0, b""
        self._done = asyncio.get_running_loop().create_future()
        self._transport.write(request)
        error = await self._done
        return error, (self._first or time.perf_counter())

    def close(self) -> None:
        if self._transport is not None:
            self._transport.close()


async def _connect(target: Target, stream: bool) -> _Exchange:
    loop = asyncio.get_running_loop()
    _, conn = await loop.create_connection(lambda: _Exchange(stream), target.host, target.port)
    return conn


async def _open_all(target: Target, stream: bool, count: int) -> list[_Exchange | None]:
    """Connects every worker up front; a failed one retries (and is counted) in its worker."""
    opened = await asyncio.gather(
        *(_connect(target, stream) for _ in range(count)), return_exceptions=True
    )
    return [conn if isinstance(conn, _Exchange) else None for conn in opened]


async def _worker(
    target: Target, stream: bool, tally: _Tally, conns: list[_Exchange | None], slot: int
) -> None:
    """Sends requests one after another on connection `conns[slot]`, reconnecting as needed."""
    loop = asyncio.get_running_loop()
    try:
        while tally.take(loop.time()):
            started = time.perf_counter()
            try:
                conn = conns[slot]
                if conn is None or not conn.usable:
                    conn = conns[slot] = await _connect(target, stream)
                error, first = await conn.send(target.request)
            except OSError as exc:
                error, first = f"connect failed: {type(exc).__name__}", 0.0
                await asyncio.sleep(0.01)
            if error is None:
                tally.latencies.append(time.perf_counter() - started)
                tally.ttfcs.append(first - started)
            else:
                tally.errors[error] += 1
    except asyncio.CancelledError:
        _close(conns, slot)  # a reply may still be on its way: never reuse this connection
        raise


def _close(conns: list[_Exchange | None], slot: int) -> None:
    conn = conns[slot]
    if conn is not None:
        conn.close()
    conns[slot] = None


async def _phase(
    target: Target, stream: bool, conns: list[_Exchange | None], requests: int, max_s: float
) -> tuple[_Tally, float]:
    """One closed-loop run over the open connections; returns the tally and wall seconds."""
    loop = asyncio.get_running_loop()
    tally = _Tally(remaining=requests, deadline=loop.time() + max_s)
    started = time.perf_counter()
    workers = [
        asyncio.create_task(_worker(target, stream, tally, conns, slot))
        for slot in range(len(conns))
    ]
    _, late = await asyncio.wait(workers, timeout=max_s + REQUEST_GRACE_S)
    for task in late:
        task.cancel()
    await asyncio.gather(*late, return_exceptions=True)
    if late:
        tally.errors["timed out"] += len(late)
    return tally, time.perf_counter() - started


def percentile_ms(values: list[float], q: float) -> float:
    """Nearest-rank percentile of seconds, in milliseconds; 0 for no values."""
    if not values:
        return 0.0
    ordered = sorted(values)
    rank = min(len(ordered) - 1, max(0, round(q * len(ordered) + 0.5) - 1))
    return ordered[rank] * 1000.0


def _summarize(tally: _Tally, wall: float, warmup_errors: int) -> LoadResult:
    ok = len(tally.latencies)
    errors = sum(tally.errors.values())
    return LoadResult(
        count=ok + errors,
        errors=errors,
        wall_s=wall,
        rps=ok / wall if wall > 0 else 0.0,
        p50_ms=percentile_ms(tally.latencies, 0.50),
        p99_ms=percentile_ms(tally.latencies, 0.99),
        ttfc_p50_ms=percentile_ms(tally.ttfcs, 0.50),
        ttfc_p99_ms=percentile_ms(tally.ttfcs, 0.99),
        error_kinds=dict(tally.errors),
        warmup_errors=warmup_errors,
    )


async def run_load(
    url: str,
    body: bytes,
    *,
    concurrency: int,
    requests: int,
    stream: bool,
    warmup: int = 0,
    max_duration_s: float = 120.0,
    headers: dict[str, str] | None = None,
    before_measure: Callable[[], object] | None = None,
) -> LoadResult:
    """Sends `requests` POSTs of `body` with `concurrency` workers, or as many as fit in
    `max_duration_s`; requests still running `REQUEST_GRACE_S` after that count as errors.

    The connections are opened first and warmed with `warmup` requests (not measured), so
    the measured requests all go over established keep-alive connections. `before_measure`
    is called between the warm-up and the measured run."""
    if concurrency < 1 or requests < 1 or warmup < 0:
        raise ValueError("concurrency and requests must be at least 1, warmup at least 0")
    target = build_target(url, body, headers)
    conns = await _open_all(target, stream, min(concurrency, requests))
    try:
        warmup_errors = 0
        if warmup:
            warm, _ = await _phase(target, stream, conns, warmup, max_duration_s)
            warmup_errors = sum(warm.errors.values())
        if before_measure is not None:
            before_measure()
        tally, wall = await _phase(target, stream, conns, requests, max_duration_s)
    finally:
        for slot in range(len(conns)):
            _close(conns, slot)
    return _summarize(tally, wall, warmup_errors)


def run_fast(main: Coroutine[Any, Any, T]) -> T:
    """Runs a coroutine on uvloop when it is installed, else on the default loop."""
    factory: Callable[[], asyncio.AbstractEventLoop] | None = None
    try:
        import uvloop

        factory = uvloop.new_event_loop
    except ImportError:
        pass
    with asyncio.Runner(loop_factory=factory) as runner:
        return runner.run(main)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Closed-loop HTTP/1.1 POST load generator.")
    parser.add_argument("url")
    parser.add_argument("-c", "--concurrency", type=int, default=32)
    parser.add_argument("-n", "--requests", type=int, default=2000)
    parser.add_argument("--stream", action="store_true", help="expect chunked SSE replies")
    parser.add_argument("--body", help="request body (default: a small chat request)")
    parser.add_argument("--warmup", type=int, default=0, help="unmeasured requests first")
    parser.add_argument("--max-duration", type=float, default=120.0)
    args = parser.parse_args(argv)
    body = args.body.encode() if args.body else chat_body(args.stream)
    result = run_fast(
        run_load(
            args.url,
            body,
            concurrency=args.concurrency,
            requests=args.requests,
            stream=args.stream,
            warmup=args.warmup,
            max_duration_s=args.max_duration,
        )
    )
    print(json.dumps(result.as_dict(), indent=2))
    return 0 if result.errors == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
