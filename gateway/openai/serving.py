"""The logic behind the completion endpoints: validate, resolve the model, forward.

Where a request goes (degradation mode, engines, fallbacks) is :mod:`gateway.fleet.routing`;
how it is sent and relayed is :mod:`gateway.fleet.forwarding`.
"""

from __future__ import annotations

from pydantic import BaseModel, ValidationError
from starlette.requests import Request
from starlette.responses import Response

from adapters.record import AdapterRecord
from gateway.auth.caller import caller_of
from gateway.errors import APIError, body_too_large, invalid_json, validation_error
from gateway.fleet.loader import AdapterLoader
from gateway.fleet.pool import UpstreamPool
from gateway.fleet.routing import Completion, CompletionRouter
from gateway.observability.http import note_model
from gateway.openai.catalog import ModelCatalog
from gateway.openai.protocol import ChatCompletionRequest, CompletionRequest
from gateway.protection.degradation import DegradationSwitch
from gateway.protection.modes import Mode
from gateway.ratelimit.limiter import RateLimiter
from gateway.ratelimit.response import settle_when_done
from gateway.settings import Settings


class CompletionServing:
    """Serves ``/v1/chat/completions`` and ``/v1/completions`` through the upstream pool."""

    def __init__(
        self,
        settings: Settings,
        pool: UpstreamPool,
        catalog: ModelCatalog,
        loader: AdapterLoader,
        limiter: RateLimiter,
        router: CompletionRouter,
        switch: DegradationSwitch,
    ) -> None:
        self.settings = settings
        self.pool = pool
        self.catalog = catalog
        self.loader = loader
        self.limiter = limiter
        self.router = router
        self.switch = switch

    async def chat(self, request: Request) -> Response:
        return await self._serve(request, ChatCompletionRequest, "/v1/chat/completions")

    async def completions(self, request: Request) -> Response:
        return await self._serve(request, CompletionRequest, "/v1/completions")

    async def _serve(self, request: Request, schema: type[BaseModel], path: str) -> Response:
        self.switch.refuse_in_maintenance(self.settings.retry_after_s)
        body = await request.body()
        if len(body) > self.settings.max_body_bytes:
            raise body_too_large(self.settings.max_body_bytes)
        parsed = parse_body(schema, body)
        model: str = getattr(parsed, "model", "")
        caller = caller_of(request.scope.get("state", {}))
        adapter = self.catalog.resolve(model, caller)
        note_model(request, model, adapter)
        admission = await self.limiter.admit(caller, model, parsed)
        try:
            response = await self._send(request, parsed, adapter, path, body)
        except BaseException:
            admission.release(None, failed=True)
            raise
        return settle_when_done(response, admission)

    async def _send(
        self,
        request: Request,
        parsed: BaseModel,
        adapter: AdapterRecord | None,
        path: str,
        body: bytes,
    ) -> Response:
        stream = bool(getattr(parsed, "stream", False))
        mode = self.switch.mode
        return await self.router.route(
            Completion(path, body, request.state.request_id, stream, adapter),
            base_only=mode is Mode.BASE_ONLY,
            fallbacks_only=mode is Mode.FALLBACK,
        )


def parse_body(schema: type[BaseModel], body: bytes) -> BaseModel:
    """Validate ``body``: 400 ``invalid_json`` when it is not JSON, 400 ``invalid_value``
    naming the field when its JSON has the wrong shape (as OpenAI and vLLM answer)."""
    try:
        return schema.model_validate_json(body)
    except ValidationError as exc:
        errors = exc.errors(include_url=False)
        first = errors[0]
        if first["type"] == "json_invalid" or not body.strip():
            raise invalid_json(str(first.get("ctx", {}).get("error", "empty body"))) from None
        if first["type"] == "model_type" and not first["loc"]:
            raise APIError(
                400, "The request body must be a JSON object.", code="invalid_value"
            ) from None
        raise validation_error(errors) from None
