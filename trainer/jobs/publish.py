"""Publishing a job's best adapter to the registry, once it passes the engine's checks."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from adapters.compat import check_adapter_dir
from adapters.record import AdapterRecord, adapter_name
from adapters.registry import AdapterNotFound, AdapterRegistry


class NotPublishable(RuntimeError):
    """The trained adapter is one the engine would refuse."""


def publish_adapter(
    adapter_dir: Path,
    registry_dir: Path,
    *,
    base_model: str,
    suffix: str,
    job_id: str,
    max_lora_rank: int,
    chat_template_hash: str | None,
    metrics: dict[str, Any],
    owner: str | None = None,
) -> AdapterRecord:
    """Check and publish; a job resumed after publishing gets the adapter it already has.
    ``owner`` (the job's) is the only user, besides admins, who may see and use it."""
    problems = check_adapter_dir(adapter_dir, max_lora_rank)
    if problems:
        raise NotPublishable("; ".join(problems))
    registry = AdapterRegistry(registry_dir)
    name = adapter_name(base_model, suffix, job_id)
    try:
        return registry.get(name)
    except AdapterNotFound:
        pass
    config = json.loads((adapter_dir / "adapter_config.json").read_text())
    targets = config.get("target_modules") or []
    record = AdapterRecord(
        name=name,
        base_model=base_model,
        job_id=job_id,
        owner=owner,
        rank=int(config["r"]),
        alpha=float(config.get("lora_alpha", config["r"])),
        target_modules=[targets] if isinstance(targets, str) else sorted(targets),
        chat_template_hash=chat_template_hash,
        metrics=metrics,
    )
    return registry.publish(adapter_dir, record)
