"""Thin routes of the admin API; every one needs an admin key (403 for a user key).

Keys: ``POST/GET /admin/keys``, ``GET/DELETE /admin/keys/{id}`` (delete revokes; never the
key that asks). Adapters: ``POST /admin/adapters/load``. Traffic: ``GET /admin/summary``.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request

from gateway.admin.adapters import AdapterAdmin
from gateway.admin.keys import KeyServing
from gateway.admin.protocol import (
    AdapterLoad,
    AdapterLoadResult,
    CreatedKey,
    EngineDetail,
    EngineList,
    KeyCreate,
    KeyList,
)
from gateway.api.deps import AdminDep, PoolDep, require_admin
from gateway.api.fields import ObjectId
from gateway.api.open_objects import TrafficSummary
from gateway.api.openapi import errors
from gateway.auth.keys import ApiKey
from gateway.observability import recent


async def get_key_serving(request: Request) -> KeyServing:
    serving: KeyServing = request.app.state.key_serving
    return serving


async def get_adapter_admin(request: Request) -> AdapterAdmin:
    serving: AdapterAdmin = request.app.state.adapter_admin
    return serving


KeysDep = Annotated[KeyServing, Depends(get_key_serving)]
AdaptersDep = Annotated[AdapterAdmin, Depends(get_adapter_admin)]

router = APIRouter(prefix="/admin", dependencies=[Depends(require_admin)], responses=errors(403))
_KEY_404 = errors(404, why={404: "No such key (`key_not_found`)."})


@router.post("/keys", tags=["api-keys"], summary="Create an API key")
def create_key(keys: KeysDep, admin: AdminDep, body: KeyCreate) -> CreatedKey:
    """A new key; the answer holds its secret, which is never shown again."""
    return keys.create(body, admin)


@router.get("/keys", tags=["api-keys"], summary="List API keys")
def list_keys(keys: KeysDep) -> KeyList:
    return keys.list()


@router.get("/keys/{key_id}", tags=["api-keys"], summary="Retrieve an API key", responses=_KEY_404)
def get_key(keys: KeysDep, key_id: ObjectId) -> ApiKey:
    return keys.get(key_id)


@router.delete(
    "/keys/{key_id}",
    tags=["api-keys"],
    summary="Revoke an API key",
    responses=_KEY_404 | errors(409, why={409: "A key cannot revoke itself (`own_key`)."}),
)
def revoke_key(keys: KeysDep, admin: AdminDep, key_id: ObjectId) -> ApiKey:
    """Revoke a key: refused by this worker at once, by the others within ``auth.cache_s``.
    The key that asks cannot revoke itself (409): another admin key, or the CLI, can."""
    return keys.revoke(key_id, admin)


@router.get("/engines", tags=["engines"], summary="List the engines")
def list_engines(pool: PoolDep) -> EngineList:
    """Every engine by public name, with its load and the adapters on it."""
    max_loras = pool.settings.engine.max_loras
    return EngineList(data=[EngineDetail.detail(up, max_loras) for up in pool.upstreams])


@router.post(
    "/adapters/load",
    tags=["adapters"],
    summary="Load an adapter into the engines",
    responses=errors(404, 503, why={404: "No such adapter, or another user's."}),
)
async def load_adapter(
    adapters: AdaptersDep, admin: AdminDep, body: AdapterLoad
) -> AdapterLoadResult:
    """Load an adapter into every healthy engine now, instead of on its first request."""
    return await adapters.load(body, admin)


@router.get("/summary", tags=["admin"], summary="Recent requests and errors")
def traffic_summary(
    window_s: Annotated[float, Query(gt=0, le=86_400)] = 300,
) -> TrafficSummary:
    """Completion requests this gateway process served in the last ``window_s`` seconds:
    counts by status and model, median latency, the latest requests and errors."""
    return TrafficSummary.model_validate(recent.summary(window_s))
