"""The product database's schema: applying the migrations (``trainer/jobs/migrations``).

Every process that opens the database (gateway workers, fine-tuning workers, the CLI) calls
``upgrade`` first; they often start together, so the upgrade runs under a lock: a
PostgreSQL advisory lock held by the upgrading transaction, or on SQLite an exclusive lock
on a file beside the database. Whoever gets the lock second finds the schema current and
does nothing. A database already at the newest revision costs one small query.
"""

from __future__ import annotations

import fcntl
import functools
import logging
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, Engine, text

log = logging.getLogger("loragate.schema")

MIGRATIONS = "trainer.jobs:migrations"
ADVISORY_LOCK_KEY = 0x6C6F_7261_6761_7465  # "loragate" in ASCII, shared by all its processes


@dataclass(frozen=True)
class Upgrade:
    """What ``upgrade`` found and left: revision ids (None: no loragate schema yet)."""

    before: str | None
    after: str | None

    @property
    def changed(self) -> bool:
        return self.before != self.after


def _config(connection: Connection | None = None) -> Config:
    config = Config()
    config.set_main_option("script_location", MIGRATIONS)
    config.attributes["connection"] = connection
    return config


@functools.cache
def _scripts() -> ScriptDirectory:
    return ScriptDirectory.from_config(_config())


def head() -> str:
    """The newest revision this version of loragate knows."""
    revision = _scripts().get_current_head()
    assert revision is not None, "the migrations folder has no revision"
    return revision


def known(revision: str) -> bool:
    return any(script.revision == revision for script in _scripts().walk_revisions())


def current(connection: Connection) -> str | None:
    return MigrationContext.configure(connection).get_current_revision()


def upgrade(engine: Engine) -> Upgrade:
    """Bring the database to ``head()``, under the lock; a no-op when it is there already,
    or when it is newer than this version (a rollback during a rollout: logged, not fatal)."""
    with engine.connect() as connection:
        before = current(connection)
    if before == head() or (before is not None and not known(before)):
        _warn_if_newer(before)
        return Upgrade(before, before)
    with _exclusive(engine), engine.begin() as connection:
        if engine.dialect.name == "postgresql":
            lock = text("SELECT pg_advisory_xact_lock(:key)")
            connection.execute(lock, {"key": ADVISORY_LOCK_KEY})
        before = current(connection)  # another process may have upgraded it meanwhile
        if before != head():
            log.info("upgrading the database from %s to %s", before or "nothing", head())
            command.upgrade(_config(connection), "head")
    return Upgrade(before, head())


def _warn_if_newer(revision: str | None) -> None:
    if revision is not None and revision != head():
        log.warning(
            "the database's schema (revision %s) is newer than this loragate (%s); "
            "using it as it is",
            revision,
            head(),
        )


@contextmanager
def _exclusive(engine: Engine) -> Iterator[None]:
    """On a SQLite file, an exclusive ``flock`` on ``<file>.migrate-lock`` (SQLite runs DDL
    outside transactions, so its own locks cannot serialise two upgrades); else nothing."""
    database = engine.url.database
    if engine.dialect.name != "sqlite" or not database or database == ":memory:":
        yield
        return
    with Path(f"{database}.migrate-lock").open("a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)
