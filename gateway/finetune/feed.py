"""Shared live reads of running jobs: one store read per job per interval, for every viewer.

Each job page, events stream and metrics poll asks :class:`JobFeed` for the job's
:class:`JobSnapshot`. A snapshot younger than ``interval_s`` is answered from memory; an
older one is refreshed by one reader (the others wait for it and share the result), which
reads the job row and only the events after the last one already held. So 50 viewers of one
job cost the database what one viewer does (per gateway process).
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass, field

import anyio

from gateway.finetune.series import LossCurves
from trainer.jobs.states import TERMINAL
from trainer.jobs.store import Store
from trainer.jobs.tables import EventRow, JobRow

IDLE_EVICT_S = 120.0


@dataclass
class JobSnapshot:
    """What was last read of one job: its row and every event so far, oldest first."""

    job: JobRow | None
    events: list[EventRow] = field(default_factory=list)
    curves: LossCurves = field(default_factory=LossCurves)
    """The loss curves of ``events``, kept up to date as events are read."""
    read_at: float = 0.0
    used_at: float = 0.0
    version: int = 0
    """Bumped by every read that found something new, so what is derived from a snapshot
    can be cached by it."""
    settled: bool = False
    """Ended, and read again after that: nothing about it can change any more."""

    @property
    def ended(self) -> bool:
        return self.job is None or self.job.status in TERMINAL

    @property
    def last_seq(self) -> int:
        return self.events[-1].seq if self.events else 0


class JobFeed:
    """Per-process cache of live job state, refreshed at most once per ``interval_s``."""

    def __init__(self, store: Store, interval_s: float = 0.5) -> None:
        self.store = store
        self.interval_s = interval_s
        self.reads = 0  # store reads done (a job row and its new events count as one)
        self._snapshots: dict[str, JobSnapshot] = {}
        self._locks: dict[str, asyncio.Lock] = {}

    async def snapshot(self, job_id: str) -> JobSnapshot:
        """The job as read at most ``interval_s`` ago (read now if older)."""
        now = time.monotonic()
        held = self._snapshots.get(job_id)
        if held is None or (not held.settled and now - held.read_at >= self.interval_s):
            lock = self._locks.setdefault(job_id, asyncio.Lock())
            async with lock:  # one reader refreshes; the rest find it fresh afterwards
                held = self._snapshots.get(job_id)
                if held is None or time.monotonic() - held.read_at >= self.interval_s:
                    held = await self._refresh(job_id, held)
        held.used_at = time.monotonic()
        self._evict_idle(held.used_at)
        return held

    async def _refresh(self, job_id: str, held: JobSnapshot | None) -> JobSnapshot:
        after = held.last_seq if held else 0
        job, new = await anyio.to_thread.run_sync(self._read, job_id, after)
        self.reads += 1
        snapshot = held or JobSnapshot(job=job)
        was_ended = held is not None and held.ended
        changed = held is None or bool(new) or _state(job) != _state(held.job)
        snapshot.job = job
        snapshot.events.extend(new)
        snapshot.curves.add(new)
        snapshot.settled = was_ended and snapshot.ended and not new
        snapshot.read_at = time.monotonic()
        snapshot.version += changed
        self._snapshots[job_id] = snapshot
        return snapshot

    def _read(self, job_id: str, after: int) -> tuple[JobRow | None, list[EventRow]]:
        return self.store.jobs.get(job_id), self.store.log.events_since(job_id, after)

    def _evict_idle(self, now: float) -> None:
        idle = [key for key, snap in self._snapshots.items() if now - snap.used_at > IDLE_EVICT_S]
        for key in idle:
            del self._snapshots[key]
            lock = self._locks.get(key)
            if lock is not None and not lock.locked():
                del self._locks[key]


def _state(job: JobRow | None) -> tuple[object, ...] | None:
    """What a viewer sees of the job row (to tell whether a read changed anything)."""
    if job is None:
        return None
    return (job.status, job.trained_tokens, job.estimated_finish, job.finished_at,
            job.fine_tuned_model, job.error, job.result)  # fmt: skip
