"""Sending one completion request to one upstream and relaying its answer.

The client's body bytes go out unchanged (vLLM owns sampling, templates and its own
extensions); replies come back as bytes, streamed chunk by chunk without buffering. What
went wrong is sorted for the fallback chain: :class:`UpstreamFailed` when the upstream is
at fault (no connection, no answer in time, 5xx, a stream that broke before its first
byte), which counts against its circuit breaker and may go to the next upstream;
:class:`~gateway.errors.APIError` when the upstream refused the request itself (4xx).
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass

import aiohttp
import orjson
from starlette.responses import Response

from gateway.errors import APIError, engine_unavailable
from gateway.fleet.event_stream import EventStream
from gateway.fleet.pool import UpstreamPool
from gateway.fleet.upstream_errors import from_upstream
from gateway.settings import Settings

log = logging.getLogger("loragate.serving")

JSON = "application/json"
SSE_HEADERS = {"cache-control": "no-cache", "x-accel-buffering": "no"}


class UpstreamFailed(Exception):
    """The upstream failed to answer; ``error`` is what the client gets if nothing else can."""

    def __init__(self, error: APIError, *, retry: bool = True, unreachable: bool = False) -> None:
        super().__init__(error.message)
        self.error = error
        self.retry = retry
        """Whether the next upstream of the chain may be tried (not after a long timeout)."""
        self.unreachable = unreachable
        """No connection could be made: the upstream is down."""


@dataclass(frozen=True, slots=True)
class Outgoing:
    """One request as it is sent to one upstream."""

    base_url: str
    path: str
    body: bytes
    headers: dict[str, str]
    stream: bool


class Forwarder:
    """Sends requests through the pool's HTTP session."""

    def __init__(self, settings: Settings, pool: UpstreamPool) -> None:
        self.settings = settings
        self.pool = pool

    async def send(self, out: Outgoing, on_break: Callable[[], None]) -> Response:
        """The upstream's answer; ``on_break`` is called if a stream breaks after its start."""
        if out.stream:
            return await self._stream(out, on_break)
        return await self._forward(out)

    async def _forward(self, out: Outgoing) -> Response:
        try:
            async with await self._post(out) as resp:
                payload = await resp.read()
                status = resp.status
        except aiohttp.ClientError as exc:
            raise self._connection_failed(out, exc) from exc
        except TimeoutError as exc:
            raise UpstreamFailed(timed_out(self.settings.upstream_timeout_s), retry=False) from exc
        if status >= 400:
            raise _refused(status, payload)
        return Response(payload, status_code=status, media_type=JSON)

    async def _stream(self, out: Outgoing, on_break: Callable[[], None]) -> Response:
        """Start relaying once the first bytes are in: until then a failure can fall back."""
        try:
            resp = await self._post(out)
        except aiohttp.ClientError as exc:
            raise self._connection_failed(out, exc) from exc
        except TimeoutError as exc:
            raise UpstreamFailed(timed_out(self.settings.upstream_timeout_s), retry=False) from exc
        if resp.status >= 400:
            payload = await resp.read()
            resp.release()
            raise _refused(resp.status, payload)
        try:
            first = await resp.content.readany()
        except (aiohttp.ClientError, TimeoutError) as exc:
            resp.close()
            raise self._connection_failed(out, exc) from exc
        except BaseException:  # the client went away: closing makes the upstream abort
            resp.close()
            raise
        if not first:
            resp.release()
            raise UpstreamFailed(self._unavailable("its answer ended before it began"))
        return EventStream(
            relay_stream(resp, first, on_break), media_type="text/event-stream", headers=SSE_HEADERS
        )

    async def _post(self, out: Outgoing) -> aiohttp.ClientResponse:
        return await self.pool.post_to(out.base_url, out.path, out.body, out.headers)

    def _connection_failed(self, out: Outgoing, exc: BaseException) -> UpstreamFailed:
        log.warning("request to %s failed: %r", out.base_url, exc)
        unreachable = isinstance(exc, aiohttp.ClientConnectorError)
        return UpstreamFailed(self._unavailable("it did not answer"), unreachable=unreachable)

    def _unavailable(self, why: str) -> APIError:
        return engine_unavailable(self.settings.retry_after_s, why)


def _refused(status: int, payload: bytes) -> Exception:
    """A 5xx is the upstream's failure; anything else is its verdict on the request."""
    error = from_upstream(status, payload)
    return UpstreamFailed(error) if status >= 500 else error


async def relay_stream(
    resp: aiohttp.ClientResponse, first: bytes, on_break: Callable[[], None]
) -> AsyncIterator[bytes]:
    """Pass the upstream's SSE bytes through as they arrive, ``first`` already read.

    A failure after the first byte cannot be retried: the client gets an in-band error event
    and no ``[DONE]``. If the client goes away, closing the upstream connection makes vLLM
    abort the request.
    """
    finished = False
    try:
        yield first
        async for chunk in resp.content.iter_any():
            yield chunk
        finished = True
    except (aiohttp.ClientError, TimeoutError) as exc:
        log.warning("stream from the upstream broke: %r", exc)
        on_break()
        yield stream_error_event("The model service stopped in the middle of the answer.")
        finished = True
    finally:
        if finished:
            resp.release()
        else:
            resp.close()


def stream_error_event(message: str) -> bytes:
    error = APIError(502, message, type="server_error", code="stream_interrupted")
    return b"data: " + orjson.dumps(error.body()) + b"\n\n"


def timed_out(limit_s: float) -> APIError:
    return APIError(
        504,
        f"The model service did not answer within {limit_s:g} s.",
        type="server_error",
        code="upstream_timeout",
    )
