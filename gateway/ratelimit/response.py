"""Ties an :class:`Admission` to the response it let through: headers on, settle at the end."""

from __future__ import annotations

from collections.abc import AsyncIterable, AsyncIterator

from starlette.responses import Response, StreamingResponse

from gateway.observability.usage import find_usage
from gateway.ratelimit.limiter import Admission


def settle_when_done(response: Response, admission: Admission) -> Response:
    """Add the caller's ``x-ratelimit-*`` headers; settle when the last byte is sent."""
    if admission.headers:
        response.headers.update(admission.headers)
    if isinstance(response, StreamingResponse):
        response.body_iterator = _settling(response.body_iterator, admission)
    else:
        admission.release(_total(bytes(response.body)))
    return response


async def _settling(
    chunks: AsyncIterable[str | bytes | memoryview], admission: Admission
) -> AsyncIterator[str | bytes | memoryview]:
    prev = tail = b""
    try:
        async for chunk in chunks:
            if isinstance(chunk, bytes):
                prev, tail = tail, chunk
            yield chunk
    finally:
        admission.release(_total(prev + tail))


def _total(data: bytes) -> int | None:
    usage = find_usage(data)
    return None if usage is None else usage[0] + usage[1]
