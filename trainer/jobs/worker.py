"""The worker: claims jobs from the store and runs each in a spawned training process.

While the training process runs, the worker keeps the job's heartbeat fresh. A job whose
heartbeat goes stale (its worker was killed) is taken over by the next worker that looks,
which resumes it from its last checkpoint, or fails it after ``max_attempts`` runs.
Cancelling is a status change in the store: the training process sees it and stops; the
worker kills it if it has not stopped after ``cancel_grace_s``.
"""

from __future__ import annotations

import logging
import multiprocessing
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

    def run_forever(self) -> None:
        """Run jobs until ``stop()``; between jobs, wait ``poll_s`` for new ones."""
        log.info("worker %s waiting for jobs", self.config.worker_id)
        while not self.stopping.is_set():
            if not self.run_once():
                self.stopping.wait(self.config.poll_s)

    def stop(self) -> None:
        self.stopping.set()

    def run_once(self) -> bool:
        """Claim one job and run it to its end; False when there was nothing to do."""
        job = self.next_job()
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
        self._watch(job.id, process)
        self._settle(job.id, process.exitcode)

    def _watch(self, job_id: str, process: BaseProcess) -> None:
        """Heartbeat until the process ends; stop it when the job is no longer ours."""
        lost_at: float | None = None
        while process.is_alive():
            process.join(self.config.heartbeat_s)
            if not process.is_alive():
                break
            if self.store.jobs.heartbeat(job_id, self.config.worker_id):
                continue
            lost_at = lost_at or time.monotonic()
            if time.monotonic() - lost_at > self.config.cancel_grace_s:
                log.warning("%s did not stop after cancel; killing it", job_id)
                process.kill()
                process.join()

    def _settle(self, job_id: str, exitcode: int | None) -> None:
        """A process that died without finishing its job fails it (not for a cancel)."""
        job = self.store.jobs.get(job_id)
        if job is None or job.status not in ACTIVE or job.worker_id != self.config.worker_id:
            log.info("%s ended %s", job_id, job.status if job else "deleted")
            return
        reason = (
            f"The training process exited unexpectedly (exit code {exitcode}); "
            "see the worker log. Check the dataset and hyperparameters, then start a new job."
        )
        if self.store.jobs.fail(job_id, "training_process_died", reason, self.config.worker_id):
            self.store.log.event(job_id, f"Job failed: {reason}", level="error")
