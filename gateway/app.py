"""The gateway's ASGI application factory.

``uvicorn gateway.app:create_app --factory`` serves it; settings come from the environment
(see :mod:`gateway.settings`), so every uvicorn worker builds the same app.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI
from pydantic import BaseModel

from adapters.registry import AdapterRegistry
from gateway import __version__
from gateway.admin import routes as admin_routes
from gateway.admin.adapters import AdapterAdmin
from gateway.admin.keys import KeyServing
from gateway.api import health, me
from gateway.api.openapi import install_openapi, operation_id
from gateway.auth.cache import KeyCache
from gateway.auth.keys import open_key_store
from gateway.auth.middleware import AuthMiddleware, is_public
from gateway.console.mount import install_console
from gateway.errors import install_error_handlers
from gateway.finetune import routes as finetune_routes
from gateway.finetune.feed import JobFeed
from gateway.finetune.files import FileServing
from gateway.finetune.insights import FileInsights
from gateway.finetune.jobs import JobServing
from gateway.finetune.metrics_endpoint import JobMetricsEndpoint
from gateway.fleet.fleet import Fleet
from gateway.middleware import BodyLimitMiddleware, RequestIdMiddleware
from gateway.observability.observer import MetricsObserver
from gateway.observability.recorders import record_adapter_load, record_routing_decision
from gateway.openai import routes as openai_routes
from gateway.openai.adapter_details import AdapterDetails
from gateway.openai.catalog import ModelCatalog
from gateway.openai.completion_endpoints import CompletionEndpoints
from gateway.openai.objects import ChatCompletion, Completion
from gateway.openai.protocol import ChatCompletionRequest, CompletionRequest
from gateway.openai.serving import CompletionServing
from gateway.protection import routes as protection_routes
from gateway.protection.setup import build_protection
from gateway.ratelimit.limiter import RateLimiter
from gateway.settings import Settings
from trainer.jobs.store import Store

DESCRIPTION = (
    "An OpenAI-compatible gateway over vLLM: a base model and its LoRA adapters, and the "
    'fine-tuning that makes them. Every error is OpenAI\'s `{"error": {...}}`.'
)


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or Settings()
    fleet = Fleet.build(settings, on_load=record_adapter_load, on_decision=record_routing_decision)
    pool, loader = fleet.pool, fleet.loader
    catalog = ModelCatalog(settings, pool, AdapterRegistry(settings.adapters_dir))
    observer = MetricsObserver(settings, pool)
    job_store = Store(settings.job_database_url)
    file_serving = FileServing(settings, job_store)
    key_store, key_cache = open_key_store(settings), KeyCache(settings.auth.cache_s)
    limiter = RateLimiter(settings)
    protection = build_protection(settings, pool, loader, key_store.db, observer)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        await fleet.start()
        await protection.start()
        observer.start()
        file_serving.start()
        try:
            yield
        finally:
            await file_serving.stop()
            await observer.stop()
            await protection.stop()
            await limiter.close()
            await fleet.stop()
            job_store.close()
            key_store.close()

    app = FastAPI(
        title="loragate",
        version=__version__,
        description=DESCRIPTION,
        lifespan=lifespan,
        generate_unique_id_function=operation_id,
    )
    app.state.settings = settings
    app.state.pool = pool
    app.state.catalog = catalog
    app.state.loader = loader
    app.state.serving = CompletionServing(
        settings, pool, catalog, loader, limiter, protection.router, protection.switch
    )
    app.state.protection = protection.serving
    app.state.file_serving = file_serving
    app.state.file_insights = FileInsights(app.state.file_serving)
    app.state.job_serving = JobServing(
        settings, job_store, JobFeed(job_store, settings.console.live_interval_s)
    )
    app.state.key_serving = KeyServing(key_store, key_cache)
    app.state.adapter_admin = AdapterAdmin(catalog, pool, loader)
    app.state.adapter_details = AdapterDetails(catalog, pool)
    install_error_handlers(app)
    app.include_router(openai_routes.router)  # first: the router tries routes in order
    for router in finetune_routes.routers:
        app.include_router(router)
    app.include_router(health.router)
    app.include_router(me.router)
    app.include_router(admin_routes.router)
    app.include_router(protection_routes.admin_router)
    app.include_router(protection_routes.status_router)
    install_console(app, settings)
    app.add_middleware(JobMetricsEndpoint, jobs=app.state.job_serving)  # innermost
    app.add_middleware(CompletionEndpoints, serving=app.state.serving)
    app.add_middleware(
        BodyLimitMiddleware,
        max_body_bytes=settings.max_body_bytes,
        path_limits={"/v1/files": settings.finetune.max_file_bytes + 64 * 1024},
    )
    auth_keys = key_store if settings.auth.enabled else None  # None: everyone is anonymous
    app.add_middleware(AuthMiddleware, keys=auth_keys, cache=key_cache)  # inside request ids
    app.add_middleware(RequestIdMiddleware)
    observer.install(app)
    guarded = (lambda path: not is_public(path)) if settings.auth.enabled else None
    documented: list[type[BaseModel]] = [
        ChatCompletionRequest,
        CompletionRequest,
        ChatCompletion,
        Completion,
    ]
    install_openapi(app, guarded, documented, settings.base_model_name)
    return app
