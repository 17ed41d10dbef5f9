"""This worker's requests at each engine, counted until their last byte is sent.

The routing policy reads the counts (current, unlike the engine's own numbers, which are up
to one poll old), and the adapters with requests in flight at an engine count as occupying
its LoRA slots.
"""

from __future__ import annotations

from collections.abc import AsyncIterable, AsyncIterator

from starlette.responses import Response, StreamingResponse

from gateway.fleet.upstream import Upstream


class InFlight:
    """One request at one engine; :meth:`end` (once) when it is over."""

    __slots__ = ("adapter", "ended", "upstream")

    def __init__(self, upstream: Upstream, adapter: str | None) -> None:
        self.upstream = upstream
        self.adapter = adapter
        self.ended = False
        upstream.in_flight += 1
        if adapter is not None:
            upstream.in_flight_by_adapter[adapter] += 1

    def end(self) -> None:
        if self.ended:
            return
        self.ended = True
        upstream = self.upstream
        upstream.in_flight -= 1
        if self.adapter is not None:
            left = upstream.in_flight_by_adapter[self.adapter] - 1
            if left > 0:
                upstream.in_flight_by_adapter[self.adapter] = left
            else:
                del upstream.in_flight_by_adapter[self.adapter]

    def until_sent(self, response: Response) -> Response:
        """End now for a whole answer; at the stream's end for a streamed one."""
        if isinstance(response, StreamingResponse):
            response.body_iterator = self._relay(response.body_iterator)
        else:
            self.end()
        return response

    async def _relay(
        self, chunks: AsyncIterable[str | bytes | memoryview]
    ) -> AsyncIterator[str | bytes | memoryview]:
        try:
            async for chunk in chunks:
                yield chunk
        finally:
            self.end()
