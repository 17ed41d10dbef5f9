"""Fine-tune metrics come from the job store at scrape time."""

from __future__ import annotations

from pathlib import Path

from prometheus_client import CollectorRegistry

from gateway.observability.finetune import FinetuneCollector
from tests.trainer.jobs.helpers import add_job
from trainer.jobs.states import FAILED, RUNNING
from trainer.jobs.store import Store


def registry_for(url: str) -> CollectorRegistry:
    registry = CollectorRegistry()
    registry.register(FinetuneCollector(url))
    return registry


def test_no_store_yet_exports_zeros_and_creates_nothing(tmp_path: Path) -> None:
    db = tmp_path / "loragate.db"
    registry = registry_for(f"sqlite:///{db}")
    assert registry.get_sample_value("loragate_finetune_jobs", {"status": "queued"}) == 0
    assert not db.exists()


def test_jobs_by_status_and_progress_of_running_jobs(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'loragate.db'}"
    store = Store(url)
    queued = add_job(store)
    running = add_job(store)
    failed = add_job(store)
    store.jobs.transition(running.id, ["queued"], status=RUNNING)
    store.jobs.transition(failed.id, ["queued"], status=FAILED)
    step = {"step": 4, "train_loss": 2.5, "eval_loss": None, "tokens_per_second": 900.0}
    store.log.event(running.id, "step 2", type="metrics", data={**step, "train_loss": 3.0})
    store.log.event(running.id, "eval", type="metrics", data={**step, "eval_loss": 2.75})
    store.log.event(running.id, "step 4", type="metrics", data={**step, "progress": 0.5})
    store.log.event(running.id, "a message without metrics")
    registry = registry_for(url)

    def value(name: str, **labels: str) -> float | None:
        return registry.get_sample_value(name, labels)

    assert value("loragate_finetune_jobs", status="queued") == 1
    assert value("loragate_finetune_jobs", status="running") == 1
    assert value("loragate_finetune_jobs", status="failed") == 1
    assert value("loragate_finetune_jobs", status="succeeded") == 0
    assert value("loragate_finetune_job_train_loss", job_id=running.id) == 2.5
    assert value("loragate_finetune_job_eval_loss", job_id=running.id) == 2.75
    assert value("loragate_finetune_job_tokens_per_second", job_id=running.id) == 900.0
    assert value("loragate_finetune_job_progress", job_id=running.id) == 0.5
    assert value("loragate_finetune_job_train_loss", job_id=queued.id) is None
    store.close()
