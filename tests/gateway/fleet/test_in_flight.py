"""This worker's requests per engine and adapter: counted until the last byte is sent."""

from __future__ import annotations

from collections.abc import AsyncIterator

from starlette.responses import Response, StreamingResponse

from gateway.fleet.in_flight import InFlight
from gateway.fleet.upstream import Upstream


async def test_counts_end_with_the_answer() -> None:
    upstream = Upstream("http://127.0.0.1:1")
    whole = InFlight(upstream, "ft:a")
    assert (upstream.in_flight, upstream.in_flight_by_adapter["ft:a"]) == (1, 1)
    assert "ft:a" in upstream.active_adapters()
    whole.until_sent(Response(b"{}"))
    assert upstream.in_flight == 0
    assert "ft:a" not in upstream.in_flight_by_adapter

    async def chunks() -> AsyncIterator[bytes]:
        yield b"data: 1\n\n"
        yield b"data: [DONE]\n\n"

    streamed = InFlight(upstream, None).until_sent(StreamingResponse(chunks()))
    assert upstream.in_flight == 1
    assert isinstance(streamed, StreamingResponse)
    sent = [chunk async for chunk in streamed.body_iterator]
    assert len(sent) == 2
    assert upstream.in_flight == 0


def test_end_counts_once() -> None:
    upstream = Upstream("http://127.0.0.1:1")
    flight = InFlight(upstream, "ft:a")
    flight.end()
    flight.end()
    assert upstream.in_flight == 0
