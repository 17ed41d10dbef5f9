"""A product database as the code before migrations made it: the committed baseline DDL,
filled with one of everything (keys, files, jobs, events, checkpoints, degradation history)."""

from __future__ import annotations

from importlib import resources
from typing import Any

import sqlalchemy as sa

from gateway.auth.keys import hash_secret
from trainer.jobs.migrations.baseline import baseline_metadata

OLD_SECRET = "sk-made-before-migrations"
NOW = 1_760_000_000


def baseline_ddl(dialect: str) -> str:
    folder = resources.files("trainer.jobs.migrations")
    return folder.joinpath(f"baseline-{dialect}.sql").read_text()


def make_today_database(url: str) -> None:
    """Run the baseline DDL on an empty database and insert the rows of ``ROWS``."""
    engine = sa.create_engine(url)
    try:
        statements = baseline_ddl(engine.dialect.name).split(";\n")
        tables = baseline_metadata().tables
        with engine.begin() as connection:
            for statement in filter(str.strip, statements):
                connection.execute(sa.text(statement))
            for table, rows in ROWS.items():
                connection.execute(tables[table].insert(), rows)
    finally:
        engine.dispose()


def _job(job_id: str, status: str, **values: Any) -> dict[str, Any]:
    row: dict[str, Any] = {
        "id": job_id, "status": status, "model": "loragate-tiny", "training_file": "file-old",
        "validation_file": None, "suffix": "old", "seed": 7, "hyperparameters": {"n_epochs": 2},
        "created_at": NOW, "started_at": None, "finished_at": None, "estimated_finish": None,
        "fine_tuned_model": None, "trained_tokens": None, "error": None, "result": None,
        "worker_id": None, "heartbeat_at": None, "attempts": 0, "owner": "team-a",
    }  # fmt: skip
    return row | values


ROWS: dict[str, list[dict[str, Any]]] = {
    "api_keys": [
        {
            "id": "key-old",
            "name": "team-a",
            "secret_hash": hash_secret(OLD_SECRET),
            "hint": "sk-...ions",
            "role": "user",
            "rpm": 60,
            "tpm": 2**40,
            "created_at": NOW,
            "created_by": "root",
            "revoked_at": None,
        }
    ],
    "files": [
        {
            "id": "file-old",
            "filename": "train.jsonl",
            "purpose": "fine-tune",
            "bytes": 3,
            "created_at": NOW,
            "path": "/data/files/file-old.jsonl",
            "status": "processed",
            "format": "chat",
            "examples": 12,
            "tokens": 345,
            "owner": "team-a",
        }
    ],
    "jobs": [
        _job(
            "ftjob-done",
            "succeeded",
            finished_at=NOW + 60,
            trained_tokens=1000,
            fine_tuned_model="ft:loragate-tiny:old:ftjob-done",
            result={"eval_loss": 0.5},
            attempts=1,
        ),
        _job("ftjob-waiting", "queued"),
    ],
    "job_events": [
        {
            "id": "ftevent-old",
            "job_id": "ftjob-done",
            "created_at": NOW,
            "level": "info",
            "type": "metrics",
            "message": "step 10",
            "data": {"step": 10, "loss": 1.5},
        }
    ],
    "checkpoints": [
        {
            "id": "ftckpt-old",
            "job_id": "ftjob-done",
            "step": 10,
            "created_at": NOW,
            "metrics": {"eval_loss": 0.5},
            "path": "/data/jobs/ftjob-done/checkpoint-10",
        }
    ],
    "degradation_changes": [
        {"mode": "base-only", "reason": "drill", "actor": "root", "changed_at": NOW + 1.5},
        {"mode": "normal", "reason": "drill over", "actor": "root", "changed_at": NOW + 9.25},
    ],
}
