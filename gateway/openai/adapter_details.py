"""Adapter details for people and consoles: ``GET /v1/adapters`` and ``/v1/adapters/{name}``.

``/v1/models`` says only which names exist; these say whose an adapter is, how it was made
(rank, alpha, targets, job) and how it scored, and ``engines``: the engines it is
registered in now (their ``/v1/models``, as the fleet reads them).
"""

from __future__ import annotations

from typing import Any

from adapters.record import AdapterRecord
from gateway.auth.caller import Caller
from gateway.fleet.pool import UpstreamPool
from gateway.openai.catalog import ModelCatalog


class AdapterDetails:
    def __init__(self, catalog: ModelCatalog, pool: UpstreamPool) -> None:
        self.catalog = catalog
        self.pool = pool

    def list(self, caller: Caller) -> dict[str, Any]:
        records = [r for r in self.catalog.adapters() if caller.may_see(r.owner)]
        records.sort(key=lambda record: record.created_at, reverse=True)
        return {"object": "list", "data": [self.render(record) for record in records]}

    def get(self, name: str, caller: Caller) -> dict[str, Any]:
        """The adapter's details; 404 when it is unknown or another user's."""
        return self.render(self.catalog.visible_record(name, caller))

    def render(self, record: AdapterRecord) -> dict[str, Any]:
        engines = [u.name for u in self.pool.upstreams if record.name in u.loaded_adapters]
        return {
            "id": record.name,
            "object": "adapter",
            "base_model": record.base_model,
            "owner": record.owner,
            "created_at": record.created_unix,
            "job_id": record.job_id,
            "rank": record.rank,
            "alpha": record.alpha,
            "target_modules": record.target_modules,
            "metrics": record.metrics,
            "engines": engines,
        }
