"""The streamed answer of a completion: Server-Sent Events relayed chunk by chunk.

Starlette's :class:`~starlette.responses.StreamingResponse` notices a client that goes away
by running a second task under an anyio task group for every stream (uvicorn speaks ASGI
2.3, and its ``send`` to a closed connection returns quietly). That group costs the one
gateway process more CPU per request than the rest of the relay, and the gateway sits on
the hot path of every token. :class:`EventStream` gets the same behaviour from one plain
future: a waiting ``receive()`` whose completion cancels the relaying task, so the upstream
connection is closed (vLLM then aborts the request) at the next chunk or while waiting for it.
"""

from __future__ import annotations

import asyncio

from starlette.responses import StreamingResponse
from starlette.types import Message, Receive, Scope, Send


class EventStream(StreamingResponse):
    """A ``text/event-stream`` response that stops relaying when the client disconnects."""

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        relaying = asyncio.current_task()
        if scope["type"] != "http" or relaying is None:
            await super().__call__(scope, receive, send)
            return
        watch = _DisconnectWatch(relaying)
        listener = asyncio.ensure_future(_until_disconnect(receive))
        listener.add_done_callback(watch.on_listener_done)
        try:
            await self._relay(send, watch)
        except asyncio.CancelledError:
            if not watch.client_left:
                raise
            relaying.uncancel()  # our own cancellation: the client is gone, nothing to send
        finally:
            listener.remove_done_callback(watch.on_listener_done)
            listener.cancel()
        if self.background is not None and not watch.client_left:
            await self.background()

    async def _relay(self, send: Send, watch: _DisconnectWatch) -> None:
        await send(
            {"type": "http.response.start", "status": self.status_code, "headers": self.raw_headers}
        )
        async for chunk in self.body_iterator:
            data = chunk if isinstance(chunk, bytes | memoryview) else chunk.encode(self.charset)
            await send({"type": "http.response.body", "body": data, "more_body": True})
        watch.finished = True  # from here uvicorn's receive() reports the end as a disconnect
        await send({"type": "http.response.body", "body": b"", "more_body": False})


class _DisconnectWatch:
    """Cancels the relaying task when the client leaves before the answer is complete."""

    __slots__ = ("client_left", "finished", "relaying")

    def __init__(self, relaying: asyncio.Task[object]) -> None:
        self.relaying = relaying
        self.client_left = False
        self.finished = False

    def on_listener_done(self, listener: asyncio.Future[Message]) -> None:
        if listener.cancelled() or listener.exception() is not None or self.finished:
            return
        self.client_left = True
        self.relaying.cancel()


async def _until_disconnect(receive: Receive) -> Message:
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            return message
