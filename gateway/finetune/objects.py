"""Response bodies of the Files and fine-tuning Jobs APIs (OpenAI's objects)."""

from __future__ import annotations

from typing import Any, Generic, Literal, TypeVar

from pydantic import BaseModel, ConfigDict, Field

ItemT = TypeVar("ItemT")


class Page(BaseModel, Generic[ItemT]):
    """One page of a listing, oldest first; ``after=last_id`` reads the next one."""

    object: Literal["list"] = "list"
    data: list[ItemT]
    has_more: bool
    first_id: str | None
    last_id: str | None


class FileObject(BaseModel):
    id: str
    object: Literal["file"] = "file"
    bytes: int
    created_at: int
    filename: str
    purpose: str
    status: Literal["uploaded", "processed", "error"] = Field(
        description="`uploaded`: stored, still being checked (files over 8 MiB are checked "
        "after the upload answers); `processed`: usable; `error`: unusable, see "
        "`status_details`."
    )
    status_details: str | None = Field(
        None, description="Why the file is unusable (status `error`): each problem by line."
    )
    expires_at: int | None = None
    format: str | None = Field(description="The dataset's format, as read (chat, ...).")
    examples: int | None = Field(description="Usable examples in the file.")
    tokens: int | None = Field(description="Tokens, counted with the base model's tokenizer.")


class FileReport(BaseModel):
    """A dataset's quality report; its sections (duplicates, conflicts, lengths, ...) are
    the fields after these three."""

    model_config = ConfigDict(extra="allow")

    object: Literal["file.report"] = "file.report"
    file_id: str
    filename: str


class DeletedFile(BaseModel):
    id: str
    object: Literal["file"] = "file"
    deleted: bool


class JobMethod(BaseModel):
    type: Literal["supervised"] = "supervised"
    supervised: dict[str, Any]


class FineTuningJob(BaseModel):
    id: str
    object: Literal["fine_tuning.job"] = "fine_tuning.job"
    model: str
    created_at: int
    finished_at: int | None
    fine_tuned_model: str | None
    organization_id: str
    result_files: list[str]
    status: str = Field(description="queued, running, succeeded, failed or cancelled.")
    training_file: str
    validation_file: str | None
    hyperparameters: dict[str, Any] = Field(description="Every hyperparameter, resolved.")
    trained_tokens: int | None
    error: dict[str, Any] | None
    seed: int
    estimated_finish: int | None
    integrations: list[Any]
    metadata: dict[str, str] | None
    user_provided_suffix: str | None
    method: JobMethod
    lora: dict[str, Any] = Field(description="The LoRA parameters the job trains with.")
    auto_hyperparameters: dict[str, Any] | None = Field(
        description="Which values were 'auto' and what they were resolved from."
    )
    result: dict[str, Any] | None = Field(description="Evaluation before/after, when done.")


class JobEvent(BaseModel):
    id: str
    object: Literal["fine_tuning.job.event"] = "fine_tuning.job.event"
    created_at: int
    level: str
    message: str
    type: str
    data: dict[str, Any]


class JobCheckpoint(BaseModel):
    id: str
    object: Literal["fine_tuning.job.checkpoint"] = "fine_tuning.job.checkpoint"
    created_at: int
    fine_tuned_model_checkpoint: str
    fine_tuning_job_id: str
    step_number: int
    metrics: dict[str, Any]


class FileList(Page[FileObject]):
    pass


class JobList(Page[FineTuningJob]):
    pass


class EventList(Page[JobEvent]):
    pass


class CheckpointList(Page[JobCheckpoint]):
    pass
