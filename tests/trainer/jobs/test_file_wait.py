"""A job on a file that is still being checked waits in ``validating_files``, then trains
(resolving its provisional "auto" values) or fails with the file's problems; and a job
that runs again does not repeat its data warnings."""

from __future__ import annotations

import threading
from pathlib import Path

from sqlalchemy import update

from tests.trainer.datasets import crafted
from tests.trainer.jobs.helpers import add_file, add_job, wait_until, worker_config, write_reviews
from trainer.jobs.auto import auto_epochs, fill_auto
from trainer.jobs.file_wait import wait_for_files
from trainer.jobs.runner import JobRun
from trainer.jobs.spec import JobSpec
from trainer.jobs.states import CANCELLED, FAILED, SUCCEEDED, UPLOADED
from trainer.jobs.store import Store
from trainer.jobs.tables import FileRow
from trainer.jobs.worker import Worker

DETAILS = "The file 'big.jsonl' is not a usable fine-tuning dataset (1 problem):\nbig.jsonl:7: bad"


def set_file(store: Store, file_id: str, **values: object) -> None:
    with store.db.session() as session, session.begin():
        session.execute(update(FileRow).where(FileRow.id == file_id).values(**values))


def provisional_spec() -> JobSpec:
    """Hyperparameters made while the training file was still being checked."""
    given: dict[str, object] = {"batch_size": 4, "learning_rate": 2e-3, "max_seq_len": 128}
    values, auto = fill_auto(given, None, None)
    auto["train_examples"] = None
    return JobSpec.model_validate(values | {"auto": auto})


def events_of(store: Store, job_id: str) -> list[str]:
    return [e.message for e in reversed(store.log.events(job_id, None, 1000).rows)]


def test_a_job_waits_for_its_file_then_trains_with_auto_settled(
    tmp_path: Path, tiny_model: Path
) -> None:
    worker = Worker(worker_config(tmp_path, tiny_model))
    store = worker.store
    data = add_file(store, write_reviews(tmp_path / "reviews.jsonl", 50))
    set_file(store, data.id, status=UPLOADED)
    job = add_job(store, data.id, provisional_spec())
    runs = threading.Thread(target=worker.run_once)
    runs.start()
    waiting = f"Waiting for the training_file {data.id} to be checked (it is still uploaded)"
    wait_until(lambda: waiting in events_of(store, job.id), 60, "the job says it waits")
    assert store.jobs.get(job.id).status == "validating_files"  # type: ignore[union-attr]
    set_file(store, data.id, status="processed", examples=50)
    runs.join(timeout=300)
    done = store.jobs.get(job.id)
    assert done is not None
    assert done.status == SUCCEEDED, done.error
    train_examples = done.hyperparameters["auto"]["train_examples"]
    assert train_examples == 40  # 50, less the 20% held out
    assert done.hyperparameters["n_epochs"] == auto_epochs(40)
    assert any(
        m.startswith("Resolved auto hyperparameters for 40") for m in events_of(store, job.id)
    )
    store.close()


def test_a_job_on_a_file_found_unusable_fails_with_its_problems(
    tmp_path: Path, tiny_model: Path
) -> None:
    worker = Worker(worker_config(tmp_path, tiny_model))
    store = worker.store
    data = add_file(store, write_reviews(tmp_path / "reviews.jsonl", 20))
    set_file(store, data.id, status=UPLOADED)
    job = add_job(store, data.id, provisional_spec())
    runs = threading.Thread(target=worker.run_once)
    runs.start()
    wait_until(lambda: len(events_of(store, job.id)) >= 1, 60, "the job waits")
    set_file(store, data.id, status="error", status_details=DETAILS)
    runs.join(timeout=120)
    done = store.jobs.get(job.id)
    assert done is not None
    assert done.status == FAILED
    assert done.error is not None
    assert done.error["code"] == "invalid_file"
    assert "big.jsonl:7: bad" in done.error["message"]
    store.close()


def test_a_cancelled_job_stops_waiting(store: Store, tmp_path: Path) -> None:
    data = add_file(store, write_reviews(tmp_path / "reviews.jsonl", 5))
    set_file(store, data.id, status=UPLOADED)
    job = add_job(store, data.id)
    assert store.jobs.claim_next("w1") is not None
    said: list[str] = []
    threading.Timer(0.5, lambda: store.jobs.cancel(job.id)).start()
    assert not wait_for_files(store, job, "w1", lambda: False, said.append, poll_s=0.05)
    assert store.jobs.get(job.id).status == CANCELLED  # type: ignore[union-attr]
    assert len(said) == 1  # told once, not once per look


def test_a_job_run_again_does_not_repeat_its_data_warnings(
    store: Store, tmp_path: Path, tiny_model: Path
) -> None:
    data = add_file(store, crafted.write_flawed(tmp_path / "flawed.jsonl", invalid=False))
    job = add_job(store, data.id)
    spec = JobSpec()
    config = worker_config(tmp_path, tiny_model)
    JobRun(config, store, job.id)._tell_findings(data.id, "training_file", spec, None)
    told = len(events_of(store, job.id))
    assert told >= 4  # duplicates, conflicts, no user turn, cut off
    JobRun(config, store, job.id)._tell_findings(data.id, "training_file", spec, None)
    assert len(events_of(store, job.id)) == told
