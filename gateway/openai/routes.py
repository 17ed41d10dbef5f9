"""Thin routes of the OpenAI-compatible API; the logic is in :mod:`gateway.openai.serving`."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from starlette.responses import Response

from gateway.api.deps import AdminDep, CallerDep, CatalogDep, LoaderDep, ServingDep
from gateway.openai.adapter_details import AdapterDetails

router = APIRouter(prefix="/v1", tags=["openai"])


@router.get("/models")
async def list_models(catalog: CatalogDep, caller: CallerDep) -> dict[str, Any]:
    return catalog.listing(caller)


@router.post("/chat/completions")
async def chat_completions(request: Request, serving: ServingDep) -> Response:
    return await serving.chat(request)


@router.post("/completions")
async def completions(request: Request, serving: ServingDep) -> Response:
    return await serving.completions(request)


@router.get("/models/{model:path}")
async def retrieve_model(model: str, catalog: CatalogDep, caller: CallerDep) -> dict[str, Any]:
    return catalog.card(model, caller)


@router.delete("/models/{model:path}")
async def delete_model(
    model: str, catalog: CatalogDep, loader: LoaderDep, _: AdminDep
) -> dict[str, Any]:
    """Delete a fine-tuned model (adapter): unloaded from the engines, removed from disk.
    Admins only."""
    record = catalog.delete_adapter(model)
    await loader.unload_everywhere(record.name)
    return {"id": record.name, "object": "model", "deleted": True}


@router.get("/adapters", tags=["adapters"])
def list_adapters(request: Request, caller: CallerDep) -> dict[str, Any]:
    """The adapters the caller may use, newest first, with owner, rank, job and metrics."""
    return _details(request).list(caller)


@router.get("/adapters/{model:path}", tags=["adapters"])
def retrieve_adapter(request: Request, model: str, caller: CallerDep) -> dict[str, Any]:
    """One adapter's details (404 when unknown or another user's)."""
    return _details(request).get(model, caller)


def _details(request: Request) -> AdapterDetails:
    details: AdapterDetails = request.app.state.adapter_details
    return details
