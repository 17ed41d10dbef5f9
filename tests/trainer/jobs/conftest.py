from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.trainer.jobs.helpers import build_tiny_model
from trainer.jobs.store import Store


@pytest.fixture(scope="session")
def tiny_model(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_tiny_model(tmp_path_factory.mktemp("jobs-model"))


@pytest.fixture
def store(database_url: str) -> Iterator[Store]:
    """An empty job store, on SQLite and on PostgreSQL (``database_url``)."""
    opened = Store(database_url)
    yield opened
    opened.close()
