"""One job, start to finish, in its own (spawned) process.

validate + split the data -> train (resuming from the job folder's latest checkpoint) ->
evaluate base vs adapter on the held-out test split -> publish the adapter -> succeeded.
Every step is written to the job store before the next one starts, and every write is
conditional on this worker still holding the job, so a cancel or a takeover wins.
"""

from __future__ import annotations

import contextlib
import ctypes
import logging
import os
import signal
import sys
import threading
import traceback
from pathlib import Path
from typing import Any

from trainer.jobs.config import WorkerConfig
from trainer.jobs.progress import ProgressWriter, StopCheck
from trainer.jobs.publish import NotPublishable, publish_adapter
from trainer.jobs.spec import JobSpec
from trainer.jobs.states import RUNNING, SUCCEEDED
from trainer.jobs.store import Store, now
from trainer.jobs.tables import JobRow

log = logging.getLogger("loragate.job")
_PR_SET_PDEATHSIG = 1
Conversation = list[dict[str, str]]


class JobFailure(Exception):
    """A failure the user can act on: ``code`` and ``message`` go into the job's ``error``."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


def run_job(config: WorkerConfig, job_id: str) -> None:
    """Entry point of the training process; exits 0 unless something unexpected broke.

    It ends with ``os._exit`` once its writes are committed: the interpreter's shutdown
    (torch's thread pools) took seconds here, which would eat a stopping worker's grace."""
    _die_with_parent()
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    handback = threading.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):  # the worker is stopping: checkpoint, hand back
        signal.signal(sig, lambda _signum, _frame: handback.set())
    store = Store(config.database_url)
    code = 0
    try:
        JobRun(config, store, job_id, handback).run()
    except JobFailure as failure:
        _fail(store, config, job_id, failure.code, failure.message)
    except Exception as exc:
        traceback.print_exc()
        _fail(store, config, job_id, "training_error", f"Training failed: {exc}")
        code = 1
    finally:
        store.close()
        logging.shutdown()
        sys.stdout.flush()
        sys.stderr.flush()
    os._exit(code)


def _die_with_parent() -> None:
    """Die with the worker, so a killed worker never leaves a training process behind."""
    if sys.platform.startswith("linux"):
        with contextlib.suppress(OSError):
            ctypes.CDLL("libc.so.6", use_errno=True).prctl(_PR_SET_PDEATHSIG, signal.SIGKILL)


def _fail(store: Store, config: WorkerConfig, job_id: str, code: str, message: str) -> None:
    if store.jobs.fail(job_id, code, message, config.worker_id):
        store.log.event(job_id, f"Job failed: {message}", level="error")


class JobRun:
    def __init__(
        self,
        config: WorkerConfig,
        store: Store,
        job_id: str,
        handback: threading.Event | None = None,
    ) -> None:
        self.config = config
        self.store = store
        self.job_id = job_id
        self.out_dir = config.job_dir(job_id)
        self.handback = handback or threading.Event()
        """Set when the worker stops: training checkpoints and the job goes back to the queue."""

    def event(self, message: str, **data: Any) -> None:
        self.store.log.event(self.job_id, message, data=data or None)

    def owned(self, **values: Any) -> bool:
        return self.store.jobs.owned_transition(self.job_id, self.config.worker_id, **values)

    def run(self) -> None:
        job = self.store.jobs.get(self.job_id)
        if job is None:
            return
        if not self._files_ready(job):
            return
        spec = JobSpec.model_validate(job.hyperparameters)
        tokenizer = self._tokenizer()
        train, validation, test = self._datasets(job, spec, tokenizer)
        spec = self._settle_auto(job, spec, len(train))
        if not self.owned(status=RUNNING):
            return  # cancelled while validating
        self._announce(len(train), len(validation), len(test))
        result = self._train(train, validation, spec.training_config(job.seed))
        if result.stopped == "cancelled" and self.handback.is_set():
            self._hand_back(result.steps)
            return
        if result.stopped == "cancelled" or result.adapter_dir is None:
            return
        metrics = self._metrics(result, test, spec)
        self._publish(job, result.adapter_dir, tokenizer, metrics)

    def _files_ready(self, job: JobRow) -> bool:
        """Wait for files still being checked; fail the job when one was found unusable.
        False when the job stopped being this worker's meanwhile (or was handed back)."""
        from trainer.jobs.file_wait import file_problems, wait_for_files

        worker = self.config.worker_id
        if not wait_for_files(self.store, job, worker, self.handback.is_set, self.event):
            if self.handback.is_set() and self.store.jobs.release(self.job_id, worker):
                message = f"Worker {worker} is stopping: the job is back in the queue"
                self.store.log.event(self.job_id, message, level="warn")
            return False
        problems = file_problems(self.store, job)
        if problems:
            first = problems[0]
            raise JobFailure(
                "invalid_file", f"The {first.param} {first.file_id} is not usable:\n{first.details}"
            )
        return True

    def _settle_auto(self, job: JobRow, spec: JobSpec, train_examples: int) -> JobSpec:
        """Resolve "auto" values left provisional because the file was not checked yet."""
        from trainer.jobs.auto import settle_auto

        current = self.store.jobs.get(self.job_id)
        settled = settle_auto((current or job).hyperparameters, train_examples)
        if settled is None:
            return spec
        spec = JobSpec.model_validate(settled)
        self.owned(hyperparameters=settled)
        chosen = ", ".join(f"{name}={settled[name]}" for name in settled["auto"]["resolved"])
        self.event(
            f"Resolved auto hyperparameters for {train_examples} training examples: {chosen}"
        )
        return spec

    def _tokenizer(self) -> Any:
        from transformers import AutoTokenizer

        if self.config.make_default_model:
            from trainer.default_model import ensure_default_model

            ensure_default_model(Path(self.config.base_model_path))
        try:
            return AutoTokenizer.from_pretrained(self.config.base_model_path)
        except (OSError, ValueError) as exc:
            raise JobFailure(
                "base_model_unavailable",
                f"The base model {self.config.base_model_path} could not be loaded: {exc}",
            ) from exc

    def _datasets(
        self, job: JobRow, spec: JobSpec, tokenizer: Any
    ) -> tuple[list[Conversation], list[Conversation], list[Conversation]]:
        from trainer.datasets import split_examples

        train_all = self._examples(job.training_file, "training_file")
        self._tell_findings(job.training_file, "training_file", spec, tokenizer)
        if job.validation_file:
            validation = self._examples(job.validation_file, "validation_file")
            self._tell_findings(job.validation_file, "validation_file", spec, tokenizer)
            train, _, test = split_examples(train_all, (0.9, 0.0, 0.1), seed=job.seed)
        else:
            train, validation, test = split_examples(train_all, seed=job.seed)
        if not train:
            raise JobFailure("invalid_training_file", "The training file has no examples.")
        return (
            [e.as_dicts() for e in train],
            [e.as_dicts() for e in validation],
            [e.as_dicts() for e in test],
        )

    def _examples(self, file_id: str, param: str) -> list[Any]:
        from trainer.datasets import DatasetError, load_examples

        row = self.store.files.get(file_id)
        if row is None or not Path(row.path).is_file():
            raise JobFailure("file_not_found", f"The {param} {file_id} no longer exists.")
        try:
            return load_examples(row.path)
        except DatasetError as exc:
            raise JobFailure(
                "invalid_file", f"The {param} {file_id} is not usable:\n{exc}"
            ) from exc

    def _tell_findings(self, file_id: str, param: str, spec: JobSpec, tokenizer: Any) -> None:
        """The file's quality warnings as events; a report that cannot be made is skipped."""
        from trainer.jobs.data_quality import finding_events, report_for

        row = self.store.files.get(file_id)
        if row is None or self.store.log.said(self.job_id, f"Data % in {param} {file_id}:%"):
            return  # told already, by an earlier attempt of this job
        try:
            report = report_for(row.path, tokenizer, spec.max_seq_len, row.filename)
        except Exception:
            log.exception("no quality report for %s", file_id)
            return
        for message, level, data in finding_events(report, param, file_id):
            self.store.log.event(self.job_id, message, level=level, data=data)

    def _announce(self, train: int, validation: int, test: int) -> None:
        from trainer.sft.checkpoints import latest_checkpoint

        self.event(
            f"Data: {train} training, {validation} validation, {test} test examples",
            train_examples=train,
            validation_examples=validation,
            test_examples=test,
        )
        latest = latest_checkpoint(self.out_dir)
        if latest is None:
            self.event("Fine-tuning started")
        else:
            step = int(latest.name.removeprefix("step-"))
            self.event(f"Resuming from checkpoint at step {step}", resumed_from_step=step)

    def _train(self, train: list[Conversation], validation: list[Conversation], config: Any) -> Any:
        from trainer.sft.recipe import train as sft_train

        worker = self.config.worker_id
        return sft_train(
            self.config.base_model_path,
            train,
            validation,
            self.out_dir,
            config,
            on_event=ProgressWriter(self.store, self.job_id, worker),
            should_stop=StopCheck(self.store, self.job_id, worker, self.handback),
        )

    def _hand_back(self, step: int) -> None:
        if self.store.jobs.release(self.job_id, self.config.worker_id):
            message = (
                f"Worker {self.config.worker_id} is stopping: checkpoint saved at step {step}; "
                "the job is back in the queue and resumes from there"
            )
            self.store.log.event(self.job_id, message, level="warn", data={"handback_step": step})

    def _metrics(self, result: Any, test: list[Conversation], spec: JobSpec) -> dict[str, Any]:
        test = test[: self.config.eval_max_examples]
        metrics: dict[str, Any] = {
            "stopped": result.stopped,
            "steps": result.steps,
            "best_step": result.best_step,
            "best_eval_loss": result.best_eval_loss,
            "train_seconds": round(result.train_seconds, 2),
            "tokens_per_second": round(result.tokens_per_second, 1),
            "test_examples": len(test),
        }
        if test:
            from trainer.sft.evaluate import evaluate_before_after

            self.event(f"Evaluating the base model and the adapter on {len(test)} test examples")
            scores = evaluate_before_after(
                self.config.base_model_path,
                result.adapter_dir,
                test,
                max_seq_len=spec.max_seq_len,
                max_new_tokens=self.config.eval_max_new_tokens,
            )
            metrics["base"], metrics["adapter"] = dict(scores["base"]), dict(scores["adapter"])
        return metrics

    def _publish(
        self, job: JobRow, adapter_dir: Path, tokenizer: Any, metrics: dict[str, Any]
    ) -> None:
        from trainer.chat_template import template_hash

        template = getattr(tokenizer, "chat_template", None)
        try:
            record = publish_adapter(
                adapter_dir,
                self.config.adapters_dir,
                base_model=job.model,
                suffix=job.suffix or "",
                job_id=job.id,
                max_lora_rank=self.config.max_lora_rank,
                chat_template_hash=template_hash(template) if isinstance(template, str) else None,
                metrics=metrics,
                owner=job.owner,
            )
        except NotPublishable as exc:
            raise JobFailure(
                "adapter_not_servable", f"The engine cannot serve the adapter: {exc}"
            ) from exc
        done = self.owned(
            status=SUCCEEDED, finished_at=now(), fine_tuned_model=record.name, result=metrics
        )
        if done:
            self.event(f"New fine-tuned model created: {record.name}", **_summary(metrics))
            self.event("The job has successfully completed")


def _summary(metrics: dict[str, Any]) -> dict[str, Any]:
    summary: dict[str, Any] = {"fine_tuned": True}
    for name in ("base", "adapter"):
        if name in metrics:
            summary[f"{name}_exact_match"] = metrics[name]["exact_match"]
            summary[f"{name}_loss"] = metrics[name]["mean_loss"]
    return summary
