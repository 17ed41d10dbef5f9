"""The shared job feed: many concurrent viewers of a job cost one store read per interval."""

from __future__ import annotations

import asyncio
from pathlib import Path

from gateway.finetune.feed import JobFeed
from tests.trainer.jobs.helpers import add_job
from trainer.jobs.store import Store


async def test_fifty_viewers_share_one_read_per_interval(tmp_path: Path) -> None:
    store = Store(f"sqlite:///{tmp_path / 'jobs.db'}")
    job = add_job(store, owner="alice")
    store.log.event(job.id, "first", type="metrics", data={"step": 1, "train_loss": 2.0})
    feed = JobFeed(store, interval_s=0.3)
    snapshots = await asyncio.gather(*(feed.snapshot(job.id) for _ in range(50)))
    assert feed.reads == 1
    assert all(len(s.events) == 1 for s in snapshots)

    store.log.event(job.id, "second", type="metrics", data={"step": 2, "train_loss": 1.0})
    again = await asyncio.gather(*(feed.snapshot(job.id) for _ in range(50)))
    assert feed.reads == 1  # still fresh: the new event is not seen yet
    assert len(again[0].events) == 1

    await asyncio.sleep(0.35)
    version = again[0].version
    later = await asyncio.gather(*(feed.snapshot(job.id) for _ in range(50)))
    assert feed.reads == 2
    assert later[0].version == version + 1  # something new: derived answers are redone
    assert [e.message for e in later[0].events] == ["first", "second"]  # only the new one read
    assert later[0].job is not None
    assert later[0].job.owner == "alice"

    await asyncio.sleep(0.35)
    quiet = await feed.snapshot(job.id)
    assert feed.reads == 3
    assert quiet.version == version + 1  # read again, nothing new: cached answers stand
    store.close()


async def test_an_unknown_job_is_a_snapshot_without_a_job(tmp_path: Path) -> None:
    store = Store(f"sqlite:///{tmp_path / 'jobs.db'}")
    snapshot = await JobFeed(store).snapshot("ftjob-none")
    assert snapshot.job is None
    assert snapshot.ended
    assert snapshot.events == []
    store.close()


async def test_an_ended_job_is_read_no_more_once_settled(tmp_path: Path) -> None:
    store = Store(f"sqlite:///{tmp_path / 'jobs.db'}")
    job = add_job(store)
    store.jobs.cancel(job.id)
    feed = JobFeed(store, interval_s=0.01)
    first = await feed.snapshot(job.id)
    assert first.ended
    assert not first.settled  # the last events may still follow the status
    await asyncio.sleep(0.02)
    assert (await feed.snapshot(job.id)).settled
    reads = feed.reads
    await asyncio.sleep(0.02)
    await feed.snapshot(job.id)
    assert feed.reads == reads
    store.close()
