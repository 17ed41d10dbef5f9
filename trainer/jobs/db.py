"""Connecting to the job store: one SQLAlchemy engine, tables created on first use.

SQLite (the default, one file in the data folder) runs in WAL mode with a busy timeout, so
the gateway and any number of workers can read and write it at once. Any other URL
(``postgresql+psycopg://...``) is used as given; nothing here is SQLite-only.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session, sessionmaker

from trainer.jobs.tables import Base

SQLITE_BUSY_TIMEOUT_MS = 30_000


def sqlite_url(path: Path) -> str:
    return f"sqlite:///{path}"


def _on_sqlite_connect(connection: Any, _record: Any) -> None:
    cursor = connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


def connect(url: str) -> Engine:
    """An engine for ``url`` with the job store's tables in place."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        if parsed.database and parsed.database != ":memory:":
            Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(url, connect_args={"timeout": SQLITE_BUSY_TIMEOUT_MS / 1000})
        event.listen(engine, "connect", _on_sqlite_connect)
    else:
        engine = create_engine(url, pool_pre_ping=True)
    _create_tables(engine)
    return engine


def _create_tables(engine: Engine) -> None:
    # Two processes starting at once may both try to create a table: the loser retries.
    try:
        Base.metadata.create_all(engine)
    except OperationalError:
        Base.metadata.create_all(engine)


class Database:
    """The engine and a session factory; each operation opens and commits its own session."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.engine = connect(url)
        self.session: sessionmaker[Session] = sessionmaker(self.engine, expire_on_commit=False)

    def close(self) -> None:
        self.engine.dispose()
