"""Fine-tune job metrics, read from the job store when Prometheus scrapes.

Numbers of jobs per status, and for each running job its latest training loss, eval loss
and training speed (from the metrics events the worker writes). Reading at scrape time
keeps the numbers right whichever process (gateway worker or trainer) changed them.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from prometheus_client.core import GaugeMetricFamily
from prometheus_client.metrics_core import Metric
from prometheus_client.registry import Collector
from sqlalchemy import func, select
from sqlalchemy.engine import make_url

from gateway.observability.metrics import PREFIX
from trainer.jobs.db import Database
from trainer.jobs.states import JobStatus
from trainer.jobs.tables import EventRow, JobRow

log = logging.getLogger("loragate.metrics")

STATUSES: tuple[JobStatus, ...] = (
    "validating_files",
    "queued",
    "running",
    "succeeded",
    "failed",
    "cancelled",
)
RUNNING: JobStatus = "running"
RECENT_EVENTS = 50
"""Metrics events of a running job searched for its latest losses."""

JobProgress = dict[str, float]


class FinetuneCollector(Collector):
    """``loragate_finetune_jobs`` and ``loragate_finetune_job_*`` from the job store."""

    def __init__(self, database_url: str) -> None:
        self.database_url = database_url
        self._db: Database | None = None

    def collect(self) -> Iterator[Metric]:
        counts: dict[str, int] = dict.fromkeys(STATUSES, 0)
        running: dict[str, JobProgress] = {}
        db = self._database()
        if db is not None:
            try:
                counts.update(_counts(db))
                running = {job_id: _progress(db, job_id) for job_id in _running(db)}
            except Exception as exc:  # a scrape must not fail because the store is down
                log.warning("could not read the job store for metrics: %r", exc)
        yield _jobs_family(counts)
        yield from _progress_families(running)

    def _database(self) -> Database | None:
        if self._db is None:
            url = make_url(self.database_url)
            if url.get_backend_name() == "sqlite" and not Path(url.database or "").is_file():
                return None  # no job was ever created: nothing to read, nothing to create
            self._db = Database(self.database_url)
        return self._db


def _counts(db: Database) -> dict[str, int]:
    query = select(JobRow.status, func.count()).group_by(JobRow.status)
    with db.session() as session:
        return {str(status): int(count) for status, count in session.execute(query)}


def _running(db: Database) -> list[str]:
    with db.session() as session:
        return list(session.scalars(select(JobRow.id).where(JobRow.status == RUNNING)))


def _progress(db: Database, job_id: str) -> JobProgress:
    query = (
        select(EventRow.data)
        .where(EventRow.job_id == job_id, EventRow.type == "metrics")
        .order_by(EventRow.seq.desc())
        .limit(RECENT_EVENTS)
    )
    with db.session() as session:
        events: list[dict[str, Any] | None] = list(session.scalars(query))
    progress: JobProgress = {}
    for data in events:  # newest first: keep the first value seen of each
        for key in ("train_loss", "eval_loss", "tokens_per_second", "progress"):
            value = (data or {}).get(key)
            if key not in progress and isinstance(value, int | float):
                progress[key] = float(value)
    return progress


def _jobs_family(counts: dict[str, int]) -> GaugeMetricFamily:
    family = GaugeMetricFamily(
        f"{PREFIX}_finetune_jobs", "Fine-tune jobs in the job store, by status.", labels=["status"]
    )
    for status, count in sorted(counts.items()):
        family.add_metric([status], count)
    return family


PROGRESS_METRICS = {
    "train_loss": "Latest training loss of each running fine-tune job.",
    "eval_loss": "Latest evaluation loss of each running fine-tune job.",
    "tokens_per_second": "Training speed of each running fine-tune job, in tokens per second.",
    "progress": "Share of the training steps done, 0 to 1, of each running fine-tune job.",
}


def _progress_families(running: dict[str, JobProgress]) -> Iterator[GaugeMetricFamily]:
    for key, documentation in PROGRESS_METRICS.items():
        family = GaugeMetricFamily(f"{PREFIX}_finetune_job_{key}", documentation, labels=["job_id"])
        for job_id, progress in running.items():
            if key in progress:
                family.add_metric([job_id], progress[key])
        yield family
