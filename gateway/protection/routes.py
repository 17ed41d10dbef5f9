"""Thin routes: ``PUT/GET /admin/degradation`` (admins) and the public ``GET /v1/status``."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request
from starlette.responses import Response

from gateway.api.deps import AdminDep, require_admin
from gateway.api.openapi import errors
from gateway.protection.protocol import (
    DegradationChange,
    DegradationEntry,
    DegradationView,
    PublicStatus,
)
from gateway.protection.serving import HISTORY_LIMIT, ProtectionServing


async def get_protection(request: Request) -> ProtectionServing:
    serving: ProtectionServing = request.app.state.protection
    return serving


ProtectionDep = Annotated[ProtectionServing, Depends(get_protection)]

admin_router = APIRouter(
    prefix="/admin",
    tags=["degradation"],
    dependencies=[Depends(require_admin)],
    responses=errors(403),
)
status_router = APIRouter(prefix="/v1", tags=["degradation"])


@admin_router.put("/degradation", summary="Set the degradation mode")
async def set_degradation(
    body: DegradationChange, serving: ProtectionDep, admin: AdminDep
) -> DegradationEntry:
    """Flip the switch: ``normal``, ``base-only``, ``fallback`` or ``maintenance``."""
    return await serving.change(body, admin)


@admin_router.get("/degradation", summary="Show the degradation mode and its history")
async def show_degradation(
    serving: ProtectionDep, limit: Annotated[int, Query(ge=1, le=1000)] = HISTORY_LIMIT
) -> DegradationView:
    """The mode in force and the latest changes (who, when, why), newest first."""
    return await serving.view(limit)


@status_router.get("/status", summary="Public status for front ends")
async def status(serving: ProtectionDep, response: Response) -> PublicStatus:
    """Public (no key): whether a front end should show, pause or hide its assistant."""
    response.headers["cache-control"] = "no-store"
    return serving.status()
