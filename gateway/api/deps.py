"""FastAPI dependencies: the long-lived objects the app builds at start-up, and the caller
(``CallerDep``; ``AdminDep`` refuses non-admin keys with 403).

They are ``async def`` because they do no I/O: FastAPI runs a plain ``def`` dependency in a
worker thread, a thread hop on every request of the hot path."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from gateway.auth.caller import Caller, caller_of
from gateway.errors import forbidden
from gateway.fleet.loader import AdapterLoader
from gateway.fleet.pool import UpstreamPool
from gateway.openai.catalog import ModelCatalog
from gateway.openai.serving import CompletionServing


async def get_serving(request: Request) -> CompletionServing:
    serving: CompletionServing = request.app.state.serving
    return serving


async def get_catalog(request: Request) -> ModelCatalog:
    catalog: ModelCatalog = request.app.state.catalog
    return catalog


async def get_pool(request: Request) -> UpstreamPool:
    pool: UpstreamPool = request.app.state.pool
    return pool


async def get_loader(request: Request) -> AdapterLoader:
    loader: AdapterLoader = request.app.state.loader
    return loader


async def get_caller(request: Request) -> Caller:
    """The caller the auth middleware recorded (anonymous when auth is off)."""
    return caller_of(request.scope.get("state", {}))


async def require_admin(caller: Annotated[Caller, Depends(get_caller)]) -> Caller:
    """The caller, when it holds an admin key; 403 otherwise."""
    if not caller.is_admin:
        raise forbidden()
    return caller


ServingDep = Annotated[CompletionServing, Depends(get_serving)]
CatalogDep = Annotated[ModelCatalog, Depends(get_catalog)]
PoolDep = Annotated[UpstreamPool, Depends(get_pool)]
LoaderDep = Annotated[AdapterLoader, Depends(get_loader)]
CallerDep = Annotated[Caller, Depends(get_caller)]
AdminDep = Annotated[Caller, Depends(require_admin)]
