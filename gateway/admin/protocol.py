"""Request and response bodies of the admin API."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from gateway.api.fields import NAME_MAX_CHARS, ModelName, RateLimit
from gateway.auth.caller import USER
from gateway.auth.keys import ApiKey
from gateway.fleet.upstream import Upstream
from gateway.protection.protocol import EngineLoad


class KeyCreate(BaseModel):
    """A new API key. Values are checked by the key store (400 naming the field)."""

    model_config = ConfigDict(extra="forbid")

    name: str = Field(
        max_length=NAME_MAX_CHARS,
        description="The user it belongs to: 1-64 letters, digits, . _ -.",
    )
    role: str = Field(USER, max_length=16, description="admin or user.")
    rpm: RateLimit | None = Field(None, description="Requests per minute; unset: the default.")
    tpm: RateLimit | None = Field(None, description="Tokens per minute; unset: the default.")


class CreatedKey(ApiKey):
    """A key just created, with its secret: the only time the secret is shown."""

    key: str = Field(description="The secret to send as Authorization: Bearer <key>.")


class KeyList(BaseModel):
    object: str = "list"
    data: list[ApiKey]


class EngineDetail(EngineLoad):
    """One engine with the adapters on it (admins only: adapter names are users' data)."""

    registered: list[str] = Field(description="Adapters in the engine's /v1/models.")
    active: list[str] = Field(description="Adapters estimated to occupy its LoRA slots.")
    breaker: str = Field(description="closed, half_open or open.")

    @classmethod
    def detail(cls, upstream: Upstream, max_loras: int) -> EngineDetail:
        return cls(
            **EngineLoad.of(upstream, max_loras).model_dump(),
            registered=sorted(upstream.loaded_adapters),
            active=sorted(upstream.active_adapters()),
            breaker=upstream.breaker.state.value,
        )


class EngineList(BaseModel):
    object: str = "list"
    data: list[EngineDetail]


class AdapterLoad(BaseModel):
    """Load an adapter into the engines before the first request needs it."""

    model_config = ConfigDict(extra="forbid")

    model: ModelName = Field(description="The adapter's name, ft:...")


class AdapterLoadResult(BaseModel):
    """Which engines have the adapter now, and why the others do not."""

    object: str = "adapter.load"
    model: str
    loaded: list[str] = Field(description="Public names of the engines that have it loaded.")
    failed: dict[str, str] = Field(description="Engine name -> why loading it there failed.")
