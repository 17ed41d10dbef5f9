"""Liveness and readiness: the truth about the gateway and the engine behind it."""

from __future__ import annotations

import orjson
from fastapi import APIRouter
from starlette.responses import Response

from gateway.api.deps import PoolDep

router = APIRouter(prefix="/health", tags=["health"])


@router.get("/live")
async def live() -> dict[str, str]:
    """The gateway process answers; says nothing about the engine."""
    return {"status": "ok"}


@router.get("/ready")
async def ready(pool: PoolDep) -> Response:
    """200 when at least one engine answers its health check, else 503."""
    ok = pool.any_healthy
    body = {
        "status": "ready" if ok else "unavailable",
        "upstreams": [upstream.describe() for upstream in pool.upstreams],
    }
    headers = {} if ok else {"Retry-After": str(pool.settings.retry_after_s)}
    return Response(
        orjson.dumps(body),
        status_code=200 if ok else 503,
        media_type="application/json",
        headers=headers,
    )
