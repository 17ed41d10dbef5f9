"""Liveness and readiness: the truth about the gateway and the engine behind it."""

from __future__ import annotations

from typing import Any, Literal

from fastapi import APIRouter
from pydantic import BaseModel, Field
from starlette.responses import Response

from gateway.api.deps import PoolDep
from gateway.api.openapi import RETRY_AFTER

router = APIRouter(prefix="/health", tags=["health"])


class Liveness(BaseModel):
    status: Literal["ok"] = "ok"


class EngineHealth(BaseModel):
    name: str = Field(description="The engine's public name (never its URL).")
    healthy: bool
    error: str | None = Field(description="Why the last health check failed, if it did.")
    models: list[str] = Field(description="Models the engine serves.")
    adapters_loaded: int
    since_s: float = Field(description="Seconds since its health last changed.")


class Readiness(BaseModel):
    status: Literal["ready", "unavailable"]
    upstreams: list[EngineHealth]


_NOT_READY: dict[int | str, Any] = {
    503: {
        "description": "No engine answers its health check.",
        "model": Readiness,
        "headers": RETRY_AFTER,
    }
}


@router.get("/live", summary="Liveness")
async def live() -> Liveness:
    """The gateway process answers; says nothing about the engine."""
    return Liveness()


@router.get("/ready", summary="Readiness", response_model=Readiness, responses=_NOT_READY)
async def ready(pool: PoolDep) -> Response:
    """200 when at least one engine answers its health check, else 503."""
    ok = pool.any_healthy
    body = Readiness(
        status="ready" if ok else "unavailable",
        upstreams=[EngineHealth.model_validate(up.describe()) for up in pool.upstreams],
    )
    headers = {} if ok else {"Retry-After": str(pool.settings.retry_after_s)}
    return Response(
        body.model_dump_json(),
        status_code=200 if ok else 503,
        media_type="application/json",
        headers=headers,
    )
