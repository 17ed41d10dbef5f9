"""Store rows -> OpenAI objects: ``file``, ``fine_tuning.job``, its events and checkpoints."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, TypeVar

from trainer.jobs.spec import JobSpec
from trainer.jobs.tables import CheckpointRow, EventRow, FileRow, JobRow

RowT = TypeVar("RowT")

OPENAI_HYPERPARAMETERS = ("n_epochs", "batch_size", "learning_rate_multiplier")


def file_object(row: FileRow) -> dict[str, Any]:
    return {
        "id": row.id,
        "object": "file",
        "bytes": row.bytes,
        "created_at": row.created_at,
        "filename": row.filename,
        "purpose": row.purpose,
        "status": row.status,
        "status_details": None,
        "expires_at": None,
        "format": row.format,
        "examples": row.examples,
        "tokens": row.tokens,
    }


def job_object(row: JobRow) -> dict[str, Any]:
    spec = JobSpec.model_validate(row.hyperparameters)
    hyperparameters = spec.model_dump(exclude={"lora", "auto"})
    supervised = {key: hyperparameters[key] for key in OPENAI_HYPERPARAMETERS}
    return {
        "id": row.id,
        "object": "fine_tuning.job",
        "model": row.model,
        "created_at": row.created_at,
        "finished_at": row.finished_at,
        "fine_tuned_model": row.fine_tuned_model,
        "organization_id": "loragate",
        "result_files": [],
        "status": row.status,
        "training_file": row.training_file,
        "validation_file": row.validation_file,
        "hyperparameters": hyperparameters,
        "trained_tokens": row.trained_tokens,
        "error": row.error,
        "seed": row.seed,
        "estimated_finish": row.estimated_finish,
        "integrations": [],
        "metadata": None,
        "user_provided_suffix": row.suffix,
        "method": {"type": "supervised", "supervised": {"hyperparameters": supervised}},
        "lora": spec.lora.model_dump(),
        "auto_hyperparameters": spec.auto,
        "result": row.result,
    }


def event_object(row: EventRow) -> dict[str, Any]:
    return {
        "id": row.id,
        "object": "fine_tuning.job.event",
        "created_at": row.created_at,
        "level": row.level,
        "message": row.message,
        "type": row.type,
        "data": row.data or {},
    }


def checkpoint_object(row: CheckpointRow, fine_tuned_model: str) -> dict[str, Any]:
    metrics = dict(row.metrics)
    metrics["valid_loss"] = metrics["full_valid_loss"] = metrics.get("eval_loss")
    return {
        "id": row.id,
        "object": "fine_tuning.job.checkpoint",
        "created_at": row.created_at,
        "fine_tuned_model_checkpoint": f"{fine_tuned_model}:ckpt-step-{row.step}",
        "fine_tuning_job_id": row.job_id,
        "step_number": row.step,
        "metrics": metrics,
    }


def list_object(
    rows: Sequence[RowT], has_more: bool, render: Callable[[RowT], dict[str, Any]]
) -> dict[str, Any]:
    data = [render(row) for row in rows]
    return {
        "object": "list",
        "data": data,
        "has_more": has_more,
        "first_id": data[0]["id"] if data else None,
        "last_id": data[-1]["id"] if data else None,
    }
