"""A worker stopped by SIGTERM (a Kubernetes rollout) checkpoints and hands its job back
within seconds and exits; another worker resumes it at once from that checkpoint, not after
the staleness window; the handback does not count as an attempt. Real worker processes
(``loragate worker``) on SQLite and on PostgreSQL."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from tests.trainer.jobs.helpers import add_file, add_job, quick_spec, wait_until, write_reviews
from trainer.jobs.states import ACTIVE
from trainer.jobs.store import Store

RELEASE_WITHIN_S = 5.0
EXIT_WITHIN_S = 10.0  # Kubernetes waits 30 s before SIGKILL


def _start_worker(data_dir: Path, model: Path, url: str, log: Path) -> subprocess.Popen[bytes]:
    env = dict(os.environ)
    env.update(
        LORAGATE_DATA_DIR=str(data_dir),
        LORAGATE_DATABASE_URL=url,
        LORAGATE_BASE_MODEL=str(model),
        LORAGATE_LOG_LEVEL="info",
        LORAGATE_FINETUNE__HEARTBEAT_S="0.5",
        LORAGATE_FINETUNE__STALE_AFTER_S="120",  # a quick resume cannot be a stale takeover
        LORAGATE_FINETUNE__POLL_S="0.2",
    )
    with log.open("ab") as out:
        command = [sys.executable, "-m", "gateway.cli.main", "worker"]
        return subprocess.Popen(command, env=env, stdout=out, stderr=subprocess.STDOUT)


def _holder(store: Store, job_id: str) -> str | None:
    row = store.jobs.get(job_id)
    return row.worker_id if row is not None and row.status in ACTIVE else None


def _held_by(store: Store, job_id: str, pid: int) -> bool:
    return f"-{pid}-" in (_holder(store, job_id) or "")


def _steps(store: Store, job_id: str) -> list[int]:
    events = store.log.events(job_id, None, 1000).rows
    return [e.data["step"] for e in events if e.type == "metrics" and e.data and "step" in e.data]


def test_sigterm_hands_the_job_back_and_another_worker_resumes_it_at_once(
    tmp_path: Path, tiny_model: Path, database_url: str
) -> None:
    store = Store(database_url)
    data = add_file(store, write_reviews(tmp_path / "reviews.jsonl", 200))
    job = add_job(store, data.id, quick_spec(epochs=50))  # far longer than the test
    log = tmp_path / "workers.log"
    first = _start_worker(tmp_path, tiny_model, database_url, log)
    second: subprocess.Popen[bytes] | None = None
    try:
        wait_until(lambda: _held_by(store, job.id, first.pid) and _steps(store, job.id), 180, "A")
        second = _start_worker(tmp_path, tiny_model, database_url, log)
        wait_until(lambda: f"-{second.pid}-" in log.read_text(), 120, "B waiting for jobs")
        stopped = time.monotonic()
        first.send_signal(signal.SIGTERM)
        wait_until(lambda: not _held_by(store, job.id, first.pid), 30, "released", every_s=0.05)
        released_s = time.monotonic() - stopped
        wait_until(lambda: _held_by(store, job.id, second.pid), 30, "B took it", every_s=0.05)
        resumed_s = time.monotonic() - stopped
        first.wait(timeout=30)
        exited_s = time.monotonic() - stopped
        handed = wait_until(lambda: _handback_step(store, job.id), 10, "the handback event")
        wait_until(lambda: max(_steps(store, job.id)) > handed, 120, "B trained further")
        row = store.jobs.get(job.id)
    finally:
        for proc in (first, second):
            if proc is not None and proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
                proc.wait(timeout=30)
        print("".join(line for line in log.read_text().splitlines(True) if "loragate." in line))
    print(f"released {released_s:.2f} s, resumed {resumed_s:.2f} s, exited {exited_s:.2f} s")
    assert released_s < RELEASE_WITHIN_S, log.read_text()[-3000:]
    assert exited_s < EXIT_WITHIN_S
    assert first.returncode == 0
    assert resumed_s < RELEASE_WITHIN_S + 2  # B polls every 0.2 s; the stale window is 120 s
    resumed_from = [
        e.data["resumed_from_step"]
        for e in store.log.events(job.id, None, 1000).rows
        if e.data and "resumed_from_step" in e.data
    ]
    assert resumed_from == [handed]  # B started from A's last step, not from an older one
    assert row is not None
    assert (row.attempts, row.handbacks) == (1, 1)  # B's run counts, A's handback does not
    store.close()


def _handback_step(store: Store, job_id: str) -> int | None:
    for event in store.log.events(job_id, None, 1000).rows:
        if event.data and "handback_step" in event.data:
            return int(event.data["handback_step"])
    return None
