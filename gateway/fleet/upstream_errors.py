"""Turning an engine's error reply into the OpenAI error format."""

from __future__ import annotations

from typing import Any

import orjson

from gateway.errors import APIError
from gateway.fleet.errors import ModelNotOnEngine


def from_upstream(status: int, payload: bytes) -> APIError:
    """The client-facing error for an engine reply with ``status`` >= 400.

    vLLM answers ``{"error": {"type": "BadRequestError", "code": 400, ...}}``; clients expect
    OpenAI's ``type`` and ``code`` strings, so those are rewritten, and 5xx become 502.
    """
    message, param, code = _fields(payload)
    if status >= 500:
        return APIError(
            502,
            f"The model service failed: {message}",
            type="server_error",
            code="upstream_error",
        )
    if status == 404 and param == "model":
        return ModelNotOnEngine(message, param)
    return APIError(status, message, param=param, code=code)


def _fields(payload: bytes) -> tuple[str, str | None, str | None]:
    try:
        data: Any = orjson.loads(payload)
    except orjson.JSONDecodeError:
        return payload[:500].decode("utf-8", errors="replace") or "no details", None, None
    error = data.get("error", data) if isinstance(data, dict) else {}
    if not isinstance(error, dict):
        return str(error), None, None
    message = str(error.get("message") or error.get("detail") or "no details")
    param = error.get("param")
    code = error.get("code")
    return (
        message,
        param if isinstance(param, str) else None,
        code if isinstance(code, str) else None,
    )
