"""From the training loop to the job store: events, checkpoints, and the stop check."""

from __future__ import annotations

import os
import threading
import time
from typing import Any

from trainer.jobs.states import ACTIVE
from trainer.jobs.store import Store

STEP_EVENT_INTERVAL_S = 1.0
STOP_POLL_INTERVAL_S = 0.5


class ProgressWriter:
    """The recipe's ``on_event``: step metrics (at most one a second), evals, checkpoints."""

    def __init__(self, store: Store, job_id: str, worker_id: str) -> None:
        self.store = store
        self.job_id = job_id
        self.worker_id = worker_id
        self.started = time.time()
        self.first_step: int | None = None
        self.last_step_event = 0.0

    def __call__(self, event: dict[str, Any]) -> None:
        kind = event.get("type")
        if kind == "step":
            self._step(event)
        elif kind == "eval":
            self._eval(event)

    def _step(self, event: dict[str, Any]) -> None:
        if self.first_step is None:
            self.first_step = int(event["step"]) - 1
        last = event["step"] == event["total_steps"]
        if not last and time.monotonic() - self.last_step_event < STEP_EVENT_INTERVAL_S:
            return
        self.last_step_event = time.monotonic()
        message = (
            f"Step {event['step']}/{event['total_steps']}: training loss={event['train_loss']:.4f}"
        )
        self.store.log.event(self.job_id, message, type="metrics", data=_metrics(event))
        self.store.jobs.owned_transition(
            self.job_id,
            self.worker_id,
            trained_tokens=int(event["tokens_trained"]),
            estimated_finish=self._estimated_finish(event),
        )

    def _eval(self, event: dict[str, Any]) -> None:
        data = _metrics(event)
        eval_loss = event.get("eval_loss")
        shown = "n/a" if eval_loss is None else f"{eval_loss:.4f}"
        message = (
            f"Step {event['step']}/{event['total_steps']}: eval loss={shown}, checkpoint saved"
        )
        self.store.log.event(self.job_id, message, type="metrics", data=data)
        self.store.log.checkpoint(self.job_id, int(event["step"]), data, str(event["checkpoint"]))

    def _estimated_finish(self, event: dict[str, Any]) -> int | None:
        done = int(event["step"]) - (self.first_step or 0)
        left = int(event["total_steps"]) - int(event["step"])
        if done <= 0:
            return None
        per_step = (time.time() - self.started) / done
        return int(time.time() + left * per_step)


def _metrics(event: dict[str, Any]) -> dict[str, Any]:
    keys = (
        "step",
        "total_steps",
        "epoch",
        "train_loss",
        "eval_loss",
        "learning_rate",
        "progress",
        "tokens_trained",
        "tokens_per_second",
    )
    return {key: event.get(key) for key in keys}


class StopCheck:
    """The recipe's ``should_stop``: the job was cancelled or taken over, the worker died, or
    it is stopping (``handback`` set)."""

    def __init__(
        self,
        store: Store,
        job_id: str,
        worker_id: str,
        handback: threading.Event | None = None,
    ) -> None:
        self.handback = handback or threading.Event()
        self.store = store
        self.job_id = job_id
        self.worker_id = worker_id
        self.parent = os.getppid()
        self.last_poll = 0.0
        self.stop = False

    def __call__(self) -> bool:
        if self.stop or self.handback.is_set() or os.getppid() != self.parent:
            return True
        if time.monotonic() - self.last_poll < STOP_POLL_INTERVAL_S:
            return False
        self.last_poll = time.monotonic()
        job = self.store.jobs.get(self.job_id)
        self.stop = job is None or job.status not in ACTIVE or job.worker_id != self.worker_id
        return self.stop
