from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from gateway.app import create_app
from gateway.auth.caller import ADMIN
from gateway.auth.keys import KeyStore, open_key_store
from gateway.settings import Settings
from tests.trainer.jobs.helpers import MODEL_NAME, build_tiny_model


@pytest.fixture(scope="session")
def tiny_model(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_tiny_model(tmp_path_factory.mktemp("finetune-model"))


@pytest.fixture
def settings(tmp_path: Path, tiny_model: Path, database_url: str) -> Settings:
    """A gateway whose upstream is nowhere: the fine-tuning routes do not need the engine.
    Its database: SQLite and PostgreSQL (``database_url``)."""
    return Settings(
        data_dir=tmp_path / "data",
        database_url=database_url,
        base_model=str(tiny_model),
        served_model_name=MODEL_NAME,
        upstreams=["http://127.0.0.1:9"],
    )


@pytest.fixture
def keys(settings: Settings) -> Iterator[KeyStore]:
    """The key store of the app's database (to make keys for its clients)."""
    store = open_key_store(settings)
    yield store
    store.close()


def bearer(secret: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {secret}"}


@pytest.fixture
def client(settings: Settings, keys: KeyStore) -> Iterator[TestClient]:
    """A client of the app holding an admin key (auth is on, as by default)."""
    _, secret = keys.create("root", ADMIN)
    with TestClient(create_app(settings), headers=bearer(secret)) as test_client:
        yield test_client
