"""What the worker and its training processes need to know (no gateway settings here)."""

from __future__ import annotations

import os
import socket
import uuid
from dataclasses import dataclass, field
from pathlib import Path


def new_worker_id() -> str:
    return f"{socket.gethostname()}-{os.getpid()}-{uuid.uuid4().hex[:6]}"


@dataclass(frozen=True)
class WorkerConfig:
    """Plain values, so it can be pickled into a spawned training process."""

    database_url: str
    data_dir: Path
    base_model_path: str
    max_lora_rank: int
    make_default_model: bool = False
    """Create the embedded default model at ``base_model_path`` when it is missing."""
    heartbeat_s: float = 2.0
    stale_after_s: float = 30.0
    """A job whose heartbeat is older than this is taken over by another worker."""
    max_attempts: int = 3
    """Runs of a job (first one and resumptions) before it is failed."""
    poll_s: float = 1.0
    cancel_grace_s: float = 15.0
    """How long a cancelled job's training process may take to stop before it is killed."""
    handback_grace_s: float = 4.0
    """On SIGTERM, how long the training process gets to checkpoint and hand its job back
    before the worker kills it and hands the job back itself (from the last checkpoint)."""
    eval_max_new_tokens: int = 32
    eval_max_examples: int = 500
    """The before/after evaluation uses at most this many test examples."""
    worker_id: str = field(default_factory=new_worker_id)

    @property
    def jobs_dir(self) -> Path:
        return self.data_dir / "jobs"

    @property
    def adapters_dir(self) -> Path:
        return self.data_dir / "adapters"

    def job_dir(self, job_id: str) -> Path:
        return self.jobs_dir / job_id
