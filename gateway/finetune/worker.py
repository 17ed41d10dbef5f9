"""``loragate worker``: the job worker, configured from the gateway's settings."""

from __future__ import annotations

import logging
import signal
from pathlib import Path
from types import FrameType

from gateway.settings import Settings
from trainer.jobs.config import WorkerConfig
from trainer.jobs.worker import Worker


def worker_config(settings: Settings) -> WorkerConfig:
    tuning = settings.finetune
    return WorkerConfig(
        database_url=settings.job_database_url,
        data_dir=settings.data_dir,
        base_model_path=settings.base_model_path,
        max_lora_rank=settings.engine.max_lora_rank,
        make_default_model=settings.base_model is None,
        heartbeat_s=tuning.heartbeat_s,
        stale_after_s=tuning.stale_after_s,
        max_attempts=tuning.max_attempts,
        poll_s=tuning.poll_s,
        cancel_grace_s=tuning.cancel_grace_s,
        handback_grace_s=tuning.handback_grace_s,
        eval_max_new_tokens=tuning.eval_max_new_tokens,
        eval_max_examples=tuning.eval_max_examples,
    )


def run_worker(settings: Settings) -> None:
    """Run jobs until SIGINT/SIGTERM. Then the running job is checkpointed and handed back
    to the queue within ``handback_grace_s`` (the next worker resumes it at once), and the
    worker exits."""
    logging.basicConfig(
        level=settings.log_level.upper(), format="%(asctime)s %(name)s %(levelname)s %(message)s"
    )
    config = worker_config(settings)
    if config.make_default_model:
        from trainer.default_model import ensure_default_model

        ensure_default_model(Path(config.base_model_path))
    worker = Worker(config)

    def stop(signum: int, _frame: FrameType | None) -> None:
        logging.getLogger("loragate.worker").info("signal %d: stopping", signum)
        worker.stop()

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    try:
        worker.run_forever()
    finally:
        worker.store.close()
