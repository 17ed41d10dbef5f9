"""The gateway's ASGI application factory.

``uvicorn gateway.app:create_app --factory`` serves it; settings come from the environment
(see :mod:`gateway.settings`), so every uvicorn worker builds the same app.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI

from adapters.registry import AdapterRegistry
from gateway import __version__
from gateway.api import health
from gateway.errors import install_error_handlers
from gateway.finetune import routes as finetune_routes
from gateway.finetune.files import FileServing
from gateway.finetune.jobs import JobServing
from gateway.lora.loader import AdapterLoader
from gateway.middleware import BodyLimitMiddleware, RequestIdMiddleware
from gateway.observability.observer import MetricsObserver
from gateway.openai import routes as openai_routes
from gateway.openai.catalog import ModelCatalog
from gateway.openai.serving import CompletionServing
from gateway.settings import Settings
from gateway.upstream.pool import UpstreamPool
from trainer.jobs.store import Store


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or Settings()
    pool = UpstreamPool(settings)
    catalog = ModelCatalog(settings, pool, AdapterRegistry(settings.adapters_dir))
    loader = AdapterLoader(pool)
    observer = MetricsObserver(settings, pool)
    job_store = Store(settings.job_database_url)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        await pool.start()
        observer.start()
        try:
            yield
        finally:
            await observer.stop()
            await pool.stop()
            job_store.close()

    app = FastAPI(title="loragate", version=__version__, lifespan=lifespan)
    app.state.settings = settings
    app.state.pool = pool
    app.state.catalog = catalog
    app.state.loader = loader
    app.state.serving = CompletionServing(settings, pool, catalog, loader)
    app.state.file_serving = FileServing(settings, job_store)
    app.state.job_serving = JobServing(settings, job_store)
    install_error_handlers(app)
    for router in finetune_routes.routers:
        app.include_router(router)
    app.include_router(openai_routes.router)
    app.include_router(health.router)
    app.add_middleware(
        BodyLimitMiddleware,
        max_body_bytes=settings.max_body_bytes,
        path_limits={"/v1/files": settings.finetune.max_file_bytes + 64 * 1024},
    )
    app.add_middleware(RequestIdMiddleware)
    observer.install(app)
    return app
