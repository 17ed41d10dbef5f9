"""Thin routes of the OpenAI-compatible API; the logic is in :mod:`gateway.openai.serving`."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from starlette.responses import Response

from gateway.api.deps import CatalogDep, ServingDep

router = APIRouter(prefix="/v1", tags=["openai"])


@router.get("/models")
async def list_models(catalog: CatalogDep) -> dict[str, Any]:
    return catalog.listing()


@router.post("/chat/completions")
async def chat_completions(request: Request, serving: ServingDep) -> Response:
    return await serving.chat(request)


@router.post("/completions")
async def completions(request: Request, serving: ServingDep) -> Response:
    return await serving.completions(request)
