"""Thin routes of the OpenAI-compatible API; the logic is in :mod:`gateway.openai.serving`.

The completion handlers read the body themselves (validated once, forwarded as bytes), so
their bodies are documented with ``openapi_extra`` rather than parsed by FastAPI.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from starlette.responses import Response

from gateway.api.deps import AdminDep, CallerDep, CatalogDep, LoaderDep, ServingDep
from gateway.api.open_objects import AdapterDetail, AdapterDetailList
from gateway.api.openapi import RATE_LIMIT_HEADERS, errors, header, json_body, json_or_stream
from gateway.openai.adapter_details import AdapterDetails
from gateway.openai.objects import DeletedObject, ModelCard, ModelList

router = APIRouter(prefix="/v1")

_ANSWERED = {
    "x-loragate-upstream": header("Who answered: engine-N or fallback-N.", True),
    "x-loragate-degraded": header("base-only: an adapter's request answered by its base model."),
} | RATE_LIMIT_HEADERS
_COMPLETION_ERRORS = errors(
    400, 404, 429, 502, 503, 504, why={404: "Unknown model, or another user's adapter."}
)


def _completion_responses(schema: str) -> dict[int | str, Any]:
    ok = json_or_stream(schema, f"A {schema}, or its chunks as server-sent events (`stream`).")
    return {200: ok | {"headers": _ANSWERED}, **_COMPLETION_ERRORS}


@router.get("/models", tags=["models"], summary="List models")
async def list_models(catalog: CatalogDep, caller: CallerDep) -> ModelList:
    """Base models, then the adapters this key may use."""
    return catalog.listing(caller)


@router.post(
    "/chat/completions",
    tags=["completions"],
    summary="Create a chat completion",
    response_class=Response,
    responses=_completion_responses("ChatCompletion"),
    openapi_extra=json_body("ChatCompletionRequest"),
)
async def chat_completions(request: Request, serving: ServingDep) -> Response:
    return await serving.chat(request)


@router.post(
    "/completions",
    tags=["completions"],
    summary="Create a text completion",
    response_class=Response,
    responses=_completion_responses("Completion"),
    openapi_extra=json_body("CompletionRequest"),
)
async def completions(request: Request, serving: ServingDep) -> Response:
    return await serving.completions(request)


@router.get(
    "/models/{model:path}",
    tags=["models"],
    summary="Retrieve a model",
    responses=errors(404, why={404: "Unknown model, or another user's adapter."}),
)
async def retrieve_model(model: str, catalog: CatalogDep, caller: CallerDep) -> ModelCard:
    return catalog.card(model, caller)


@router.delete(
    "/models/{model:path}",
    tags=["models"],
    summary="Delete a fine-tuned model",
    responses=errors(400, 403, 404, why={400: "A base model cannot be deleted."}),
)
async def delete_model(
    model: str, catalog: CatalogDep, loader: LoaderDep, _: AdminDep
) -> DeletedObject:
    """Delete a fine-tuned model (adapter): unloaded from the engines, removed from disk.
    Admins only."""
    record = catalog.delete_adapter(model)
    await loader.unload_everywhere(record.name)
    return DeletedObject(id=record.name, object="model", deleted=True)


@router.get("/adapters", tags=["adapters"], summary="List adapters with their details")
def list_adapters(request: Request, caller: CallerDep) -> AdapterDetailList:
    """The adapters the caller may use, newest first, with owner, rank, job and metrics."""
    return AdapterDetailList.model_validate(_details(request).list(caller))


@router.get(
    "/adapters/{model:path}",
    tags=["adapters"],
    summary="Retrieve an adapter's details",
    responses=errors(404, why={404: "Unknown adapter, or another user's (`model_not_found`)."}),
)
def retrieve_adapter(request: Request, model: str, caller: CallerDep) -> AdapterDetail:
    """One adapter's details (404 when unknown or another user's)."""
    return AdapterDetail.model_validate(_details(request).get(model, caller))


def _details(request: Request) -> AdapterDetails:
    details: AdapterDetails = request.app.state.adapter_details
    return details
