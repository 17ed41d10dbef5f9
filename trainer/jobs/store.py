"""The job store: uploaded files, jobs and their state changes, events and checkpoints.

Each method is one short transaction, committed before it returns, so a state change is on
disk before anyone acts on it. State changes are conditional ``UPDATE ... WHERE status IN
(...)`` statements whose row count says whether this caller won: two workers racing for one
job, or a cancel racing a worker, never both succeed.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from typing import Any

from sqlalchemy import CursorResult, func, select, update

from trainer.jobs.db import Database
from trainer.jobs.pages import Page, newest_first
from trainer.jobs.states import (
    ACTIVE,
    CANCELLED,
    FAILED,
    QUEUED,
    TERMINAL,
    UPLOADED,
    VALIDATING,
    new_id,
)
from trainer.jobs.tables import CheckpointRow, EventRow, FileRow, JobRow


def now() -> int:
    return int(time.time())


class FileStore:
    def __init__(self, db: Database) -> None:
        self.db = db

    def add(self, row: FileRow) -> FileRow:
        with self.db.session() as session, session.begin():
            session.add(row)
        return row

    def get(self, file_id: str) -> FileRow | None:
        with self.db.session() as session:
            return session.scalar(select(FileRow).where(FileRow.id == file_id))

    def page(
        self, purpose: str | None, after: str | None, limit: int, owner: str | None = None
    ) -> Page[FileRow]:
        """A page of files (of ``owner`` only, when given)."""
        where = [FileRow.purpose == purpose] if purpose else []
        if owner is not None:
            where.append(FileRow.owner == owner)
        with self.db.session() as session:
            return newest_first(session, FileRow, where, after, limit)

    def unchecked(self, stale_before: float, limit: int = 10) -> list[str]:
        """Ids of uploaded files that nobody is checking (or whose checker went quiet)."""
        waiting = (FileRow.checked_at.is_(None)) | (FileRow.checked_at < stale_before)
        query = select(FileRow.id).where(FileRow.status == UPLOADED, waiting)
        with self.db.session() as session:
            return list(session.scalars(query.order_by(FileRow.seq).limit(limit)))

    def claim(self, file_id: str, checker: str, stale_before: float) -> bool:
        """Take the check of an uploaded file; True when this ``checker`` won it."""
        waiting = (FileRow.checked_at.is_(None)) | (FileRow.checked_at < stale_before)
        return self._update(
            [FileRow.id == file_id, FileRow.status == UPLOADED, waiting],
            checker=checker,
            checked_at=time.time(),
        )

    def still_checking(self, file_id: str, checker: str) -> bool:
        """Refresh ``checker``'s claim; False when it lost it."""
        mine = [FileRow.id == file_id, FileRow.status == UPLOADED, FileRow.checker == checker]
        return self._update(mine, checked_at=time.time())

    def checked(self, file_id: str, checker: str, **values: Any) -> bool:
        """Record the check's outcome (status, format, counts, path) if ``checker`` holds it."""
        mine = [FileRow.id == file_id, FileRow.status == UPLOADED, FileRow.checker == checker]
        return self._update(mine, **values)

    def _update(self, where: list[Any], **values: Any) -> bool:
        with self.db.session() as session, session.begin():
            query = update(FileRow).where(*where).values(**values)
            result: CursorResult[Any] = session.execute(query)  # type: ignore[assignment]
            return result.rowcount == 1

    def delete(self, file_id: str) -> bool:
        with self.db.session() as session, session.begin():
            row = session.scalar(select(FileRow).where(FileRow.id == file_id))
            if row is None:
                return False
            session.delete(row)
        return True


