"""Errors in the OpenAI format: ``{"error": {"message", "type", "param", "code"}}``.

Everything the gateway refuses is raised as :class:`APIError` and rendered by one handler,
so clients (the official SDKs included) always get the same shape and a meaningful status.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import orjson
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.responses import Response
from starlette.routing import Match


class APIError(Exception):
    """An error the client should see, with its HTTP status and OpenAI error fields."""

    def __init__(
        self,
        status: int,
        message: str,
        *,
        type: str = "invalid_request_error",
        param: str | None = None,
        code: str | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.type = type
        self.param = param
        self.code = code
        self.headers = headers or {}

    def body(self) -> dict[str, Any]:
        return error_body(self.message, self.type, self.param, self.code)


def error_body(
    message: str, type: str, param: str | None = None, code: str | None = None
) -> dict[str, Any]:
    return {"error": {"message": message, "type": type, "param": param, "code": code}}


def error_response(error: APIError) -> Response:
    return Response(
        orjson.dumps(error.body()),
        status_code=error.status,
        media_type="application/json",
        headers=error.headers,
    )


def invalid_json(detail: str) -> APIError:
    return APIError(400, f"The request body is not valid JSON: {detail}", code="invalid_json")


def model_not_found(model: str) -> APIError:
    return APIError(
        404,
        f"The model '{model}' does not exist or you do not have access to it.",
        param="model",
        code="model_not_found",
    )


def service_unavailable(message: str, code: str, retry_after_s: int) -> APIError:
    """503 with ``Retry-After``: the model service cannot take the request now."""
    return APIError(
        503,
        message,
        type="server_error",
        code=code,
        headers={"Retry-After": str(retry_after_s)},
    )


def engine_unavailable(retry_after_s: int, why: str) -> APIError:
    return service_unavailable(
        f"The model service is unavailable ({why}); retry after {retry_after_s} s.",
        "engine_unavailable",
        retry_after_s,
    )


def unauthorized(message: str) -> APIError:
    """401 for a missing or unknown API key, as OpenAI words it."""
    return APIError(401, message, code="invalid_api_key")


def forbidden(message: str = "This route needs an admin API key.") -> APIError:
    """403 for a valid key whose role may not do what it asked."""
    return APIError(403, message, type="permission_error", code="insufficient_permissions")


def body_too_large(limit: int) -> APIError:
    return APIError(
        413, f"The request body is larger than {limit} bytes.", code="request_too_large"
    )


# Where FastAPI says a value came from; OpenAI's ``param`` names only the field itself.
_SOURCES = frozenset({"body", "query", "path", "header", "cookie"})


def validation_error(errors: Sequence[Any]) -> APIError:
    """400 ``invalid_request_error`` for a body or query of the wrong shape, as OpenAI and
    vLLM answer (not FastAPI's 422), with ``param`` naming the first field at fault."""
    first = errors[0] if errors else {}
    loc = list(first.get("loc", ()))
    if loc and loc[0] in _SOURCES:
        loc = loc[1:]
    param = ".".join(str(part) for part in loc) or None
    msg = str(first.get("msg", "Invalid request."))
    message = f"{param}: {msg}" if param else msg
    return APIError(400, message, param=param, code="invalid_value")


_HTTP_CODES = {404: "not_found", 405: "method_not_allowed"}


def allowed_methods(request: Request) -> list[str]:
    """Every method some route serves at this path (Starlette's 405 names only the first
    route that matched the path, so ``GET`` and ``POST`` on one path would read ``POST``)."""
    methods: set[str] = set()
    for route in request.app.router.routes:
        match, _ = route.matches({**request.scope, "method": "GET"})
        route_methods = getattr(route, "methods", None)
        if match is not Match.NONE and route_methods:
            methods.update(route_methods)
    return sorted(methods)


def install_error_handlers(app: FastAPI) -> None:
    """Render every refusal, including FastAPI's own, in the OpenAI error format."""

    async def on_api_error(_: Request, exc: Exception) -> Response:
        assert isinstance(exc, APIError)
        return error_response(exc)

    async def on_validation(_: Request, exc: Exception) -> Response:
        assert isinstance(exc, RequestValidationError)
        return error_response(validation_error(exc.errors()))

    async def on_http(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, StarletteHTTPException)
        code = _HTTP_CODES.get(exc.status_code)
        kind = "invalid_request_error" if exc.status_code < 500 else "server_error"
        headers = dict(exc.headers or {})  # they matter: 405 carries Allow
        if exc.status_code == 405:
            headers["Allow"] = ", ".join(allowed_methods(request))
        error = APIError(exc.status_code, str(exc.detail), type=kind, code=code, headers=headers)
        return error_response(error)

    async def on_unexpected(_: Request, exc: Exception) -> Response:
        # Logged by the server; the client gets a clean body, never a traceback.
        return error_response(
            APIError(500, "The gateway failed to handle the request.", type="server_error")
        )

    app.add_exception_handler(APIError, on_api_error)
    app.add_exception_handler(RequestValidationError, on_validation)
    app.add_exception_handler(StarletteHTTPException, on_http)
    app.add_exception_handler(Exception, on_unexpected)
