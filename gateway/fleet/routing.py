"""Where a completion request goes: the degradation mode, then the chain of upstreams.

The chain is the healthy engines whose circuit breaker lets a request through (adapter
affinity first, then round-robin), then the configured fallbacks in order. A request that
fails at one upstream before any byte reached the client goes to the next; when none can
take it the client gets 503 + Retry-After at once, never a hang.

Modes: ``maintenance`` refuses (503 with the operator's message); ``base-only`` sends a
request naming an adapter to the adapter's base model (header ``x-loragate-degraded``);
``fallback`` skips the engines. A request naming an adapter can go to a fallback only when
that fallback has a ``model`` configured (it cannot have our adapter); it is then asked for
that model.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, replace

import orjson
from starlette.responses import Response

from adapters.record import AdapterRecord
from gateway.errors import APIError, engine_unavailable
from gateway.fleet.errors import EngineUnreachable, ModelNotOnEngine
from gateway.fleet.fallbacks import Fallback
from gateway.fleet.forwarding import JSON, Forwarder, Outgoing, UpstreamFailed
from gateway.fleet.in_flight import InFlight
from gateway.fleet.loader import AdapterLoader
from gateway.fleet.pool import UpstreamPool
from gateway.fleet.upstream import Upstream
from gateway.settings import Settings

log = logging.getLogger("loragate.routing")

UPSTREAM_HEADER = "x-loragate-upstream"
DEGRADED_HEADER = "x-loragate-degraded"
BASE_ONLY = "base-only"
"""The degraded header's value when an adapter's request was answered by its base model."""


@dataclass(frozen=True, slots=True)
class Completion:
    """A validated completion request on its way out."""

    path: str
    body: bytes
    request_id: str
    stream: bool
    adapter: AdapterRecord | None


class CompletionRouter:
    """Walks the chain of upstreams for each request, as the degradation mode allows."""

    def __init__(
        self,
        settings: Settings,
        pool: UpstreamPool,
        loader: AdapterLoader,
        fallbacks: list[Fallback],
    ) -> None:
        self.settings = settings
        self.pool = pool
        self.loader = loader
        self.fallbacks = fallbacks
        self.forwarder = Forwarder(settings, pool)

    async def route(
        self, request: Completion, *, base_only: bool = False, fallbacks_only: bool = False
    ) -> Response:
        """Send ``request`` along the chain. ``base_only``: an adapter's request is answered
        by its base model; ``fallbacks_only``: the engines are skipped."""
        degraded = base_only and request.adapter is not None
        if degraded:
            request = _as_base_model(request)
        adapter = request.adapter
        fallbacks = [f for f in self.fallbacks if f.can_serve(adapter is not None)]
        engines = []
        if not fallbacks_only:
            if not fallbacks and not self.pool.any_healthy and self.pool.upstreams:
                await self.pool.recheck()  # this worker may not have seen an engine return yet
            engines = self.pool.ranked(adapter.name if adapter else None)
        if fallbacks_only and not fallbacks:
            raise self._unavailable("fallback mode, and no fallback upstream can serve it")
        response = await self._walk([*engines, *fallbacks], request)
        if degraded:
            response.headers[DEGRADED_HEADER] = BASE_ONLY
        return response

    async def _walk(self, chain: list[Upstream | Fallback], request: Completion) -> Response:
        """The first answer along the chain; the last failure when every upstream failed."""
        failure: APIError | None = None
        for hop in chain:
            if not hop.breaker.try_acquire():
                continue
            try:
                response = await self._attempt(hop, request)
            except UpstreamFailed as failed:
                hop.breaker.record_failure()
                if failed.unreachable and isinstance(hop, Upstream):
                    hop.mark(False, "connection failed")
                if not failed.retry:
                    raise failed.error from None
                failure = failed.error
                log.info("%s failed (%s); trying the next upstream", hop.name, failed.error.code)
                continue
            except APIError:
                hop.breaker.record_success()  # it answered: the request was at fault
                raise
            except BaseException:
                hop.breaker.release()  # the client went away: no verdict
                raise
            hop.breaker.record_success()
            response.headers[UPSTREAM_HEADER] = hop.name
            return response
        raise failure or self._unavailable("no engine is ready")

    async def _attempt(self, hop: Upstream | Fallback, request: Completion) -> Response:
        if isinstance(hop, Fallback):
            return await self.forwarder.send(_to_fallback(hop, request), hop.breaker.record_failure)
        adapter = request.adapter.name if request.adapter is not None else None
        flight = InFlight(hop, adapter)
        try:
            response = await self._at_engine(hop, request)
        except BaseException:
            flight.end()
            raise
        return flight.until_sent(response)

    async def _at_engine(self, hop: Upstream, request: Completion) -> Response:
        out = Outgoing(
            hop.url,
            request.path,
            request.body,
            {"content-type": JSON, "x-request-id": request.request_id},
            request.stream,
        )
        if request.adapter is None:
            return await self.forwarder.send(out, hop.breaker.record_failure)
        return await self._with_adapter(hop, request.adapter, out)

    async def _with_adapter(
        self, engine: Upstream, adapter: AdapterRecord, out: Outgoing
    ) -> Response:
        """Load the adapter if needed; once more if the engine forgot it (it restarted)."""
        await self._load(engine, adapter)
        try:
            return await self.forwarder.send(out, engine.breaker.record_failure)
        except ModelNotOnEngine:
            pass
        self.loader.forget(engine, adapter.name)
        await self._load(engine, adapter)
        return await self.forwarder.send(out, engine.breaker.record_failure)

    async def _load(self, engine: Upstream, adapter: AdapterRecord) -> None:
        try:
            await self.loader.ensure_loaded(engine, adapter)
        except EngineUnreachable as exc:  # the engine did not answer: next upstream
            raise UpstreamFailed(exc) from exc

    def _unavailable(self, why: str) -> APIError:
        return engine_unavailable(self.settings.retry_after_s, why)


def _as_base_model(request: Completion) -> Completion:
    assert request.adapter is not None
    body = with_model(request.body, request.adapter.base_model)
    return replace(request, body=body, adapter=None)


def _to_fallback(fallback: Fallback, request: Completion) -> Outgoing:
    body = request.body if fallback.model is None else with_model(request.body, fallback.model)
    headers = fallback.headers(request.request_id)
    return Outgoing(fallback.url, request.path, body, headers, request.stream)


def with_model(body: bytes, model: str) -> bytes:
    """The request body (a JSON object, validated already) asking for ``model`` instead."""
    data = orjson.loads(body)
    data["model"] = model
    return orjson.dumps(data)
