from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from gateway.app import create_app
from gateway.auth.caller import ADMIN, USER
from gateway.auth.keys import KeyStore, open_key_store
from gateway.settings import Settings


def bearer(secret: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {secret}"}


@pytest.fixture
def settings(tmp_path: Path, database_url: str) -> Settings:
    """A gateway whose upstream is nowhere: auth and admin routes do not need the engine.
    Its database: SQLite and PostgreSQL (``database_url``)."""
    return Settings(
        data_dir=tmp_path / "data",
        database_url=database_url,
        served_model_name="loragate-tiny",
        upstreams=["http://127.0.0.1:9"],
        auth={"cache_s": 60},
    )


@pytest.fixture
def keys(settings: Settings) -> Iterator[KeyStore]:
    store = open_key_store(settings)
    yield store
    store.close()


@pytest.fixture
def client(settings: Settings) -> Iterator[TestClient]:
    """A client of the app with no key of its own: each test sends the key it means."""
    with TestClient(create_app(settings)) as test_client:
        yield test_client


@pytest.fixture
def admin(keys: KeyStore) -> dict[str, str]:
    return bearer(keys.create("root", ADMIN)[1])


@pytest.fixture
def user(keys: KeyStore) -> dict[str, str]:
    return bearer(keys.create("team-a", USER)[1])
