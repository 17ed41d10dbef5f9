"""The logic behind the completion endpoints: validate, resolve the model, forward.

The client's body bytes go to the engine unchanged (vLLM owns sampling, templates and its
own extensions); replies come back as bytes, streamed chunk by chunk without buffering.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Awaitable, Callable

import aiohttp
import orjson
from pydantic import BaseModel, ValidationError
from starlette.requests import Request
from starlette.responses import Response, StreamingResponse

from adapters.record import AdapterRecord
from gateway.errors import APIError, body_too_large, engine_unavailable, invalid_json
from gateway.lora.loader import AdapterLoader
from gateway.observability.http import note_model
from gateway.openai.catalog import ModelCatalog
from gateway.openai.protocol import ChatCompletionRequest, CompletionRequest
from gateway.openai.upstream_errors import from_upstream
from gateway.settings import Settings
from gateway.upstream.pool import Upstream, UpstreamPool

log = logging.getLogger("loragate.serving")

JSON = "application/json"
SSE_HEADERS = {"cache-control": "no-cache", "x-accel-buffering": "no"}


Send = Callable[[Upstream, str, bytes, dict[str, str]], Awaitable[Response]]


class CompletionServing:
    """Serves ``/v1/chat/completions`` and ``/v1/completions`` through the upstream pool."""

    def __init__(
        self,
        settings: Settings,
        pool: UpstreamPool,
        catalog: ModelCatalog,
        loader: AdapterLoader,
    ) -> None:
        self.settings = settings
        self.pool = pool
        self.catalog = catalog
        self.loader = loader

    async def chat(self, request: Request) -> Response:
        return await self._serve(request, ChatCompletionRequest, "/v1/chat/completions")

    async def completions(self, request: Request) -> Response:
        return await self._serve(request, CompletionRequest, "/v1/completions")

    async def _serve(self, request: Request, schema: type[BaseModel], path: str) -> Response:
        body = await request.body()
        if len(body) > self.settings.max_body_bytes:
            raise body_too_large(self.settings.max_body_bytes)
        parsed = parse_body(schema, body)
        adapter = self.catalog.resolve(getattr(parsed, "model", ""))
        note_model(request, getattr(parsed, "model", ""), adapter)
        upstream = self.pool.pick(adapter.name if adapter else None)
        if upstream is None:
            raise engine_unavailable(self.settings.retry_after_s, "no engine is ready")
        headers = {"content-type": JSON, "x-request-id": request.state.request_id}
        send = self._stream if getattr(parsed, "stream", False) else self._forward
        if adapter is None:
            return await send(upstream, path, body, headers)
        return await self._with_adapter(adapter, upstream, send, path, body, headers)

    async def _with_adapter(
        self,
        adapter: AdapterRecord,
        upstream: Upstream,
        send: Send,
        path: str,
        body: bytes,
        headers: dict[str, str],
    ) -> Response:
        """Load the adapter if needed; once more if the engine forgot it (it restarted)."""
        await self.loader.ensure_loaded(upstream, adapter)
        try:
            return await send(upstream, path, body, headers)
        except APIError as exc:
            if exc.code != "model_not_found":
                raise
        self.loader.forget(upstream, adapter.name)
        await self.loader.ensure_loaded(upstream, adapter)
        return await send(upstream, path, body, headers)

    async def _forward(
        self, upstream: Upstream, path: str, body: bytes, headers: dict[str, str]
    ) -> Response:
        try:
            async with await self.pool.post(upstream, path, body, headers) as resp:
                payload = await resp.read()
                status = resp.status
        except aiohttp.ClientError as exc:
            raise self._connection_failed(upstream, exc) from exc
        except TimeoutError as exc:
            raise _timed_out(self.settings.upstream_timeout_s) from exc
        if status >= 400:
            raise from_upstream(status, payload)
        return Response(payload, status_code=status, media_type=JSON)

    async def _stream(
        self, upstream: Upstream, path: str, body: bytes, headers: dict[str, str]
    ) -> Response:
        try:
            resp = await self.pool.post(upstream, path, body, headers)
        except aiohttp.ClientError as exc:
            raise self._connection_failed(upstream, exc) from exc
        except TimeoutError as exc:
            raise _timed_out(self.settings.upstream_timeout_s) from exc
        if resp.status >= 400:
            payload = await resp.read()
            resp.release()
            raise from_upstream(resp.status, payload)
        return StreamingResponse(
            relay_stream(resp), media_type="text/event-stream", headers=SSE_HEADERS
        )

    def _connection_failed(self, upstream: Upstream, exc: aiohttp.ClientError) -> APIError:
        if isinstance(exc, aiohttp.ClientConnectorError):
            upstream.mark(False, f"connect failed: {exc}")
        log.warning("request to %s failed: %r", upstream.url, exc)
        return engine_unavailable(self.settings.retry_after_s, "the engine did not answer")


async def relay_stream(resp: aiohttp.ClientResponse) -> AsyncIterator[bytes]:
    """Pass the engine's SSE bytes through as they arrive.

    A failure after the first byte cannot be retried: the client gets an in-band error event
    and no ``[DONE]``. If the client goes away, closing the engine connection makes vLLM
    abort the request.
    """
    finished = False
    try:
        async for chunk in resp.content.iter_any():
            yield chunk
        finished = True
    except (aiohttp.ClientError, TimeoutError) as exc:
        log.warning("stream from the engine broke: %r", exc)
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


def parse_body(schema: type[BaseModel], body: bytes) -> BaseModel:
    """Validate ``body``: 400 when it is not JSON, 422 when its JSON has the wrong shape."""
    try:
        return schema.model_validate_json(body)
    except ValidationError as exc:
        errors = exc.errors(include_url=False)
        first = errors[0]
        if first["type"] == "json_invalid" or not body.strip():
            raise invalid_json(str(first.get("ctx", {}).get("error", "empty body"))) from None
        if first["type"] == "model_type" and not first["loc"]:
            raise APIError(422, "The request body must be a JSON object.") from None
        param = ".".join(str(part) for part in first["loc"]) or None
        raise APIError(
            422,
            f"{param}: {first['msg']}" if param else first["msg"],
            param=param,
            code="invalid_value",
        ) from None


def _timed_out(limit_s: float) -> APIError:
    return APIError(
        504,
        f"The model service did not answer within {limit_s:g} s.",
        type="server_error",
        code="upstream_timeout",
    )
