"""A job store made by an older version (no owner columns) keeps working after an upgrade."""

from __future__ import annotations

from pathlib import Path

import sqlalchemy as sa

from trainer.jobs.db import add_missing_columns, connect
from trainer.jobs.store import Store
from trainer.jobs.tables import Base

OLD_FILES = """CREATE TABLE files (
    seq INTEGER PRIMARY KEY, id VARCHAR(64) UNIQUE, filename VARCHAR(512), purpose VARCHAR(32),
    bytes BIGINT, created_at BIGINT, path TEXT, status VARCHAR(32), format VARCHAR(32),
    examples INTEGER, tokens BIGINT)"""
OLD_JOBS = """CREATE TABLE jobs (
    seq INTEGER PRIMARY KEY, id VARCHAR(64) UNIQUE, status VARCHAR(32), model VARCHAR(512),
    training_file VARCHAR(64), validation_file VARCHAR(64), suffix VARCHAR(64), seed BIGINT,
    hyperparameters JSON, created_at BIGINT, started_at BIGINT, finished_at BIGINT,
    estimated_finish BIGINT, fine_tuned_model VARCHAR(512), trained_tokens BIGINT,
    error JSON, result JSON, worker_id VARCHAR(128), heartbeat_at FLOAT, attempts INTEGER)"""


def make_old_database(path: Path) -> str:
    url = f"sqlite:///{path}"
    engine = sa.create_engine(url)
    with engine.begin() as connection:
        connection.execute(sa.text(OLD_FILES))
        connection.execute(sa.text(OLD_JOBS))
        connection.execute(
            sa.text(
                "INSERT INTO files (id, filename, purpose, bytes, created_at, path, status) "
                "VALUES ('file-old', 'a.jsonl', 'fine-tune', 3, 1, '/x', 'processed')"
            )
        )
    engine.dispose()
    return url


def columns(url: str, table: str) -> set[str]:
    engine = sa.create_engine(url)
    try:
        return {column["name"] for column in sa.inspect(engine).get_columns(table)}
    finally:
        engine.dispose()


def test_opening_an_old_store_adds_the_owner_columns(tmp_path: Path) -> None:
    url = make_old_database(tmp_path / "old.db")
    assert "owner" not in columns(url, "files")
    store = Store(url)
    try:
        assert {"owner"} <= columns(url, "files") & columns(url, "jobs")
        old = store.files.get("file-old")
        assert old is not None
        assert old.owner is None
        assert [row.id for row in store.files.page(None, None, 10, owner="alice").rows] == []
        assert [row.id for row in store.files.page(None, None, 10).rows] == ["file-old"]
    finally:
        store.close()


def test_the_migration_adds_nothing_twice(tmp_path: Path) -> None:
    url = make_old_database(tmp_path / "old.db")
    engine = connect(url)  # migrates
    try:
        assert add_missing_columns(engine, Base.metadata) == []
    finally:
        engine.dispose()
    fresh = sa.create_engine(url)
    try:
        with fresh.begin() as connection:
            connection.execute(sa.text("ALTER TABLE jobs DROP COLUMN owner"))
        assert add_missing_columns(fresh, Base.metadata) == ["jobs.owner"]
    finally:
        fresh.dispose()
