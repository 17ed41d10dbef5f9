"""``POST /v1/chat/completions`` and ``POST /v1/completions`` served straight from ASGI.

These two carry nearly all of the gateway's traffic, and under ``loragate up`` the gateway
shares a small machine with the engine, so every request's CPU shows up in time to first
token. FastAPI's path to an endpoint (route matching over every route, dependency solving,
an exit stack, two exception-catching ``send`` wrappers per chunk) cost more CPU than the
work itself. This middleware sits after authentication, request ids, metrics and
the body limit, and hands these two requests to :class:`CompletionServing` directly; every
other request, and any other method on these paths, goes on to the router.

The routes stay declared in :mod:`gateway.openai.routes` for the OpenAPI document and serve
the same handler, so the contract and the behaviour are one. Errors are rendered as the
app's exception handler renders them; anything unexpected propagates to the server-error
middleware (a 500 in the OpenAI format), as it would from a route.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from starlette.requests import Request
from starlette.responses import Response
from starlette.types import ASGIApp, Receive, Scope, Send

from gateway.errors import APIError, error_response
from gateway.openai.serving import CompletionServing

Handler = Callable[[Request], Awaitable[Response]]


class CompletionEndpoints:
    """Pure-ASGI fast path for the two completion endpoints."""

    def __init__(self, app: ASGIApp, serving: CompletionServing) -> None:
        self.app = app
        self.handlers: dict[str, Handler] = {
            "/v1/chat/completions": serving.chat,
            "/v1/completions": serving.completions,
        }

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        handler = self.handlers.get(scope["path"]) if scope["type"] == "http" else None
        if handler is None or scope["method"] != "POST":
            await self.app(scope, receive, send)
            return
        try:
            response = await handler(Request(scope, receive))
        except APIError as exc:
            response = error_response(exc)
        await response(scope, receive, send)
