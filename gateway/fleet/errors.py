"""What the upstream side raises, as types the caller can catch (never by matching codes).

Each is an :class:`~gateway.errors.APIError`, so one that reaches the client is rendered in
the OpenAI format like any other refusal.
"""

from __future__ import annotations

from gateway.errors import APIError


class EngineUnreachable(APIError):
    """An engine did not answer (while loading an adapter): the next upstream may serve."""

    def __init__(self, message: str, retry_after_s: int) -> None:
        super().__init__(
            503,
            message,
            type="server_error",
            code="engine_unavailable",
            headers={"Retry-After": str(retry_after_s)},
        )


class ModelNotOnEngine(APIError):
    """The engine answered 404 for the model: an adapter it has forgotten (it restarted)."""

    def __init__(self, message: str, param: str | None) -> None:
        super().__init__(404, message, param=param, code="model_not_found")


class AdapterLoadFailed(APIError):
    """The engine refused to load an adapter (bad files, over ``--max-lora-rank``, ...)."""

    def __init__(self, message: str) -> None:
        super().__init__(502, message, type="server_error", code="adapter_load_failed")
