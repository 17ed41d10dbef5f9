"""Which model names the gateway serves, and where a name goes."""

from __future__ import annotations

import time
from typing import Any

from gateway.errors import model_not_found
from gateway.settings import Settings
from gateway.upstream.pool import UpstreamPool


class ModelCatalog:
    """The base model (known from settings, or learnt from the upstreams)."""

    def __init__(self, settings: Settings, pool: UpstreamPool) -> None:
        self._configured = settings.base_model_name
        self._pool = pool
        self._created = int(time.time())

    def base_models(self) -> list[str]:
        names = self._pool.served_models()
        if self._configured and self._configured not in names:
            names.insert(0, self._configured)
        return names

    def resolve(self, model: str) -> str:
        """The engine-side name for ``model``; 404 ``model_not_found`` when unknown.

        While no name is known at all (external upstreams, none reachable yet) every name is
        let through, so the client gets the engine's 503 rather than a misleading 404.
        """
        known = self.base_models()
        if known and model not in known:
            raise model_not_found(model)
        return model

    def listing(self) -> dict[str, Any]:
        data = [
            {
                "id": name,
                "object": "model",
                "created": self._created,
                "owned_by": "loragate",
                "root": name,
                "parent": None,
            }
            for name in self.base_models()
        ]
        return {"object": "list", "data": data}
