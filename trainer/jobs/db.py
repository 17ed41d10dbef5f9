"""Connecting to the product database (the job store and the gateway's shared state): one
SQLAlchemy engine, the schema migrated on first use (``trainer.jobs.schema``).

SQLite (the default, one file in the data folder) runs in WAL mode with a busy timeout, so
the gateway and any number of workers can read and write it at once. Any other URL
(``postgresql+psycopg://...``) is used as given; nothing here is SQLite-only.
"""

from __future__ import annotations

import sqlite3
import time
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session, sessionmaker

from trainer.jobs.schema import upgrade

SQLITE_BUSY_TIMEOUT_MS = 30_000


def sqlite_url(path: Path) -> str:
    return f"sqlite:///{path}"


def _on_sqlite_connect(connection: Any, _record: Any) -> None:
    cursor = connection.cursor()
    cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
    _switch_to_wal(cursor)
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


def _switch_to_wal(cursor: Any) -> None:
    """WAL mode; switching a new file needs it to itself, and SQLite answers "database is
    locked" at once (no busy wait) when another process opens it at the same moment."""
    deadline = time.monotonic() + SQLITE_BUSY_TIMEOUT_MS / 1000
    while True:
        try:
            cursor.execute("PRAGMA journal_mode=WAL")
            return
        except sqlite3.OperationalError as exc:
            if "locked" not in str(exc) or time.monotonic() > deadline:
                raise
            time.sleep(0.05)


def connect(url: str, *, migrate: bool = True) -> Engine:
    """An engine for ``url``; with ``migrate``, the schema brought to the newest revision
    first (``trainer.jobs.schema.upgrade``: under a lock, a no-op when it is current)."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        if parsed.database and parsed.database != ":memory:":
            Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(url, connect_args={"timeout": SQLITE_BUSY_TIMEOUT_MS / 1000})
        event.listen(engine, "connect", _on_sqlite_connect)
    else:
        engine = create_engine(url, pool_pre_ping=True)
    if migrate:
        upgrade(engine)
    return engine


class Database:
    """The engine and a session factory; each operation opens and commits its own session."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.engine = connect(url)
        self.session: sessionmaker[Session] = sessionmaker(self.engine, expire_on_commit=False)

    def close(self) -> None:
        self.engine.dispose()
