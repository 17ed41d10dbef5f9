"""Who may call, how often, and what happens when the engines cannot serve."""

from __future__ import annotations

from pathlib import Path

from pydantic import BaseModel, Field


class AuthSettings(BaseModel):
    """API keys (see :mod:`gateway.auth`)."""

    enabled: bool = Field(
        True, description="Require an API key on every route but health, metrics and status."
    )
    admin_key_file: Path | None = Field(
        None, description="Where the first start writes the admin key; unset: <data dir>/admin.key."
    )
    cache_s: float = Field(
        5.0, ge=0, description="How long a worker trusts a looked-up key (revocation delay)."
    )


class ModelLimit(BaseModel):
    """A limit on one model or adapter, shared by every caller."""

    rpm: int | None = Field(None, ge=1, description="Requests per minute.")
    tpm: int | None = Field(None, ge=1, description="Tokens (prompt + completion) per minute.")


class RateLimitSettings(BaseModel):
    """Per-key and per-model limits, and the cap on work in flight to the engines."""

    redis_url: str | None = Field(
        None, description="Counters in Redis (exact across workers and replicas); unset: memory."
    )
    window_s: int = Field(60, ge=1, description="Length of a rate-limit window.")
    default_rpm: int | None = Field(None, ge=1, description="For keys created without --rpm.")
    default_tpm: int | None = Field(None, ge=1, description="For keys created without --tpm.")
    models: dict[str, ModelLimit] = Field(
        default_factory=dict, description="Limits per model or adapter name."
    )
    reserve_completion_tokens: int = Field(
        256, ge=1, description="Tokens reserved for the answer when a request sets no max_tokens."
    )
    max_in_flight: int = Field(
        256, ge=1, description="Completion requests at the engines at once (all workers)."
    )
    max_queued: int = Field(
        512, ge=0, description="Requests waiting for a slot; past it: 503 at once."
    )
    queue_timeout_s: float = Field(30.0, gt=0, description="Longest wait for a slot.")


class FallbackUpstream(BaseModel):
    """An OpenAI-compatible endpoint requests go to when the engines cannot serve them."""

    url: str = Field(description="Base URL, with or without /v1.")
    api_key: str | None = Field(None, description="Sent as Authorization: Bearer.")
    model: str | None = Field(
        None, description="Model name to ask it for; unset: the name the client asked for."
    )


class ProtectionSettings(BaseModel):
    """The degradation switch, circuit breakers and the fallback chain."""

    fallbacks: list[FallbackUpstream] = Field(
        default_factory=list, description="Tried in order when the engines' breakers are open."
    )
    switch_refresh_s: float = Field(
        0.5, gt=0, description="How often each worker re-reads the degradation switch."
    )
    breaker_failures: int = Field(
        5, ge=1, description="Failures in a row (errors, timeouts, 5xx) that open a breaker."
    )
    breaker_open_s: float = Field(
        10.0, gt=0, description="How long an open breaker waits before one probe request."
    )