class JobStore:
    def __init__(self, db: Database) -> None:
        self.db = db

    def create(self, row: JobRow) -> JobRow:
        with self.db.session() as session, session.begin():
            session.add(row)
        return row

    def get(self, job_id: str) -> JobRow | None:
        with self.db.session() as session:
            return session.scalar(select(JobRow).where(JobRow.id == job_id))

    def page(self, after: str | None, limit: int, owner: str | None = None) -> Page[JobRow]:
        """A page of jobs (of ``owner`` only, when given)."""
        where = [JobRow.owner == owner] if owner is not None else []
        with self.db.session() as session:
            return newest_first(session, JobRow, where, after, limit)

    def using_file(self, file_id: str) -> list[str]:
        """Ids of unfinished jobs that read ``file_id``."""
        uses = (JobRow.training_file == file_id) | (JobRow.validation_file == file_id)
        query = select(JobRow.id).where(uses, JobRow.status.not_in(TERMINAL))
        with self.db.session() as session:
            return list(session.scalars(query))

    def transition(self, job_id: str, allowed: Sequence[str], **values: Any) -> bool:
        """Set ``values`` on the job if its status is one of ``allowed``; True if it was."""
        query = (
            update(JobRow).where(JobRow.id == job_id, JobRow.status.in_(allowed)).values(**values)
        )
        with self.db.session() as session, session.begin():
            result: CursorResult[Any] = session.execute(query)  # type: ignore[assignment]
            return result.rowcount == 1

    def owned_transition(self, job_id: str, holder: str, /, **values: Any) -> bool:
        """Like ``transition`` from an active status, only while ``holder`` (a worker id)
        holds the job."""
        query = (
            update(JobRow)
            .where(JobRow.id == job_id, JobRow.status.in_(ACTIVE), JobRow.worker_id == holder)
            .values(**values)
        )
        with self.db.session() as session, session.begin():
            result: CursorResult[Any] = session.execute(query)  # type: ignore[assignment]
            return result.rowcount == 1

    def claim_next(self, worker_id: str) -> JobRow | None:
        """Take the oldest queued job for ``worker_id``; None when there is none to take."""
        for _ in range(10):  # another worker may win each race; try the next job
            with self.db.session() as session:
                query = select(JobRow.id).where(JobRow.status == QUEUED).order_by(JobRow.seq)
                job_id = session.scalar(query.limit(1))
            if job_id is None:
                return None
            if self._take(job_id, [QUEUED], worker_id, None):
                return self.get(job_id)
        return None

    def claim_stale(self, worker_id: str, stale_after_s: float) -> JobRow | None:
        """Take over an active job whose worker stopped sending heartbeats."""
        limit = time.time() - stale_after_s
        query = select(JobRow).where(JobRow.status.in_(ACTIVE), JobRow.heartbeat_at < limit)
        with self.db.session() as session:
            stale = list(session.scalars(query.order_by(JobRow.seq).limit(10)))
        for row in stale:
            if self._take(row.id, ACTIVE, worker_id, row.heartbeat_at):
                return self.get(row.id)
        return None

    def _take(
        self, job_id: str, allowed: Sequence[str], worker_id: str, heartbeat: float | None
    ) -> bool:
        conditions = [JobRow.id == job_id, JobRow.status.in_(allowed)]
        if heartbeat is not None:  # nobody else took it over since we looked
            conditions.append(JobRow.heartbeat_at == heartbeat)
        query = (
            update(JobRow)
            .where(*conditions)
            .values(
                status=VALIDATING,
                worker_id=worker_id,
                heartbeat_at=time.time(),
                attempts=JobRow.attempts + 1,
                started_at=func.coalesce(JobRow.started_at, now()),
            )
        )
        with self.db.session() as session, session.begin():
            result: CursorResult[Any] = session.execute(query)  # type: ignore[assignment]
            return result.rowcount == 1

    def release(self, job_id: str, worker_id: str) -> bool:
        """Hand a job this worker holds back to the queue (the worker is stopping): the
        next worker resumes it from its checkpoint, and this run does not count as an
        attempt. False when the job is not this worker's any more."""
        values = {
            "status": QUEUED,
            "worker_id": None,
            "heartbeat_at": None,
            "attempts": JobRow.attempts - 1,
            "handbacks": JobRow.handbacks + 1,
        }
        return self.owned_transition(job_id, worker_id, **values)

    def heartbeat(self, job_id: str, worker_id: str) -> bool:
        """Refresh the heartbeat; False when the job is no longer this worker's to run."""
        return self.owned_transition(job_id, worker_id, heartbeat_at=time.time())

    def cancel(self, job_id: str) -> bool:
        """Cancel a job that has not finished; the worker sees it and stops within seconds."""
        allowed = [QUEUED, *ACTIVE]
        return self.transition(job_id, allowed, status=CANCELLED, finished_at=now())

    def fail(self, job_id: str, code: str, message: str, worker_id: str | None = None) -> bool:
        values: dict[str, Any] = {
            "status": FAILED,
            "finished_at": now(),
            "error": {"code": code, "message": message, "param": None},
        }
        if worker_id is None:
            return self.transition(job_id, [QUEUED, *ACTIVE], **values)
        return self.owned_transition(job_id, worker_id, **values)


class JobLog:
    """Events and checkpoints of jobs."""

    def __init__(self, db: Database) -> None:
        self.db = db

    def event(
        self,
        job_id: str,
        message: str,
        *,
        level: str = "info",
        type: str = "message",
        data: dict[str, Any] | None = None,
    ) -> EventRow:
        row = EventRow(
            id=new_id("ftevent"),
            job_id=job_id,
            created_at=now(),
            level=level,
            type=type,
            message=message.replace("\x00", "\\x00"),  # may quote a dataset; PostgreSQL refuses NUL
            data=data,
        )
        with self.db.session() as session, session.begin():
            session.add(row)
        return row

    def events(self, job_id: str, after: str | None, limit: int) -> Page[EventRow]:
        with self.db.session() as session:
            return newest_first(session, EventRow, [EventRow.job_id == job_id], after, limit)

    def events_since(self, job_id: str, seq: int) -> list[EventRow]:
        """Events after ``seq``, oldest first (for streaming)."""
        query = select(EventRow).where(EventRow.job_id == job_id, EventRow.seq > seq)
        with self.db.session() as session:
            return list(session.scalars(query.order_by(EventRow.seq)))

    def said(self, job_id: str, message_like: str) -> bool:
        """Whether the job has an event whose message matches the SQL LIKE pattern."""
        query = select(EventRow.id).where(
            EventRow.job_id == job_id, EventRow.message.like(message_like)
        )
        with self.db.session() as session:
            return session.scalar(query.limit(1)) is not None

    def checkpoint(self, job_id: str, step: int, metrics: dict[str, Any], path: str) -> None:
        row = CheckpointRow(
            id=new_id("ftckpt"),
            job_id=job_id,
            step=step,
            created_at=now(),
            metrics=metrics,
            path=path,
        )
        with self.db.session() as session, session.begin():
            session.add(row)

    def checkpoints(self, job_id: str, after: str | None, limit: int) -> Page[CheckpointRow]:
        with self.db.session() as session:
            where = [CheckpointRow.job_id == job_id]
            return newest_first(session, CheckpointRow, where, after, limit)


class Store:
    """The whole job store over one database."""

    def __init__(self, url: str) -> None:
        self.db = Database(url)
        self.files = FileStore(self.db)
        self.jobs = JobStore(self.db)
        self.log = JobLog(self.db)

    def close(self) -> None:
        self.db.close()
