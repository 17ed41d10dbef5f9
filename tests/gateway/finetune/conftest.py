from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from gateway.app import create_app
from gateway.settings import Settings
from tests.trainer.jobs.helpers import MODEL_NAME, build_tiny_model


@pytest.fixture(scope="session")
def tiny_model(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_tiny_model(tmp_path_factory.mktemp("finetune-model"))


@pytest.fixture
def settings(tmp_path: Path, tiny_model: Path) -> Settings:
    """A gateway whose upstream is nowhere: the fine-tuning routes do not need the engine."""
    return Settings(
        data_dir=tmp_path / "data",
        base_model=str(tiny_model),
        served_model_name=MODEL_NAME,
        upstreams=["http://127.0.0.1:9"],
    )


@pytest.fixture
def client(settings: Settings) -> Iterator[TestClient]:
    with TestClient(create_app(settings)) as test_client:
        yield test_client
