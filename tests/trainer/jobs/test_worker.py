"""The worker on real (tiny, CPU) training jobs: success, cancel, and a killed worker."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import psutil

from adapters.compat import check_adapter_dir
from adapters.registry import AdapterRegistry
from tests.trainer.jobs.helpers import (
    add_file,
    add_job,
    quick_spec,
    wait_until,
    worker_config,
    write_reviews,
)
from trainer.chat_template import DEFAULT_CHAT_TEMPLATE, template_hash
from trainer.jobs.states import CANCELLED, RUNNING, SUCCEEDED
from trainer.jobs.store import Store
from trainer.jobs.worker import Worker


def test_a_job_trains_evaluates_and_publishes(tmp_path: Path, tiny_model: Path) -> None:
    config = worker_config(tmp_path, tiny_model)
    worker = Worker(config)
    store = worker.store
    data = add_file(store, write_reviews(tmp_path / "reviews.jsonl", 40))
    job = add_job(store, data.id, quick_spec(epochs=2), owner="team-a")
    assert worker.run_once()
    done = store.jobs.get(job.id)
    assert done is not None
    assert done.status == SUCCEEDED, done.error
    assert done.fine_tuned_model == f"ft:loragate-tiny:reviews:{job.id}"
    assert done.finished_at is not None
    assert done.trained_tokens
    record = AdapterRegistry(tmp_path / "adapters").get(done.fine_tuned_model)
    assert record.chat_template_hash == template_hash(DEFAULT_CHAT_TEMPLATE)
    assert record.owner == "team-a"  # the job's owner owns its adapter
    assert check_adapter_dir(Path(record.artifact_dir), 16) == []
    assert done.result is not None
    assert done.result["test_examples"] == 4
    for side in ("base", "adapter"):
        assert 0 <= done.result[side]["exact_match"] <= 1
        assert done.result[side]["mean_loss"] > 0
    events = store.log.events(job.id, None, 1000).rows
    messages = [event.message for event in events]
    assert "Data: 32 training, 4 validation, 4 test examples" in messages
    metrics = [event.data for event in events if event.type == "metrics" and event.data]
    assert any(data["eval_loss"] is not None for data in metrics)
    assert any(data["train_loss"] is not None and data["progress"] > 0 for data in metrics)
    assert store.log.checkpoints(job.id, None, 10).rows
    store.close()


def test_cancel_stops_a_running_job_within_seconds(tmp_path: Path, tiny_model: Path) -> None:
    worker = Worker(worker_config(tmp_path, tiny_model))
    store = worker.store
    data = add_file(store, write_reviews(tmp_path / "reviews.jsonl", 200))
    job = add_job(store, data.id, quick_spec(epochs=50))
    thread = threading.Thread(target=worker.run_once)
    thread.start()
    wait_until(lambda: _has_metrics(store, job.id), 120, "training started")
    cancelled_at = time.monotonic()
    assert store.jobs.cancel(job.id)
    thread.join(timeout=30)
    assert not thread.is_alive()
    assert time.monotonic() - cancelled_at < 15
    row = store.jobs.get(job.id)
    assert row is not None
    assert row.status == CANCELLED
    assert row.fine_tuned_model is None
    assert AdapterRegistry(tmp_path / "adapters").list() == []
    store.close()


def _has_metrics(store: Store, job_id: str) -> bool:
    return any(event.type == "metrics" for event in store.log.events(job_id, None, 5).rows)


def _start_worker(data_dir: Path, model: Path, log: Path) -> subprocess.Popen[bytes]:
    env = dict(os.environ)
    env.update(
        LORAGATE_DATA_DIR=str(data_dir),
        LORAGATE_BASE_MODEL=str(model),
        LORAGATE_FINETUNE__HEARTBEAT_S="0.5",
        LORAGATE_FINETUNE__STALE_AFTER_S="3",
        LORAGATE_FINETUNE__POLL_S="0.2",
        LORAGATE_FINETUNE__EVAL_MAX_NEW_TOKENS="8",
    )
    with log.open("ab") as out:
        return subprocess.Popen(
            [sys.executable, "-m", "gateway.cli.main", "worker"],
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )


def test_a_killed_worker_s_job_resumes_from_its_checkpoint(
    tmp_path: Path, tiny_model: Path
) -> None:
    store = Store(worker_config(tmp_path, tiny_model).database_url)
    data = add_file(store, write_reviews(tmp_path / "reviews.jsonl", 80))
    job = add_job(store, data.id, quick_spec(epochs=3, eval_every=4))
    log = tmp_path / "worker.log"
    first = _start_worker(tmp_path, tiny_model, log)
    try:
        wait_until(lambda: store.log.checkpoints(job.id, None, 1).rows, 180, "a checkpoint")
        trainers = psutil.Process(first.pid).children(recursive=True)
        first.send_signal(signal.SIGKILL)
        first.wait()
        _, alive = psutil.wait_procs(trainers, timeout=10)
        assert alive == [], "the training process outlived its worker"
        row = store.jobs.get(job.id)
        assert row is not None
        assert row.status == RUNNING
        second = _start_worker(tmp_path, tiny_model, log)
        try:
            done = wait_until(lambda: _finished(store, job.id), 300, "the job finished")
        finally:
            second.terminate()
            second.wait(timeout=30)
    finally:
        if first.poll() is None:
            first.kill()
    assert done.status == SUCCEEDED, (done.error, log.read_text()[-3000:])
    assert done.attempts == 2
    resumed = [
        e.data
        for e in store.log.events(job.id, None, 1000).rows
        if e.data and "resumed_from_step" in e.data
    ]
    assert resumed
    assert resumed[0]["resumed_from_step"] >= 4
    store.close()


def _finished(store: Store, job_id: str):  # type: ignore[no-untyped-def]
    row = store.jobs.get(job_id)
    return row if row is not None and row.status in (SUCCEEDED, "failed", CANCELLED) else None


def test_a_job_interrupted_too_often_is_failed_with_a_reason(
    tmp_path: Path, tiny_model: Path
) -> None:
    worker = Worker(worker_config(tmp_path, tiny_model, max_attempts=2))
    store = worker.store
    job = add_job(store)
    for dead in ("dead-1", "dead-2"):
        store.jobs.claim_next(dead) or store.jobs.claim_stale(dead, stale_after_s=0)
        store.jobs.owned_transition(job.id, dead, status=RUNNING, heartbeat_at=time.time() - 60)
    assert worker.next_job() is None
    row = store.jobs.get(job.id)
    assert row is not None
    assert row.status == "failed"
    assert row.error is not None
    assert row.error["code"] == "too_many_interruptions"
    assert "interrupted 2 times" in row.error["message"]
    store.close()


def test_a_missing_training_file_fails_the_job_in_words(tmp_path: Path, tiny_model: Path) -> None:
    worker = Worker(worker_config(tmp_path, tiny_model))
    store = worker.store
    path = write_reviews(tmp_path / "gone.jsonl", 10)
    data = add_file(store, path)
    path.unlink()
    job = add_job(store, data.id, quick_spec())
    assert worker.run_once()
    row = store.jobs.get(job.id)
    assert row is not None
    assert row.status == "failed"
    assert row.error == {
        "code": "file_not_found",
        "message": f"The training_file {data.id} no longer exists.",
        "param": None,
    }
    store.close()
