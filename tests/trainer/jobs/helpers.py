"""Helpers shared by the job store, worker, Files/Jobs API and fine-tune end-to-end tests."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from trainer.datasets import write_jsonl
from trainer.datasets.reviews import make_review_examples
from trainer.default_model import ensure_default_model
from trainer.jobs.config import WorkerConfig
from trainer.jobs.spec import JobSpec
from trainer.jobs.states import QUEUED, new_id
from trainer.jobs.store import Store, now
from trainer.jobs.tables import FileRow, JobRow

MODEL_NAME = "loragate-tiny"


def build_tiny_model(root: Path) -> Path:
    """The embedded default model, in a folder named like the served model."""
    return ensure_default_model(root / MODEL_NAME)


def write_reviews(path: Path, count: int, seed: int = 0) -> Path:
    write_jsonl(make_review_examples(count, seed=seed), path)
    return path


def add_file(store: Store, path: Path) -> FileRow:
    row = FileRow(
        id=new_id("file"), filename=path.name, purpose="fine-tune", bytes=path.stat().st_size,
        created_at=now(), path=str(path), status="processed",
    )  # fmt: skip
    return store.files.add(row)


def add_job(
    store: Store,
    training_file: str = "file-x",
    spec: JobSpec | None = None,
    owner: str | None = None,
) -> JobRow:
    row = JobRow(
        id=new_id("ftjob"), status=QUEUED, model=MODEL_NAME, training_file=training_file,
        suffix="reviews", seed=0, hyperparameters=(spec or JobSpec()).model_dump(),
        created_at=now(), attempts=0, owner=owner,
    )  # fmt: skip
    return store.jobs.create(row)


def quick_spec(epochs: int = 1, batch_size: int = 4, eval_every: int | None = None) -> JobSpec:
    """Hyperparameters that train the tiny model in seconds."""
    return JobSpec(
        n_epochs=epochs, batch_size=batch_size, learning_rate=2e-3, max_seq_len=128,
        eval_every_steps=eval_every,
    )  # fmt: skip


def worker_config(data_dir: Path, model: Path, **overrides: Any) -> WorkerConfig:
    values: dict[str, Any] = {
        "database_url": f"sqlite:///{data_dir / 'loragate.db'}",
        "data_dir": data_dir,
        "base_model_path": str(model),
        "max_lora_rank": 16,
        "heartbeat_s": 0.5,
        "stale_after_s": 3.0,
        "poll_s": 0.2,
        "cancel_grace_s": 10.0,
        "eval_max_new_tokens": 8,
    }
    return WorkerConfig(**(values | overrides))


def wait_until(check: Callable[[], Any], timeout_s: float, what: str, every_s: float = 0.2) -> Any:
    """Poll ``check`` until it returns something truthy; return that."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        value = check()
        if value:
            return value
        time.sleep(every_s)
    raise TimeoutError(f"not true after {timeout_s} s: {what}")
