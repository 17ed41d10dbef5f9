"""Fine-tuning: the Files and Jobs APIs and the worker."""

from __future__ import annotations

from pydantic import BaseModel, Field


class FinetuneSettings(BaseModel):
    """The Files and fine-tuning Jobs APIs, and the worker that runs the jobs."""

    devices: list[int] = Field(
        default_factory=list,
        description="GPUs (indices) the fine-tuning worker uses; unset: the last GPU when "
        "there are more GPUs than engines, else it shares the first engine's GPU.",
    )
    memory_limit_gib: float | None = Field(
        None,
        description="Accelerator memory a job may use; a job estimated to need more is "
        "refused when created. Unset: set by `loragate up` from its GPU plan; none on the CPU.",
    )
    gpu_budget_gib: float = Field(
        24.0,
        gt=0,
        description="GPU memory left to the trainer when it shares a GPU with an engine.",
    )
    max_file_bytes: int = Field(
        100 * 1024 * 1024, ge=1, description="Largest dataset file /v1/files accepts."
    )
    worker: bool = Field(
        True,
        description="`loragate up` starts a fine-tuning worker; false: jobs stay queued until "
        "a `loragate worker` runs (e.g. on another host, or never: an API fuzzed in CI).",
    )
    heartbeat_s: float = Field(2.0, gt=0, description="How often a worker marks its job alive.")
    stale_after_s: float = Field(
        30.0, gt=0, description="A running job silent this long is taken over by a worker."
    )
    max_attempts: int = Field(3, ge=1, description="Runs of a job (with resumes) before failing.")
    poll_s: float = Field(1.0, gt=0, description="How often an idle worker looks for jobs.")
    cancel_grace_s: float = Field(
        15.0, gt=0, description="Time a cancelled job's trainer gets to stop before it is killed."
    )
    handback_grace_s: float = Field(
        4.0,
        gt=0,
        description="On SIGTERM, time the trainer gets to checkpoint before its job is handed "
        "back (the worker then exits; keep it well under Kubernetes' 30 s grace).",
    )
    eval_max_new_tokens: int = Field(
        32, ge=1, description="Answer length in the before/after exact-match evaluation."
    )
    eval_max_examples: int = Field(
        500, ge=1, description="Test examples used (at most) in the before/after evaluation."
    )
    check_at_upload_max_bytes: int = Field(
        8 * 1024 * 1024,
        ge=0,
        description="Files up to this size are checked (and get their quality report) before "
        "the upload answers, and a bad one is refused with 400; larger ones answer as soon "
        "as they are stored (status `uploaded`), then become `processed` or `error`.",
    )
