"""Which model names the gateway serves, and where a name goes.

Base models are known from the settings or learnt from the engines; adapters come from the
adapter registry, which every worker and replica reads from the same folder.
"""

from __future__ import annotations

import time
from pathlib import Path

from adapters.record import AdapterRecord, is_adapter_name
from adapters.registry import AdapterNotFound, AdapterRegistry
from gateway.auth.caller import Caller
from gateway.errors import APIError, model_not_found
from gateway.fleet.pool import UpstreamPool
from gateway.openai.objects import ModelCard, ModelList
from gateway.settings import Settings

ADAPTER_FILES = ("adapter_config.json", "adapter_model.safetensors")


class ModelCatalog:
    def __init__(self, settings: Settings, pool: UpstreamPool, registry: AdapterRegistry) -> None:
        self._configured = settings.base_model_name
        self._pool = pool
        self.registry = registry
        self._created = int(time.time())

    def base_models(self) -> list[str]:
        names = self._pool.served_models()
        if self._configured and self._configured not in names:
            names.insert(0, self._configured)
        return names

    def adapters(self) -> list[AdapterRecord]:
        return self.registry.list()

    def resolve(self, model: str, caller: Caller) -> AdapterRecord | None:
        """The adapter ``model`` names (None for a base model); 404 when it is unknown or
        another user's.

        While no base name is known at all (external upstreams, none reachable yet) base
        names are let through, so the client gets the engine's 503 rather than a wrong 404.
        """
        if is_adapter_name(model):
            return self._adapter(model, caller)
        known = self.base_models()
        if known and model not in known:
            raise model_not_found(model)
        return None

    def _adapter(self, model: str, caller: Caller) -> AdapterRecord:
        record = self.visible_record(model, caller)
        folder = Path(record.artifact_dir)
        if not all((folder / name).is_file() for name in ADAPTER_FILES):
            raise APIError(
                404,
                f"The adapter '{model}' is registered but its files are missing from "
                f"{folder}; publish it again or delete it.",
                param="model",
                code="adapter_artifact_missing",
            )
        return record

    def visible_record(self, model: str, caller: Caller) -> AdapterRecord:
        """The adapter's record; 404 when there is none or it belongs to another user."""
        try:
            record = self.registry.get(model)
        except AdapterNotFound:
            raise model_not_found(model) from None
        if not caller.may_see(record.owner):
            raise model_not_found(model)
        return record

    def listing(self, caller: Caller) -> ModelList:
        """Base models, then the adapters ``caller`` may use."""
        data = [self._card(name, None, self._created) for name in self.base_models()]
        data += [
            self._card(record.name, record.base_model, record.created_unix)
            for record in self.adapters()
            if caller.may_see(record.owner)
        ]
        return ModelList(data=data)

    def card(self, model: str, caller: Caller) -> ModelCard:
        if model in self.base_models():
            return self._card(model, None, self._created)
        record = self.visible_record(model, caller)
        return self._card(record.name, record.base_model, record.created_unix)

    def delete_adapter(self, model: str) -> AdapterRecord:
        if model in self.base_models():
            raise APIError(400, "A base model cannot be deleted.", param="model")
        try:
            return self.registry.delete(model)
        except AdapterNotFound:
            raise model_not_found(model) from None

    @staticmethod
    def _card(name: str, parent: str | None, created: int) -> ModelCard:
        return ModelCard(
            id=name, created=created, owned_by="loragate", root=parent or name, parent=parent
        )
