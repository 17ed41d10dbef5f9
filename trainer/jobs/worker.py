"""The worker: claims jobs from the store and runs each in a spawned training process.

While the training process runs, the worker keeps the job's heartbeat fresh. A job whose
heartbeat goes stale (its worker was killed) is taken over by the next worker that looks,
which resumes it from its last checkpoint, or fails it after ``max_attempts`` runs.
A worker asked to stop (``stop()``, on SIGTERM) hands its job back instead: the training
process checkpoints and puts the job back in the queue (the worker does it if the process
has not within ``handback_grace_s``), and the next worker resumes it at once; a handback
does not count as an attempt.
Cancelling is a status change in the store: the training process sees it and stops; the
worker kills it if it has not stopped after ``cancel_grace_s``.
"""

from __future__ import annotations

import contextlib
import logging
import multiprocessing
import os
import signal
import threading
import time
from multiprocessing.process import BaseProcess

from trainer.jobs.config import WorkerConfig
from trainer.jobs.runner import run_job
from trainer.jobs.states import ACTIVE
from trainer.jobs.store import Store
from trainer.jobs.tables import JobRow

log = logging.getLogger("loragate.worker")


class Worker:
    def __init__(self, config: WorkerConfig, store: Store | None = None) -> None:
        self.config = config
        self.store = store or Store(config.database_url)
        self.stopping = threading.Event()
        self._context = multiprocessing.get_context("spawn")
        self._training: BaseProcess | None = None
        self._stopped_at: float | None = None

    def run_forever(self) -> None:
        """Run jobs until ``stop()``; between jobs, wait ``poll_s`` for new ones."""
        log.info("worker %s waiting for jobs", self.config.worker_id)
        while not self.stopping.is_set():
            if not self.run_once():
                self.stopping.wait(self.config.poll_s)

    def stop(self) -> None:
        """Take no new job; ask the running one's training process to checkpoint and hand
        the job back (safe to call from a signal handler)."""
        self._stopped_at = self._stopped_at or time.monotonic()
        self.stopping.set()
        training = self._training
        if training is not None and training.pid is not None:
            with contextlib.suppress(ProcessLookupError):
                os.kill(training.pid, signal.SIGTERM)

    def run_once(self) -> bool:
        """Claim one job and run it to its end; False when there was nothing to do."""
        job = None if self.stopping.is_set() else self.next_job()
        if job is None:
            return False
        self.run(job)
        return True

    def next_job(self) -> JobRow | None:
        """A job abandoned by a dead worker first, else the oldest queued one."""
        jobs, me = self.store.jobs, self.config.worker_id
        while (stale := jobs.claim_stale(me, self.config.stale_after_s)) is not None:
            if stale.attempts <= self.config.max_attempts:
                message = f"Worker {me} took over the job (run {stale.attempts}); resuming"
                self.store.log.event(stale.id, message, level="warn")
                return stale
            reason = (
                f"The job was interrupted {stale.attempts - 1} times (its worker stopped); "
                "giving up. Start a new job to try again."
            )
            if jobs.fail(stale.id, "too_many_interruptions", reason, me):
                self.store.log.event(stale.id, f"Job failed: {reason}", level="error")
        return jobs.claim_next(me)

    def run(self, job: JobRow) -> None:
        log.info("running %s (run %d)", job.id, job.attempts)
        self.store.log.event(job.id, f"Job claimed by worker {self.config.worker_id}")
        process = self._context.Process(
            target=run_job, args=(self.config, job.id), name=f"train-{job.id}", daemon=True
        )
        process.start()
        self._training = process
        if self.stopping.is_set():
            self.stop()  # the stop came while the process was starting
        try:
            self._watch(job.id, process)
        finally:
            self._training = None
        self._settle(job.id, process.exitcode)

    def _watch(self, job_id: str, process: BaseProcess) -> None:
        """Heartbeat until the process ends; kill it when it outlives a cancel (the job is no
        longer ours) or a stop by their grace times."""
        lost_at: float | None = None
        while process.is_alive():
            process.join(0.1 if self.stopping.is_set() else self.config.heartbeat_s)
            if not process.is_alive():
                break
            if self._past_handback_grace():
                log.warning("%s did not hand its job back in time; killing it", job_id)
                process.kill()
                process.join()
                break
            if self.store.jobs.heartbeat(job_id, self.config.worker_id):
                continue
            lost_at = lost_at or time.monotonic()
            if time.monotonic() - lost_at > self.config.cancel_grace_s:
                log.warning("%s did not stop after cancel; killing it", job_id)
                process.kill()
                process.join()

    def _past_handback_grace(self) -> bool:
        stopped_at = self._stopped_at
        return (
            stopped_at is not None and time.monotonic() - stopped_at > self.config.handback_grace_s
        )

    def _settle(self, job_id: str, exitcode: int | None) -> None:
        """A process that died without finishing its job fails it (not for a cancel)."""
        job = self.store.jobs.get(job_id)
        if job is None or job.status not in ACTIVE or job.worker_id != self.config.worker_id:
            log.info("%s ended %s", job_id, job.status if job else "deleted")
            return
        if self.stopping.is_set():
            self._hand_back(job_id)
            return
        reason = (
            f"The training process exited unexpectedly (exit code {exitcode}); "
            "see the worker log. Check the dataset and hyperparameters, then start a new job."
        )
        if self.store.jobs.fail(job_id, "training_process_died", reason, self.config.worker_id):
            self.store.log.event(job_id, f"Job failed: {reason}", level="error")

    def _hand_back(self, job_id: str) -> None:
        """The training process stopped without handing the job back: do it for it."""
        if self.store.jobs.release(job_id, self.config.worker_id):
            message = (
                f"Worker {self.config.worker_id} stopped; the job is back in the queue and "
                "resumes from its last checkpoint"
            )
            self.store.log.event(job_id, message, level="warn")
