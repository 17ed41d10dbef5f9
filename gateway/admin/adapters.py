"""Loading an adapter into every healthy engine ahead of its first request."""

from __future__ import annotations

import asyncio

from gateway.admin.protocol import AdapterLoad, AdapterLoadResult
from gateway.auth.caller import Caller
from gateway.errors import APIError, engine_unavailable
from gateway.fleet.loader import AdapterLoader
from gateway.fleet.pool import UpstreamPool
from gateway.openai.catalog import ModelCatalog


class AdapterAdmin:
    def __init__(self, catalog: ModelCatalog, pool: UpstreamPool, loader: AdapterLoader) -> None:
        self.catalog = catalog
        self.pool = pool
        self.loader = loader

    async def load(self, body: AdapterLoad, admin: Caller) -> AdapterLoadResult:
        """Load ``body.model`` into each healthy engine at once; 503 if none is healthy."""
        record = self.catalog.resolve(body.model, admin)
        if record is None:
            raise APIError(400, "A base model is always loaded; name an adapter.", param="model")
        upstreams = [upstream for upstream in self.pool.upstreams if upstream.healthy]
        if not upstreams:
            raise engine_unavailable(self.pool.settings.retry_after_s, "no engine is ready")
        outcomes = await asyncio.gather(
            *(self.loader.ensure_loaded(upstream, record) for upstream in upstreams),
            return_exceptions=True,
        )
        result = AdapterLoadResult(model=record.name, loaded=[], failed={})
        for upstream, outcome in zip(upstreams, outcomes, strict=True):
            if isinstance(outcome, APIError):
                result.failed[upstream.name] = outcome.message
            elif isinstance(outcome, BaseException):
                raise outcome
            else:
                result.loaded.append(upstream.name)
        return result
