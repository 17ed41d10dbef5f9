"""Job statuses (OpenAI's names) and ids."""

from __future__ import annotations

import secrets
from typing import Literal

JobStatus = Literal["validating_files", "queued", "running", "succeeded", "failed", "cancelled"]

QUEUED: JobStatus = "queued"
VALIDATING: JobStatus = "validating_files"
RUNNING: JobStatus = "running"
SUCCEEDED: JobStatus = "succeeded"
FAILED: JobStatus = "failed"
CANCELLED: JobStatus = "cancelled"

ACTIVE: tuple[JobStatus, ...] = (VALIDATING, RUNNING)
"""Claimed by a worker, which must keep the heartbeat fresh."""
TERMINAL: tuple[JobStatus, ...] = (SUCCEEDED, FAILED, CANCELLED)

FileStatus = Literal["uploaded", "processed", "error"]
UPLOADED: FileStatus = "uploaded"
"""Stored, still being checked (large files are checked after the upload's answer)."""
PROCESSED: FileStatus = "processed"
FILE_ERROR: FileStatus = "error"
"""Checked and unusable: ``status_details`` lists the problems."""


def new_id(prefix: str) -> str:
    """``file-...``, ``ftjob-...``, ``ftevent-...``: a prefix and 24 random hex digits."""
    return f"{prefix}-{secrets.token_hex(12)}"
