"""The job store: records, pagination, and the conditional state changes workers rely on."""

from __future__ import annotations

import multiprocessing
import threading
import time
from pathlib import Path

import pytest

from tests.trainer.jobs.helpers import add_file, add_job
from trainer.jobs.states import CANCELLED, QUEUED, RUNNING, SUCCEEDED, VALIDATING
from trainer.jobs.store import Store


def test_sqlite_runs_in_wal_mode(store: Store) -> None:
    if store.db.engine.dialect.name != "sqlite":
        pytest.skip("SQLite only")
    with store.db.engine.connect() as connection:
        mode = connection.exec_driver_sql("PRAGMA journal_mode").scalar()
        timeout = connection.exec_driver_sql("PRAGMA busy_timeout").scalar()
    assert mode == "wal"
    assert timeout == 30_000


def test_files_add_get_list_delete(store: Store, tmp_path: Path) -> None:
    path = tmp_path / "a.jsonl"
    path.write_text("{}\n")
    first, second = add_file(store, path), add_file(store, path)
    assert store.files.get(first.id) is not None
    page = store.files.page("fine-tune", None, 1)
    assert [row.id for row in page.rows] == [second.id]
    assert page.has_more
    assert [row.id for row in store.files.page(None, second.id, 10).rows] == [first.id]
    assert store.files.delete(first.id)
    assert store.files.get(first.id) is None
    assert not store.files.delete(first.id)


def test_jobs_are_listed_newest_first_with_a_cursor(store: Store) -> None:
    jobs = [add_job(store) for _ in range(5)]
    first = store.jobs.page(None, 2)
    assert [row.id for row in first.rows] == [jobs[4].id, jobs[3].id]
    assert first.has_more
    last = store.jobs.page(first.rows[-1].id, 10)
    assert [row.id for row in last.rows] == [jobs[2].id, jobs[1].id, jobs[0].id]
    assert not last.has_more


def test_claim_takes_the_oldest_queued_job_once(store: Store) -> None:
    older, newer = add_job(store), add_job(store)
    claimed = store.jobs.claim_next("w1")
    assert claimed is not None
    assert claimed.id == older.id
    assert claimed.status == VALIDATING
    assert claimed.worker_id == "w1"
    assert claimed.attempts == 1
    again = store.jobs.claim_next("w2")
    assert again is not None
    assert again.id == newer.id
    assert store.jobs.claim_next("w3") is None


def test_only_the_holder_moves_an_active_job(store: Store) -> None:
    job = add_job(store)
    store.jobs.claim_next("w1")
    assert not store.jobs.owned_transition(job.id, "w2", status=RUNNING)
    assert store.jobs.owned_transition(job.id, "w1", status=RUNNING)
    assert store.jobs.heartbeat(job.id, "w1")
    assert not store.jobs.heartbeat(job.id, "w2")


def test_cancel_wins_over_the_worker(store: Store) -> None:
    job = add_job(store)
    store.jobs.claim_next("w1")
    assert store.jobs.cancel(job.id)
    assert not store.jobs.owned_transition(job.id, "w1", status=SUCCEEDED)
    assert not store.jobs.heartbeat(job.id, "w1")
    row = store.jobs.get(job.id)
    assert row is not None
    assert row.status == CANCELLED
    assert row.finished_at is not None
    assert not store.jobs.cancel(job.id)  # already finished


def test_a_stale_job_is_taken_over_and_a_live_one_is_not(store: Store) -> None:
    job = add_job(store)
    store.jobs.claim_next("dead")
    store.jobs.owned_transition(job.id, "dead", status=RUNNING)
    assert store.jobs.claim_stale("w2", stale_after_s=60) is None
    store.jobs.owned_transition(job.id, "dead", heartbeat_at=time.time() - 120)
    taken = store.jobs.claim_stale("w2", stale_after_s=60)
    assert taken is not None
    assert taken.worker_id == "w2"
    assert taken.attempts == 2
    assert taken.status == VALIDATING
    assert store.jobs.claim_stale("w3", stale_after_s=60) is None


