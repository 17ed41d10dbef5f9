"""A job tells its training file's quality warnings in its ``validating_files`` events."""

from __future__ import annotations

from pathlib import Path

from tests.trainer.datasets import crafted
from tests.trainer.jobs.helpers import add_file, add_job, quick_spec, worker_config
from trainer.jobs.states import SUCCEEDED
from trainer.jobs.worker import Worker


def test_warnings_show_in_the_job_s_events_and_do_not_block_it(
    tmp_path: Path, tiny_model: Path
) -> None:
    worker = Worker(worker_config(tmp_path, tiny_model))
    store = worker.store
    data = add_file(store, crafted.write_flawed(tmp_path / "flawed.jsonl", invalid=False))
    job = add_job(store, data.id, quick_spec())
    assert worker.run_once()
    done = store.jobs.get(job.id)
    assert done is not None
    assert done.status == SUCCEEDED, done.error  # warnings never block
    events = list(reversed(store.log.events(job.id, None, 1000).rows))
    found = {e.data["code"]: e for e in events if e.data and "code" in e.data}
    expected = {
        "exact_duplicates": [crafted.EXACT_COPY],
        "near_duplicates": [crafted.NEAR_COPY],
        "conflicting_answers": list(crafted.CONFLICT),
        "no_user_turn": [crafted.NO_USER],
        "cut_off_answers": [crafted.CUT_OFF],
    }
    for code, lines in expected.items():
        event = found[code]
        assert event.level == "warn"
        assert event.data is not None
        assert event.data["lines"] == lines
        assert event.data["phase"] == "validating_files"
        assert f"training_file {data.id}" in event.message
    assert found["over_max_seq_len"].data["count"] >= 1  # type: ignore[index]
    messages = [e.message for e in events]
    first_data = min(messages.index(e.message) for e in found.values())
    assert first_data < messages.index("Fine-tuning started")  # told before training
    store.close()
