"""A minimal, fast OpenAI-compatible upstream stand-in for the gateway benchmarks.

It answers instantly with canned completions (``stub_replies.py``) so that the cost measured
through the gateway is the gateway's own, not an engine's. One process, raw asyncio protocol,
httptools request parser, keep-alive, uvloop when available. Listens on 127.0.0.1 only.

    python bench/stub_upstream.py --port 9001 [--chunks 16] [--interval-ms 0]
        [--extra-ports N] [--metrics-page FILE] [--adapters-per-port K]

``--extra-ports`` and the two after it make it a fleet of engines (``stub_fleet.py``).
"""

from __future__ import annotations

import argparse
import asyncio
import signal
import sys
from collections.abc import Callable, Coroutine
from dataclasses import dataclass
from typing import Any, cast

import httptools
import stub_fleet
from stub_replies import (
    MODELS_BODY,
    Completion,
    Reply,
    completion_body,
    error_body,
    parse_completion,
    response,
    stream_frames,
    stream_head,
)


@dataclass(frozen=True)
class StubConfig:
    chunks: int = 16
    interval_s: float = 0.0
    metrics_page: bytes = b""
    models_body: bytes = MODELS_BODY


class StubProtocol(asyncio.Protocol):
    """One client connection: parse requests with httptools, answer each in turn."""

    def __init__(self, config: StubConfig) -> None:
        self._config = config
        self._parser = httptools.HttpRequestParser(self)
        self._transport: asyncio.Transport | None = None
        self._url = b""
        self._body: list[bytes] = []
        self._pending: asyncio.Task[None] | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self._transport = cast(asyncio.Transport, transport)  # uvloop's is not a subclass

    def connection_lost(self, exc: Exception | None) -> None:
        self._transport = None
        if self._pending is not None:
            self._pending.cancel()

    def data_received(self, data: bytes) -> None:
        try:
            self._parser.feed_data(data)
        except httptools.HttpParserError:
            self._send_now(Reply(400, error_body("malformed HTTP request", 400)), keep_alive=False)

    def on_message_begin(self) -> None:
        self._url = b""
        self._body = []

    def on_url(self, url: bytes) -> None:
        self._url += url

    def on_body(self, body: bytes) -> None:
        self._body.append(body)

    def on_message_complete(self) -> None:
        keep_alive = self._parser.should_keep_alive()
        answer = self._route(self._parser.get_method(), self._url.split(b"?", 1)[0])
        paced = isinstance(answer, Completion) and self._config.interval_s > 0
        if self._pending is not None or paced:
            # Keep replies in request order behind a reply that is still being sent.
            self._pending = asyncio.get_running_loop().create_task(
                self._send_later(self._pending, answer, keep_alive)
            )
        else:
            self._send_now(answer, keep_alive)

    def _route(self, method: bytes, path: bytes) -> Completion | Reply:
        """A streamed completion to send, or a whole reply."""
        if path in (b"/v1/chat/completions", b"/v1/completions"):
            if method != b"POST":
                return Reply(405, error_body("use POST", 405))
            try:
                c = parse_completion(
                    path == b"/v1/chat/completions", b"".join(self._body), self._config.chunks
                )
            except ValueError as exc:
                return Reply(400, error_body(f"bad JSON body: {exc}", 400))
            return c if c.stream else Reply(200, completion_body(c))
        if path == b"/health" and method == b"GET":
            return Reply(200, b"", b"text/plain")
        if path == b"/v1/models" and method == b"GET":
            return Reply(200, self._config.models_body)
        if path == b"/metrics" and method == b"GET":
            return Reply(200, self._config.metrics_page, b"text/plain; version=0.0.4")
        return Reply(404, error_body(f"no route {path.decode(errors='replace')}", 404))

    def _send_now(self, answer: Completion | Reply, keep_alive: bool) -> None:
        """Sends without pausing; each streamed event goes out in its own write, as an
        engine emitting tokens would send them."""
        transport = self._transport
        if transport is None:
            return
        if isinstance(answer, Reply):
            transport.write(response(answer.status, answer.body, answer.content_type, keep_alive))
        else:
            transport.write(stream_head(keep_alive))
            for frame in stream_frames(answer):
                transport.write(frame)
        if not keep_alive:
            transport.close()

    async def _send_later(
        self, previous: asyncio.Task[None] | None, answer: Completion | Reply, keep_alive: bool
    ) -> None:
        """Sends after the previous reply on this connection, pacing streamed events."""
        try:
            if previous is not None:
                await previous
            if isinstance(answer, Completion) and self._config.interval_s > 0:
                await self._stream_paced(answer, keep_alive)
            else:
                self._send_now(answer, keep_alive)
        finally:
            if self._pending is asyncio.current_task():
                self._pending = None

    async def _stream_paced(self, c: Completion, keep_alive: bool) -> None:
        frames = [stream_head(keep_alive), *stream_frames(c)]
        for i, frame in enumerate(frames):
            if 0 < i < len(frames) - 1:
                await asyncio.sleep(self._config.interval_s)
            transport = self._transport  # re-read: the client may have gone while we slept
            if transport is None:
                return
            transport.write(frame)
        if not keep_alive and self._transport is not None:
            self._transport.close()


async def serve(port: int, configs: list[StubConfig]) -> None:
    loop = asyncio.get_running_loop()
    servers = []
    for offset, config in enumerate(configs):
        servers.append(
            await loop.create_server(
                lambda c=config: StubProtocol(c),  # type: ignore[misc]
                "127.0.0.1",
                port + offset,
                reuse_address=True,
                backlog=1024,
            )
        )
    stop = asyncio.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    chunks = configs[0].chunks
    print(f"stub upstream ready on http://127.0.0.1:{port} (chunks={chunks})", flush=True)
    await stop.wait()
    for server in servers:
        server.close()


def run_fast(main: Coroutine[Any, Any, None]) -> None:
    """Runs a coroutine on uvloop when it is installed, else on the default loop."""
    factory: Callable[[], asyncio.AbstractEventLoop] | None = None
    try:
        import uvloop

        factory = uvloop.new_event_loop
    except ImportError:
        pass
    with asyncio.Runner(loop_factory=factory) as runner:
        runner.run(main)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--port", type=int, default=9001)
    parser.add_argument("--chunks", type=int, default=16, help="token events per streamed reply")
    parser.add_argument(
        "--interval-ms", type=float, default=0.0, help="pause between streamed events"
    )
    stub_fleet.add_fleet_arguments(parser)
    args = parser.parse_args(argv)
    if args.chunks < 1:
        parser.error("--chunks must be at least 1")
    page = stub_fleet.metrics_page(args)
    configs = [
        StubConfig(args.chunks, args.interval_ms / 1000, metrics_page=page, models_body=models)
        for models in stub_fleet.models_per_port(args, MODELS_BODY)
    ]
    run_fast(serve(args.port, configs))
    return 0


if __name__ == "__main__":
    sys.exit(main())
