"""Bodies of the degradation admin API and of the public status endpoint."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field, model_validator

from gateway.api.fields import TEXT_NO_NUL
from gateway.fleet.breaker import BreakerState
from gateway.fleet.upstream import Upstream
from gateway.protection.modes import Mode, SwitchSetting
from gateway.protection.switch_store import MAX_REASON_CHARS

Status = Literal["ok", "degraded", "maintenance", "unavailable"]
Assistant = Literal["show", "pause", "hide"]


class DegradationChange(BaseModel):
    """``PUT /admin/degradation``: the mode to set and why."""

    mode: Mode
    reason: str = Field(
        "", max_length=MAX_REASON_CHARS, pattern=TEXT_NO_NUL, description="Why; shown to users."
    )

    @model_validator(mode="after")
    def _reason_unless_normal(self) -> DegradationChange:
        self.reason = self.reason.strip()
        if self.mode is not Mode.NORMAL and not self.reason:
            raise ValueError(f"a reason is required to set '{self.mode.value}'")
        return self


class DegradationEntry(BaseModel):
    """One change of the switch."""

    mode: Mode
    reason: str
    actor: str = Field(description="Who: the admin key's owner (or id), or cli:<user>.")
    changed_at: str | None = Field(description="ISO 8601 UTC; null: never changed.")

    @classmethod
    def of(cls, setting: SwitchSetting) -> DegradationEntry:
        return cls(
            mode=setting.mode,
            reason=setting.reason,
            actor=setting.actor,
            changed_at=setting.since,
        )


class DegradationView(BaseModel):
    """``GET /admin/degradation``: the setting in force and the latest changes."""

    current: DegradationEntry
    history: list[DegradationEntry] = Field(description="Newest first.")


class UpstreamStatus(BaseModel):
    name: str = Field(description="engine-N or fallback-N; never a URL.")
    healthy: bool
    breaker: BreakerState


class EngineLoad(BaseModel):
    """One engine's load as the gateway sees it (its own /metrics, at most one poll old)."""

    name: str = Field(description="Public name (engine-N or engine-<hash>); never a URL.")
    healthy: bool
    running: int = Field(description="Requests the engine is running.")
    waiting: int = Field(description="Requests waiting in the engine's queue.")
    kv_cache_usage: float = Field(description="Share of its KV cache in use, 0..1.")
    in_flight: int = Field(description="This gateway worker's requests there now.")
    adapters_registered: int = Field(description="Adapters the engine can serve now.")
    adapters_active: int = Field(description="Adapters estimated to occupy its LoRA slots.")
    max_loras: int = Field(description="Its LoRA slots.")

    @classmethod
    def of(cls, upstream: Upstream, max_loras: int) -> EngineLoad:
        return cls(
            name=upstream.name,
            healthy=upstream.healthy,
            running=upstream.load.running,
            waiting=upstream.load.waiting,
            kv_cache_usage=upstream.load.kv_cache_usage,
            in_flight=upstream.in_flight,
            adapters_registered=len(upstream.loaded_adapters),
            adapters_active=len(upstream.active_adapters()),
            max_loras=upstream.load.max_lora or max_loras,
        )


class PublicStatus(BaseModel):
    """``GET /v1/status``: what a front end should do with its assistant."""

    status: Status
    assistant: Assistant
    mode: Mode
    message: str
    since: str | None = Field(description="When the mode in force was set (ISO 8601 UTC).")
    upstreams: list[UpstreamStatus]
    engines: list[EngineLoad] = Field(
        default_factory=list, description="Each engine's load (adapter names: admins only)."
    )
