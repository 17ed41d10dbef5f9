"""A job whose files are still being checked (large uploads are checked after the upload
answers) waits in ``validating_files`` until they are, then trains, or fails with the
files' problems. It stops waiting when it is cancelled or its worker is stopping."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

from trainer.jobs.states import ACTIVE, FILE_ERROR, UPLOADED
from trainer.jobs.store import Store
from trainer.jobs.tables import JobRow

POLL_S = 1.0


@dataclass(frozen=True)
class FileProblem:
    param: str
    file_id: str
    details: str


def files_of(job: JobRow) -> list[tuple[str, str]]:
    files = [("training_file", job.training_file)]
    if job.validation_file:
        files.append(("validation_file", job.validation_file))
    return files


def wait_for_files(
    store: Store,
    job: JobRow,
    worker_id: str,
    stopping: Callable[[], bool],
    say: Callable[[str], None],
    poll_s: float = POLL_S,
) -> bool:
    """Wait until none of the job's files is ``uploaded``; False when the job is no longer
    this worker's to run (cancelled, taken over) or ``stopping()`` said so first."""
    told: set[str] = set()
    while True:
        waiting = [(p, f) for p, f in files_of(job) if _status(store, f) == UPLOADED]
        if not waiting:
            return True
        for param, file_id in waiting:
            if file_id not in told:
                say(f"Waiting for the {param} {file_id} to be checked (it is still uploaded)")
                told.add(file_id)
        current = store.jobs.get(job.id)
        if current is None or current.status not in ACTIVE or current.worker_id != worker_id:
            return False
        if stopping():
            return False
        time.sleep(poll_s)


def file_problems(store: Store, job: JobRow) -> list[FileProblem]:
    """The job's files that were checked and found unusable, with why."""
    problems = []
    for param, file_id in files_of(job):
        row = store.files.get(file_id)
        if row is not None and row.status == FILE_ERROR:
            problems.append(FileProblem(param, file_id, row.status_details or ""))
    return problems


def _status(store: Store, file_id: str) -> str | None:
    row = store.files.get(file_id)
    return row.status if row is not None else None
