"""Request bodies of the fine-tuning endpoints.

One body serves ``POST /v1/fine_tuning/jobs`` (OpenAI's current shape, ``method`` included,
so the official SDK works) and ``POST /v1/fine_tunes`` (the design card's, with ``lora``).
Types and sizes are checked here (400 naming the field); values are checked when the job
is created (400, listing every problem), so a bad number never queues a job.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from gateway.api.fields import LIMIT_MAX, NAME_MAX_CHARS, NO_CONTROL, ModelName

Auto = Literal["auto"]


class Hyperparameters(BaseModel):
    model_config = ConfigDict(extra="forbid")

    n_epochs: int | Auto | None = None
    batch_size: int | Auto | None = None
    learning_rate_multiplier: float | Auto | None = None
    learning_rate: float | None = Field(
        None, description="Peak learning rate (before the multiplier)."
    )
    max_seq_len: int | None = Field(None, description="Tokens kept per conversation.")
    eval_every_steps: int | None = Field(None, description="Evaluate + checkpoint every N steps.")
    early_stopping_patience: int | None = Field(
        None, description="Stop after N evaluations without a lower eval loss."
    )


class LoraParams(BaseModel):
    model_config = ConfigDict(extra="forbid")

    r: int | None = None
    alpha: int | None = None
    dropout: float | None = None
    target_modules: str | list[str] | None = None
    modules_to_save: list[str] | None = None


class SupervisedMethod(BaseModel):
    hyperparameters: Hyperparameters | None = None


class Method(BaseModel):
    model_config = ConfigDict(extra="allow")

    type: str = "supervised"
    supervised: SupervisedMethod | None = None


class JobCreate(BaseModel):
    """A new fine-tuning job. Unknown top-level fields (integrations, metadata) are ignored."""

    model_config = ConfigDict(extra="ignore")

    model: ModelName
    training_file: str = Field(min_length=1, max_length=NAME_MAX_CHARS, pattern=NO_CONTROL)
    validation_file: str | None = Field(None, max_length=NAME_MAX_CHARS, pattern=NO_CONTROL)
    suffix: str | None = Field(None, max_length=NAME_MAX_CHARS, pattern=NO_CONTROL)
    seed: int | None = Field(None, ge=0, le=LIMIT_MAX)
    hyperparameters: Hyperparameters | None = None
    method: Method | None = None
    lora: LoraParams | None = None
