"""The schema loragate had when migrations began (revision 0001), frozen: the tables as the
code made them with ``create_all`` until then. The models move on; this file never changes.
``baseline-<dialect>.sql`` is its DDL (``python -m trainer.jobs.migrations.ddl``).
"""

from __future__ import annotations

from sqlalchemy import (
    JSON,
    BigInteger,
    Column,
    Float,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
)


def _key() -> Column[int]:
    return Column("seq", Integer, primary_key=True, autoincrement=True)


def _public_id() -> Column[str]:
    return Column("id", String(64), nullable=False, unique=True, index=True)


def _files(metadata: MetaData) -> Table:
    return Table(
        "files", metadata, _key(), _public_id(),
        Column("filename", String(512), nullable=False),
        Column("purpose", String(32), nullable=False),
        Column("bytes", BigInteger, nullable=False),
        Column("created_at", BigInteger, nullable=False),
        Column("path", Text, nullable=False),
        Column("status", String(32), nullable=False),
        Column("format", String(32)),
        Column("examples", Integer),
        Column("tokens", BigInteger),
        Column("owner", String(128)),
    )  # fmt: skip


def _jobs(metadata: MetaData) -> Table:
    return Table(
        "jobs", metadata, _key(), _public_id(),
        Column("status", String(32), nullable=False, index=True),
        Column("model", String(512), nullable=False),
        Column("training_file", String(64), nullable=False),
        Column("validation_file", String(64)),
        Column("suffix", String(64)),
        Column("seed", BigInteger, nullable=False),
        Column("hyperparameters", JSON, nullable=False),
        Column("created_at", BigInteger, nullable=False),
        Column("started_at", BigInteger),
        Column("finished_at", BigInteger),
        Column("estimated_finish", BigInteger),
        Column("fine_tuned_model", String(512)),
        Column("trained_tokens", BigInteger),
        Column("error", JSON),
        Column("result", JSON),
        Column("worker_id", String(128)),
        Column("heartbeat_at", Float),
        Column("attempts", Integer, nullable=False),
        Column("owner", String(128)),
    )  # fmt: skip


def _job_events(metadata: MetaData) -> Table:
    return Table(
        "job_events", metadata, _key(),
        Column("id", String(64), nullable=False),
        Column("job_id", String(64), nullable=False, index=True),
        Column("created_at", BigInteger, nullable=False),
        Column("level", String(16), nullable=False),
        Column("type", String(16), nullable=False),
        Column("message", Text, nullable=False),
        Column("data", JSON),
        UniqueConstraint("id"),
    )  # fmt: skip


def _checkpoints(metadata: MetaData) -> Table:
    return Table(
        "checkpoints", metadata, _key(),
        Column("id", String(64), nullable=False),
        Column("job_id", String(64), nullable=False, index=True),
        Column("step", Integer, nullable=False),
        Column("created_at", BigInteger, nullable=False),
        Column("metrics", JSON, nullable=False),
        Column("path", Text, nullable=False),
        UniqueConstraint("id"),
    )  # fmt: skip


def _api_keys(metadata: MetaData) -> Table:
    return Table(
        "api_keys", metadata, _key(), _public_id(),
        Column("name", String(128), nullable=False, index=True),
        Column("secret_hash", String(64), nullable=False, unique=True, index=True),
        Column("hint", String(16), nullable=False),
        Column("role", String(16), nullable=False),
        Column("rpm", Integer),
        Column("tpm", BigInteger),
        Column("created_at", BigInteger, nullable=False),
        Column("created_by", String(128)),
        Column("revoked_at", BigInteger),
    )  # fmt: skip


def _degradation_changes(metadata: MetaData) -> Table:
    return Table(
        "degradation_changes", metadata, _key(),
        Column("mode", String(32), nullable=False),
        Column("reason", Text, nullable=False),
        Column("actor", String(128), nullable=False),
        Column("changed_at", Float, nullable=False),
    )  # fmt: skip


def baseline_metadata() -> MetaData:
    """A new ``MetaData`` holding the baseline's six tables."""
    metadata = MetaData()
    for make in (_files, _jobs, _job_events, _checkpoints, _api_keys, _degradation_changes):
        make(metadata)
    return metadata
