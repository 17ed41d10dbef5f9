"""A minimal, fast OpenAI-compatible upstream stand-in for the gateway benchmarks.

It answers instantly with canned completions so that the cost measured through the
gateway is the gateway's own, not an engine's. One process, raw asyncio protocol,
httptools request parser, keep-alive, uvloop when available. Listens on 127.0.0.1 only.

    python bench/stub_upstream.py --port 9001 [--chunks 16] [--interval-ms 0]
        [--extra-ports N] [--metrics-page FILE] [--adapters-per-port K]

A fleet stand-in: ``--extra-ports N`` also listens on the N ports after ``--port``, each an
"engine" whose ``/metrics`` is the page in ``--metrics-page`` (a real vLLM page) and whose
``/v1/models`` lists ``--adapters-per-port`` adapters of its own besides the base model.
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import signal
import sys
import time
from collections.abc import Callable, Coroutine
from dataclasses import dataclass
from pathlib import Path
from typing import Any, cast

import httptools
import orjson
from fleet_setup import fleet_models

JsonDict = dict[str, Any]

MODELS_BODY = orjson.dumps(
    {
        "object": "list",
        "data": [
            {
                "id": "stub-model",
                "object": "model",
                "created": 0,
                "owned_by": "stub",
                "root": "stub-model",
                "parent": None,
                "max_model_len": 2048,
            }
        ],
    }
)
WORDS = ("Hello", "!", " How", " can", " I", " help", " you", " today", "?", " I", " am", " a")
ID_DIGITS = 24
ID_PLACEHOLDER = b"#" * ID_DIGITS
TEMPLATE_CACHE_MAX = 256
STREAM_HEAD = (
    b"HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\ncache-control: no-cache\r\n"
    b"transfer-encoding: chunked\r\n"
)
REASONS = {200: b"OK", 400: b"Bad Request", 404: b"Not Found", 405: b"Method Not Allowed"}
CHUNKED_END = b"0\r\n\r\n"


@dataclass(frozen=True)
class StubConfig:
    chunks: int = 16
    interval_s: float = 0.0
    metrics_page: bytes = b""
    models_body: bytes = MODELS_BODY


@dataclass(frozen=True)
class Completion:
    """What one request asked for, reduced to what the stub needs."""

    chat: bool
    model: str
    tokens: int
    prompt_tokens: int
    stream: bool
    include_usage: bool


@dataclass(frozen=True)
class Reply:
    """A whole (non-streamed) reply."""

    status: int
    body: bytes
    content_type: bytes = b"application/json"


_ids = itertools.count(1)
_templates: dict[tuple[bool, str, int, bool], list[bytes]] = {}


def sse_frame(payload: bytes) -> bytes:
    """One SSE event as one HTTP chunk."""
    event = b"data: " + payload + b"\n\n"
    return b"%x\r\n%b\r\n" % (len(event), event)


def token_text(i: int) -> str:
    return WORDS[i % len(WORDS)]


def object_name(chat: bool, stream: bool) -> str:
    if not chat:
        return "text_completion"
    return "chat.completion.chunk" if stream else "chat.completion"


def id_prefix(chat: bool) -> str:
    return "chatcmpl-" if chat else "cmpl-"


def usage(c: Completion) -> JsonDict:
    total = c.prompt_tokens + c.tokens
    return {"prompt_tokens": c.prompt_tokens, "total_tokens": total, "completion_tokens": c.tokens}


def stream_choice(c: Completion, i: int) -> JsonDict:
    last = i == c.tokens - 1
    choice: JsonDict = {"index": 0}
    if c.chat:
        delta: JsonDict = {"content": token_text(i)}
        if i == 0:
            delta = {"role": "assistant", **delta}
        choice["delta"] = delta
    else:
        choice["text"] = token_text(i)
    choice.update(logprobs=None, finish_reason="length" if last else None)
    choice["stop_reason"] = None
    return choice


def stream_templates(c: Completion) -> list[bytes]:
    """Framed token events with a placeholder id, built once per distinct request shape."""
    key = (c.chat, c.model, c.tokens, c.include_usage)
    frames = _templates.get(key)
    if frames is not None:
        return frames
    if len(_templates) >= TEMPLATE_CACHE_MAX:
        _templates.clear()
    head: JsonDict = {
        "id": id_prefix(c.chat) + ID_PLACEHOLDER.decode(),
        "object": object_name(c.chat, stream=True),
        "created": int(time.time()),
        "model": c.model,
    }
    frames = []
    for i in range(c.tokens):
        event: JsonDict = {**head, "choices": [stream_choice(c, i)]}
        if c.include_usage:
            event["usage"] = None
        frames.append(sse_frame(orjson.dumps(event)))
    _templates[key] = frames
    return frames


def usage_frame(c: Completion, rid: bytes) -> bytes:
    event = {
        "id": id_prefix(c.chat) + rid.decode(),
        "object": object_name(c.chat, stream=True),
        "created": int(time.time()),
        "model": c.model,
        "choices": [],
        "usage": usage(c),
    }
    return sse_frame(orjson.dumps(event))


def stream_frames(c: Completion) -> list[bytes]:
    """Every chunk of the streamed reply body, in order, ending with the chunked terminator."""
    rid = b"%0*x" % (ID_DIGITS, next(_ids))
    frames = [frame.replace(ID_PLACEHOLDER, rid) for frame in stream_templates(c)]
    if c.include_usage:
        frames.append(usage_frame(c, rid))
    frames.append(sse_frame(b"[DONE]"))
    frames.append(CHUNKED_END)
    return frames


def completion_body(c: Completion) -> bytes:
    text = "".join(token_text(i) for i in range(c.tokens))
    choice: JsonDict = {"index": 0}
    if c.chat:
        choice["message"] = {"role": "assistant", "content": text, "tool_calls": []}
    else:
        choice["text"] = text
    choice.update(logprobs=None, finish_reason="length", stop_reason=None)
    reply = {
        "id": f"{id_prefix(c.chat)}{next(_ids):0{ID_DIGITS}x}",
        "object": object_name(c.chat, stream=False),
        "created": int(time.time()),
        "model": c.model,
        "choices": [choice],
        "usage": usage(c),
    }
    return orjson.dumps(reply)


def parse_completion(chat: bool, body: bytes, max_chunks: int) -> Completion:
    """Reads the request body; raises ValueError when it is not a JSON object."""
    req = orjson.loads(body)
    if not isinstance(req, dict):
        raise ValueError("body must be a JSON object")
    options = req.get("stream_options")
    max_tokens = req.get("max_tokens") or req.get("max_completion_tokens")
    tokens = max_chunks
    if isinstance(max_tokens, int) and max_tokens > 0:
        tokens = min(max_chunks, max_tokens)
    return Completion(
        chat=chat,
        model=str(req.get("model") or "stub-model"),
        tokens=max(tokens, 1),
        prompt_tokens=max(1, len(body) // 8),
        stream=req.get("stream") is True,
        include_usage=isinstance(options, dict) and options.get("include_usage") is True,
    )


def response(status: int, body: bytes, content_type: bytes, keep_alive: bool) -> bytes:
    head = b"HTTP/1.1 %d %b\r\ncontent-type: %b\r\ncontent-length: %d\r\n" % (
        status,
        REASONS.get(status, b"Error"),
        content_type,
        len(body),
    )
    return head + (b"\r\n" if keep_alive else b"connection: close\r\n\r\n") + body


def stream_head(keep_alive: bool) -> bytes:
    return STREAM_HEAD + (b"\r\n" if keep_alive else b"connection: close\r\n\r\n")


def error_body(message: str, code: int) -> bytes:
    error = {"message": message, "type": "invalid_request_error", "param": None, "code": code}
    return orjson.dumps({"object": "error", "error": error})


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
    parser.add_argument("--extra-ports", type=int, default=0, help="more engines, next ports")
    parser.add_argument("--metrics-page", type=Path, help="served at /metrics on every port")
    parser.add_argument("--adapters-per-port", type=int, default=0, help="in each /v1/models")
    args = parser.parse_args(argv)
    if args.chunks < 1:
        parser.error("--chunks must be at least 1")
    page = args.metrics_page.read_bytes() if args.metrics_page else b""
    configs = [
        StubConfig(
            chunks=args.chunks,
            interval_s=args.interval_ms / 1000,
            metrics_page=page,
            models_body=fleet_models(MODELS_BODY, i, args.adapters_per_port),
        )
        for i in range(args.extra_ports + 1)
    ]
    run_fast(serve(args.port, configs))
    return 0


if __name__ == "__main__":
    sys.exit(main())
