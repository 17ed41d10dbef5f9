"""The migrations, on SQLite and PostgreSQL: the baseline is what the code made before them,
a database of that day upgrades with every row intact and usable, the migrated schema is
what the models say, and two processes upgrading at once do it once."""

from __future__ import annotations

import os
import subprocess
import sys
import time

import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext

from gateway.auth.keys import KeyStore
from gateway.protection.modes import Mode
from gateway.protection.switch_store import SwitchStore
from gateway.state.db import StateDatabase
from gateway.state.tables import StateBase
from tests.trainer.jobs.legacy_store import OLD_SECRET, ROWS, baseline_ddl, make_today_database
from trainer.jobs import schema
from trainer.jobs.db import connect
from trainer.jobs.migrations.baseline import baseline_metadata
from trainer.jobs.migrations.ddl import DIALECTS, ddl
from trainer.jobs.states import VALIDATING
from trainer.jobs.store import Store
from trainer.jobs.tables import Base


def models() -> sa.MetaData:
    """Every table the code declares (the job store's and the gateway's)."""
    metadata = sa.MetaData()
    for base in (Base, StateBase):
        for table in base.metadata.tables.values():
            table.to_metadata(metadata)
    return metadata


@pytest.mark.parametrize("dialect", DIALECTS)
def test_the_committed_snapshot_is_the_baseline(dialect: str) -> None:
    assert baseline_ddl(dialect) == ddl(baseline_metadata(), dialect)


def test_the_baseline_has_every_table_the_code_declares() -> None:
    assert set(baseline_metadata().tables) == set(models().tables)


def test_a_migrated_database_is_what_the_models_declare(database_url: str) -> None:
    engine = connect(database_url)
    try:
        with engine.connect() as connection:
            assert schema.current(connection) == schema.head()
            assert compare_metadata(MigrationContext.configure(connection), models()) == []
    finally:
        engine.dispose()


def test_a_database_of_the_baseline_upgrades_with_every_row_usable(database_url: str) -> None:
    make_today_database(database_url)
    store = Store(database_url)  # opening it upgrades it
    state = StateDatabase(database_url)
    try:
        with store.db.engine.connect() as connection:
            assert schema.current(connection) == schema.head()
            for table, rows in ROWS.items():
                count = connection.scalar(sa.text(f"SELECT count(*) FROM {table}"))
                assert count == len(rows), table
        _check_the_job_store(store)
        _check_the_gateway_state(state)
    finally:
        state.close()
        store.close()


def _check_the_job_store(store: Store) -> None:
    old_file = store.files.get("file-old")
    assert old_file is not None
    assert (old_file.owner, old_file.tokens) == ("team-a", 345)
    done = store.jobs.get("ftjob-done")
    assert done is not None
    assert done.result == {"eval_loss": 0.5}
    assert done.fine_tuned_model == "ft:loragate-tiny:old:ftjob-done"
    [event] = store.log.events("ftjob-done", None, 10).rows
    assert event.data == {"step": 10, "loss": 1.5}
    [checkpoint] = store.log.checkpoints("ftjob-done", None, 10).rows
    assert (checkpoint.step, checkpoint.metrics) == (10, {"eval_loss": 0.5})
    claimed = store.jobs.claim_next("worker-after-upgrade")  # the queued job still runs
    assert claimed is not None
    assert (claimed.id, claimed.status, claimed.attempts) == ("ftjob-waiting", VALIDATING, 1)
    store.log.event("ftjob-waiting", "resumed after the upgrade")
    assert len(store.log.events("ftjob-waiting", None, 10).rows) == 1


def _check_the_gateway_state(state: StateDatabase) -> None:
    keys = KeyStore(state)
    caller = keys.lookup(OLD_SECRET)
    assert caller is not None
    assert (caller.key_id, caller.owner, caller.rpm, caller.tpm) == ("key-old", "team-a", 60, 2**40)
    switch = SwitchStore(state)
    assert [entry.mode for entry in switch.history()] == [Mode.NORMAL, Mode.BASE_ONLY]
    switch.change(Mode.FALLBACK, "after the upgrade", "test")
    assert switch.current().mode is Mode.FALLBACK


def test_a_store_older_than_the_baseline_gains_its_owner_columns(database_url: str) -> None:
    """Before auth, files and jobs had no owner: the baseline adds it, as
    ``add_missing_columns`` did on every start until migrations replaced it."""
    make_today_database(database_url)
    engine = sa.create_engine(database_url)
    with engine.begin() as connection:
        connection.execute(sa.text("ALTER TABLE files DROP COLUMN owner"))
        connection.execute(sa.text("ALTER TABLE jobs DROP COLUMN owner"))
        connection.execute(sa.text("DROP TABLE api_keys"))
    engine.dispose()
    store = Store(database_url)
    try:
        old = store.files.get("file-old")
        assert old is not None
        assert old.owner is None
        assert [row.id for row in store.files.page(None, None, 10, owner="team-a").rows] == []
        assert KeyStore(StateDatabase(database_url)).list() == []  # the table is back
    finally:
        store.close()


UPGRADE_AT = """
import sys, time
from trainer.jobs import schema
from trainer.jobs.db import connect
engine = connect(sys.argv[1], migrate=False)
time.sleep(max(0.0, float(sys.argv[2]) - time.time()))
print(schema.upgrade(engine).changed)
"""


def test_two_processes_upgrading_at_once_upgrade_once(database_url: str) -> None:
    start = time.time() + 4  # both have imported everything by then
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", UPGRADE_AT, database_url, str(start)],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            env=os.environ,
        )
        for _ in range(2)
    ]
    results = [proc.communicate(timeout=120) for proc in procs]
    assert [proc.returncode for proc in procs] == [0, 0], [err for _, err in results]
    assert sorted(out.decode().strip() for out, _ in results) == ["False", "True"]
    engine = sa.create_engine(database_url)
    try:
        with engine.connect() as connection:
            versions = connection.execute(sa.text("SELECT version_num FROM alembic_version"))
            assert list(versions.scalars()) == [schema.head()]
            assert compare_metadata(MigrationContext.configure(connection), models()) == []
    finally:
        engine.dispose()


def test_loragate_db_upgrade_then_current(database_url: str) -> None:
    def loragate(*args: str) -> str:
        command = [sys.executable, "-m", "gateway.cli.main", "db", *args, "--url", database_url]
        done = subprocess.run(command, capture_output=True, text=True, timeout=120, check=True)
        return done.stdout

    assert f"from empty to {schema.head()}" in loragate("upgrade")
    assert "nothing to do" in loragate("upgrade")
    assert f"database: {schema.head()}; newest known: {schema.head()}" in loragate("current")
