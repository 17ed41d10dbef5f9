"""Connecting to the job store: one SQLAlchemy engine, tables created on first use.

SQLite (the default, one file in the data folder) runs in WAL mode with a busy timeout, so
the gateway and any number of workers can read and write it at once. Any other URL
(``postgresql+psycopg://...``) is used as given; nothing here is SQLite-only.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sqlalchemy import Column, Engine, MetaData, create_engine, event, inspect, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError, OperationalError
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


def connect(url: str, metadata: MetaData = Base.metadata) -> Engine:
    """An engine for ``url`` with the tables of ``metadata`` (the job store's) in place,
    with the columns an older version lacked added."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        if parsed.database and parsed.database != ":memory:":
            Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(url, connect_args={"timeout": SQLITE_BUSY_TIMEOUT_MS / 1000})
        event.listen(engine, "connect", _on_sqlite_connect)
    else:
        engine = create_engine(url, pool_pre_ping=True)
    _create_tables(engine, metadata)
    add_missing_columns(engine, metadata)
    return engine


def _create_tables(engine: Engine, metadata: MetaData) -> None:
    # Two processes starting at once may both try to create a table: the loser retries.
    try:
        metadata.create_all(engine)
    except OperationalError:
        metadata.create_all(engine)


def add_missing_columns(engine: Engine, metadata: MetaData) -> list[str]:
    """Add the nullable columns a newer version declares to tables made by an older one
    (``ALTER TABLE ... ADD COLUMN``, portable); returns ``table.column`` of each added."""
    added = []
    existing_tables = set(inspect(engine).get_table_names())
    for table in metadata.sorted_tables:
        if table.name not in existing_tables:
            continue
        present = _column_names(engine, table.name)
        for column in table.columns:
            if column.name not in present and column.nullable and _add_column(engine, column):
                added.append(f"{table.name}.{column.name}")
    return added


def _column_names(engine: Engine, table: str) -> set[str]:
    return {column["name"] for column in inspect(engine).get_columns(table)}


def _add_column(engine: Engine, column: Column[Any]) -> bool:
    """Add ``column`` to its table; False when another process added it first."""
    quote = engine.dialect.identifier_preparer.quote
    kind = column.type.compile(dialect=engine.dialect)
    statement = f"ALTER TABLE {quote(column.table.name)} ADD COLUMN {quote(column.name)} {kind}"
    try:
        with engine.begin() as connection:
            connection.execute(text(statement))
    except DBAPIError:
        if column.name in _column_names(engine, column.table.name):
            return False
        raise
    return True


class Database:
    """The engine and a session factory; each operation opens and commits its own session."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.engine = connect(url)
        self.session: sessionmaker[Session] = sessionmaker(self.engine, expire_on_commit=False)

    def close(self) -> None:
        self.engine.dispose()
