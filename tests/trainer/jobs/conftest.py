from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.trainer.jobs.helpers import build_tiny_model
from trainer.jobs.store import Store
from trainer.jobs.tables import Base

# Set to a PostgreSQL URL (postgresql+psycopg://...) to run the store tests against it.
TEST_DATABASE_URL = os.environ.get("LORAGATE_TEST_DATABASE_URL")


@pytest.fixture(scope="session")
def tiny_model(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_tiny_model(tmp_path_factory.mktemp("jobs-model"))


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    """An empty job store: SQLite in ``tmp_path``, or the test database when one is named."""
    opened = Store(TEST_DATABASE_URL or f"sqlite:///{tmp_path / 'loragate.db'}")
    if TEST_DATABASE_URL:
        Base.metadata.drop_all(opened.db.engine)
        Base.metadata.create_all(opened.db.engine)
    yield opened
    opened.close()
