"""What the registry knows about one adapter."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Any

from pydantic import BaseModel, Field

ADAPTER_PREFIX = "ft:"
_SUFFIX = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,39}$")
RECORD_FILE = "loragate_adapter.json"


class AdapterRecord(BaseModel):
    """An adapter the engine can serve: where it is, what it is for, how good it is."""

    name: str = Field(description="ft:<base>:<suffix>:<job-id>, the model name clients use.")
    base_model: str = Field(description="Served name of the base model it was trained on.")
    job_id: str | None = None
    owner: str | None = Field(None, description="Name of the API key owner that created it.")
    rank: int
    alpha: float
    target_modules: list[str]
    chat_template_hash: str | None = None
    metrics: dict[str, Any] = Field(default_factory=dict)
    artifact_dir: str = Field("", description="Folder vLLM loads; set by the registry.")
    created_at: datetime = Field(default_factory=lambda: datetime.now(UTC))

    @property
    def created_unix(self) -> int:
        return int(self.created_at.timestamp())


def adapter_name(base_model: str, suffix: str, job_id: str) -> str:
    return f"{ADAPTER_PREFIX}{base_model}:{suffix}:{job_id}"


def is_adapter_name(model: str) -> bool:
    return model.startswith(ADAPTER_PREFIX)


def check_suffix(suffix: str) -> str | None:
    """None when ``suffix`` is usable in an adapter name, else what is wrong with it."""
    if _SUFFIX.match(suffix):
        return None
    return (
        "suffix must be 1-40 characters of letters, digits, '.', '_' or '-', "
        "starting with a letter or digit"
    )
