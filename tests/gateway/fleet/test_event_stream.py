"""EventStream on its own: it relays every chunk, and stops relaying (closing the upstream's
iterator) when the client disconnects, without a task group per stream."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

from starlette.types import Message

from gateway.fleet.event_stream import EventStream

SCOPE = {"type": "http", "method": "POST", "path": "/v1/chat/completions", "headers": []}


class Upstream:
    """Chunks every ``gap_s``; records whether it was closed before its end."""

    def __init__(self, chunks: int, gap_s: float) -> None:
        self.chunks = chunks
        self.gap_s = gap_s
        self.sent = 0
        self.closed_early = False

    async def relay(self) -> AsyncIterator[bytes]:
        try:
            for i in range(self.chunks):
                await asyncio.sleep(self.gap_s)
                self.sent += 1
                yield b"data: %d\n\n" % i
        except asyncio.CancelledError:
            self.closed_early = True
            raise


class Client:
    """uvicorn's side: ``receive`` waits until the client leaves or the response is done."""

    def __init__(self, leave_after_s: float | None) -> None:
        self.leave_after_s = leave_after_s
        self.messages: list[Message] = []
        self.complete = asyncio.Event()

    async def receive(self) -> Message:
        if self.leave_after_s is None:
            await self.complete.wait()
        else:
            done = asyncio.ensure_future(self.complete.wait())
            await asyncio.wait([done], timeout=self.leave_after_s)
            done.cancel()
        return {"type": "http.disconnect"}

    async def send(self, message: Message) -> None:
        self.messages.append(message)
        if message["type"] == "http.response.body" and not message.get("more_body", False):
            self.complete.set()

    def bodies(self) -> list[bytes]:
        return [m["body"] for m in self.messages if m["type"] == "http.response.body"]


def test_a_complete_stream_is_relayed_chunk_by_chunk() -> None:
    upstream, client = Upstream(chunks=5, gap_s=0.001), Client(leave_after_s=None)

    async def main() -> None:
        response = EventStream(upstream.relay(), media_type="text/event-stream")
        await response(SCOPE, client.receive, client.send)
        await asyncio.sleep(0.01)  # the listener's disconnect after the end must not matter

    asyncio.run(main())
    assert client.messages[0]["type"] == "http.response.start"
    assert client.bodies() == [b"data: %d\n\n" % i for i in range(5)] + [b""]
    assert not upstream.closed_early


def test_a_client_that_leaves_stops_the_relay_and_closes_the_upstream() -> None:
    upstream, client = Upstream(chunks=1000, gap_s=0.005), Client(leave_after_s=0.05)

    async def main() -> float:
        response = EventStream(upstream.relay(), media_type="text/event-stream")
        started = asyncio.get_running_loop().time()
        await response(SCOPE, client.receive, client.send)
        return asyncio.get_running_loop().time() - started

    took_s = asyncio.run(main())
    assert upstream.closed_early
    assert took_s < 1.0
    assert 0 < upstream.sent < 100
    assert client.bodies()[-1] != b""  # no end of stream was sent to a client that left


def test_an_outside_cancellation_still_propagates() -> None:
    upstream, client = Upstream(chunks=1000, gap_s=0.005), Client(leave_after_s=None)

    async def main() -> bool:
        response = EventStream(upstream.relay(), media_type="text/event-stream")
        task = asyncio.ensure_future(response(SCOPE, client.receive, client.send))
        await asyncio.sleep(0.03)
        task.cancel()
        try:
            await task
        except asyncio.CancelledError:
            return True
        return False

    assert asyncio.run(main())
    assert upstream.closed_early
