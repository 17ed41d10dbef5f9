"""Request and response bodies of the admin API."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from gateway.api.fields import NAME_MAX_CHARS, ModelName, RateLimit
from gateway.auth.caller import USER
from gateway.auth.keys import ApiKey


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


class AdapterLoad(BaseModel):
    """Load an adapter into the engines before the first request needs it."""

    model_config = ConfigDict(extra="forbid")

    model: ModelName = Field(description="The adapter's name, ft:...")


class AdapterLoadResult(BaseModel):
    """Which engines have the adapter now, and why the others do not."""

    object: str = "adapter.load"
    model: str
    loaded: list[str] = Field(description="URLs of the engines that have it loaded.")
    failed: dict[str, str] = Field(description="Engine URL -> why loading it there failed.")
