"""An OpenAI-compatible stand-in on 127.0.0.1 whose failures a test switches on and off.

It answers ``/health``, ``/v1/models``, the runtime LoRA load route and both completion
routes (whole or streamed), and records every completion request it got.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from typing import Any

import orjson
from aiohttp import web

from gateway.fleet.upstream import hashed_name
from tests.helpers import free_port


@dataclass
class Seen:
    """One completion request as the stand-in received it."""

    model: str
    authorization: str | None
    stream: bool


def _set_event() -> asyncio.Event:
    event = asyncio.Event()
    event.set()
    return event


@dataclass
class FakeUpstream:
    """``failing``: answer completions with 500; ``break_stream``: send one event, then drop
    the connection; ``answer`` cleared: completions wait until it is set again.
    ``stop()``/``start()`` take it off the network and back (same port)."""

    name: str
    models: list[str] = field(default_factory=lambda: ["base"])
    failing: bool = False
    break_stream: bool = False
    seen: list[Seen] = field(default_factory=list)
    answer: asyncio.Event = field(default_factory=_set_event)
    port: int = field(default_factory=free_port)
    _runner: web.AppRunner | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def public_name(self) -> str:
        """The name the gateway shows for it (never its URL)."""
        return hashed_name(self.url)

    async def start(self) -> None:
        app = web.Application()
        app.router.add_get("/health", self._health)
        app.router.add_get("/v1/models", self._models)
        app.router.add_post("/v1/load_lora_adapter", self._load)
        app.router.add_post("/v1/chat/completions", self._complete)
        app.router.add_post("/v1/completions", self._complete)
        self._runner = web.AppRunner(app)
        await self._runner.setup()
        await web.TCPSite(self._runner, "127.0.0.1", self.port).start()

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def _health(self, _: web.Request) -> web.Response:
        return web.Response(text="")

    async def _models(self, _: web.Request) -> web.Response:
        data = [{"id": name, "object": "model", "parent": None} for name in self.models]
        return web.json_response({"object": "list", "data": data})

    async def _load(self, _: web.Request) -> web.Response:
        return web.Response(text="ok")

    async def _complete(self, request: web.Request) -> web.StreamResponse:
        body: dict[str, Any] = orjson.loads(await request.read())
        stream = body.get("stream") is True
        self.seen.append(Seen(body["model"], request.headers.get("authorization"), stream))
        await self.answer.wait()
        if self.failing:
            error = {"error": {"message": "engine exploded", "type": "InternalServerError"}}
            return web.json_response(error, status=500)
        if stream:
            return await self._stream(request, body["model"])
        message = {"role": "assistant", "content": f"from {self.name}"}
        return web.json_response(
            {
                "id": "chatcmpl-1",
                "object": "chat.completion",
                "model": body["model"],
                "choices": [{"index": 0, "message": message, "finish_reason": "stop"}],
                "usage": {"prompt_tokens": 1, "completion_tokens": 1, "total_tokens": 2},
            }
        )

    async def _stream(self, request: web.Request, model: str) -> web.StreamResponse:
        response = web.StreamResponse(headers={"content-type": "text/event-stream"})
        await response.prepare(request)
        delta = {"choices": [{"index": 0, "delta": {"content": f"from {self.name}"}}]}
        await response.write(b"data: " + orjson.dumps({"model": model, **delta}) + b"\n\n")
        if self.break_stream:
            await asyncio.sleep(0.05)
            assert request.transport is not None
            request.transport.close()
            return response
        await response.write(b"data: [DONE]\n\n")
        await response.write_eof()
        return response