def test_two_threads_racing_for_one_job(store: Store) -> None:
    job = add_job(store)
    barrier = threading.Barrier(8)
    wins: list[str] = []

    def race(name: str) -> None:
        barrier.wait()
        if store.jobs.claim_next(name) is not None:
            wins.append(name)

    threads = [threading.Thread(target=race, args=(f"w{i}",)) for i in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(wins) == 1
    row = store.jobs.get(job.id)
    assert row is not None
    assert row.worker_id == wins[0]
    assert row.attempts == 1


def _claim_in_process(url: str, name: str, start: float, results: multiprocessing.Queue) -> None:  # type: ignore[type-arg]
    store = Store(url)
    time.sleep(max(0.0, start - time.time()))
    claimed = store.jobs.claim_next(name)
    results.put((name, claimed.id if claimed else None))
    store.close()


def test_two_worker_processes_racing_for_one_job(store: Store) -> None:
    job = add_job(store)
    context = multiprocessing.get_context("spawn")
    results = context.Queue()
    start = time.time() + 3  # both processes are up and connected by then
    procs = [
        context.Process(target=_claim_in_process, args=(store.db.url, name, start, results))
        for name in ("a", "b")
    ]
    for proc in procs:
        proc.start()
    outcomes = dict(results.get(timeout=60) for _ in procs)
    for proc in procs:
        proc.join()
    assert sorted(outcomes.values(), key=str) == sorted([job.id, None], key=str)
    row = store.jobs.get(job.id)
    assert row is not None
    assert row.status == VALIDATING
    assert row.attempts == 1


def test_events_and_checkpoints(store: Store) -> None:
    job = add_job(store)
    for step in range(3):
        store.log.event(job.id, f"step {step}", type="metrics", data={"step": step})
    store.log.checkpoint(job.id, 10, {"eval_loss": 1.5}, "/x/step-10")
    page = store.log.events(job.id, None, 2)
    assert [row.message for row in page.rows] == ["step 2", "step 1"]
    assert page.has_more
    assert [row.message for row in store.log.events_since(job.id, page.rows[1].seq)] == ["step 2"]
    assert store.log.checkpoints(job.id, None, 10).rows[0].metrics == {"eval_loss": 1.5}
    assert store.jobs.get(job.id) is not None
    assert store.jobs.using_file("file-x") == [job.id]
    assert store.jobs.get(job.id).status == QUEUED  # type: ignore[union-attr]


def _claim_all(url: str, name: str, start: float, results: multiprocessing.Queue) -> None:  # type: ignore[type-arg]
    """Claim jobs until none is left; report every id this process got."""
    store = Store(url)
    time.sleep(max(0.0, start - time.time()))
    claimed = []
    while (job := store.jobs.claim_next(name)) is not None:
        claimed.append(job.id)
    results.put((name, claimed))
    store.close()


def test_four_workers_draining_a_queue_never_claim_a_job_twice(store: Store) -> None:
    jobs = {add_job(store).id for _ in range(24)}
    context = multiprocessing.get_context("spawn")
    results = context.Queue()
    start = time.time() + 4
    procs = [
        context.Process(target=_claim_all, args=(store.db.url, f"w{i}", start, results))
        for i in range(4)
    ]
    for proc in procs:
        proc.start()
    claims = dict(results.get(timeout=120) for _ in procs)
    for proc in procs:
        proc.join()
    every_claim = [job_id for claimed in claims.values() for job_id in claimed]
    assert sorted(every_claim) == sorted(jobs)  # each job once, none lost
    holders = {row.id: row.worker_id for row in store.jobs.page(None, 100).rows}
    assert all(holders[job_id] == name for name, got in claims.items() for job_id in got)


def test_a_handback_requeues_the_job_without_counting_an_attempt(store: Store) -> None:
    job = add_job(store)
    for _ in range(5):  # more rollouts than max_attempts allows interruptions
        claimed = store.jobs.claim_next("w1")
        assert claimed is not None
        assert claimed.attempts == 1
        assert not store.jobs.release(job.id, "someone-else")
        assert store.jobs.release(job.id, "w1")
    row = store.jobs.get(job.id)
    assert row is not None
    assert (row.status, row.worker_id, row.heartbeat_at) == (QUEUED, None, None)
    assert (row.attempts, row.handbacks) == (0, 5)


def test_an_event_quoting_a_nul_byte_is_stored(store: Store) -> None:
    """Event messages may quote a dataset's text; PostgreSQL refuses NUL in text columns."""
    job = add_job(store)
    store.log.event(job.id, "line 3: bad value 'a\x00b'")
    [event] = store.log.events(job.id, None, 10).rows
    assert event.message == "line 3: bad value 'a\\x00b'"
