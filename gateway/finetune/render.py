"""Store rows -> OpenAI objects: ``file``, ``fine_tuning.job``, its events and checkpoints."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TypeVar, cast

from gateway.finetune.objects import (
    FileObject,
    FineTuningJob,
    JobCheckpoint,
    JobEvent,
    JobMethod,
    Page,
)
from trainer.jobs.spec import JobSpec
from trainer.jobs.states import FileStatus
from trainer.jobs.tables import CheckpointRow, EventRow, FileRow, JobRow

RowT = TypeVar("RowT")
ItemT = TypeVar("ItemT", FileObject, FineTuningJob, JobEvent, JobCheckpoint)
PageT = TypeVar("PageT", bound=Page)  # type: ignore[type-arg]

OPENAI_HYPERPARAMETERS = ("n_epochs", "batch_size", "learning_rate_multiplier")


def file_object(row: FileRow) -> FileObject:
    return FileObject(
        id=row.id, bytes=row.bytes, created_at=row.created_at, filename=row.filename,
        purpose=row.purpose, status=cast(FileStatus, row.status), status_details=row.status_details,
        format=row.format, examples=row.examples, tokens=row.tokens,
    )  # fmt: skip


def job_object(row: JobRow) -> FineTuningJob:
    spec = JobSpec.model_validate(row.hyperparameters)
    hyperparameters = spec.model_dump(exclude={"lora", "auto"})
    supervised = {key: hyperparameters[key] for key in OPENAI_HYPERPARAMETERS}
    return FineTuningJob(
        id=row.id, model=row.model, created_at=row.created_at, finished_at=row.finished_at,
        fine_tuned_model=row.fine_tuned_model, organization_id="loragate", result_files=[],
        status=row.status, training_file=row.training_file,
        validation_file=row.validation_file, hyperparameters=hyperparameters,
        trained_tokens=row.trained_tokens, error=row.error, seed=row.seed,
        estimated_finish=row.estimated_finish, integrations=[], metadata=None,
        user_provided_suffix=row.suffix,
        method=JobMethod(supervised={"hyperparameters": supervised}),
        lora=spec.lora.model_dump(), auto_hyperparameters=spec.auto, result=row.result,
    )  # fmt: skip


def event_object(row: EventRow) -> JobEvent:
    return JobEvent(
        id=row.id, created_at=row.created_at, level=row.level, message=row.message,
        type=row.type, data=row.data or {},
    )  # fmt: skip


def checkpoint_object(row: CheckpointRow, fine_tuned_model: str) -> JobCheckpoint:
    metrics = dict(row.metrics)
    metrics["valid_loss"] = metrics["full_valid_loss"] = metrics.get("eval_loss")
    return JobCheckpoint(
        id=row.id,
        created_at=row.created_at,
        fine_tuned_model_checkpoint=f"{fine_tuned_model}:ckpt-step-{row.step}",
        fine_tuning_job_id=row.job_id,
        step_number=row.step,
        metrics=metrics,
    )


def list_object(
    page: type[PageT], rows: Sequence[RowT], has_more: bool, render: Callable[[RowT], ItemT]
) -> PageT:
    data = [render(row) for row in rows]
    return page(
        data=data,
        has_more=has_more,
        first_id=data[0].id if data else None,
        last_id=data[-1].id if data else None,
    )
