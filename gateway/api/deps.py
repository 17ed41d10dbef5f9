"""FastAPI dependencies: the long-lived objects the app builds at start-up."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from gateway.lora.loader import AdapterLoader
from gateway.openai.catalog import ModelCatalog
from gateway.openai.serving import CompletionServing
from gateway.upstream.pool import UpstreamPool


def get_serving(request: Request) -> CompletionServing:
    serving: CompletionServing = request.app.state.serving
    return serving


def get_catalog(request: Request) -> ModelCatalog:
    catalog: ModelCatalog = request.app.state.catalog
    return catalog


def get_pool(request: Request) -> UpstreamPool:
    pool: UpstreamPool = request.app.state.pool
    return pool


def get_loader(request: Request) -> AdapterLoader:
    loader: AdapterLoader = request.app.state.loader
    return loader


ServingDep = Annotated[CompletionServing, Depends(get_serving)]
CatalogDep = Annotated[ModelCatalog, Depends(get_catalog)]
PoolDep = Annotated[UpstreamPool, Depends(get_pool)]
LoaderDep = Annotated[AdapterLoader, Depends(get_loader)]
