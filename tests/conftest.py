from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from adapters.record import AdapterRecord
from tests.helpers import Stack, start_stack, stop_stack
from tests.lora_fixtures import publish_random_adapter
from tests.postgres_server import fresh_database, running_postgres
from tests.redis_server import running_redis
from trainer.qwen2_model import QWEN2_MODEL_NAME, ensure_qwen2_model


@pytest.fixture(scope="session")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    """One ``loragate up`` (real vLLM on the CPU + gateway) shared by the end-to-end tests."""
    root: Path = tmp_path_factory.mktemp("stack")
    running = start_stack(root / "data", root / "up.log")
    yield running
    stop_stack(running)


@pytest.fixture(scope="session")
def published_adapter(stack: Stack, tmp_path_factory: pytest.TempPathFactory) -> AdapterRecord:
    """A LoRA adapter of the default model in the running stack's registry, never loaded yet."""
    return publish_random_adapter(
        stack.data_dir / "models" / stack.model,
        stack.data_dir / "adapters",
        tmp_path_factory.mktemp("adapter-src"),
        suffix="served",
    )


@pytest.fixture(scope="session")
def redis_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A real Redis server (redis-server on 127.0.0.1) for the whole test session."""
    with running_redis(tmp_path_factory.mktemp("redis")) as url:
        yield url


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[str]:
    """A real PostgreSQL server (its own cluster on 127.0.0.1) for the whole test session."""
    with running_postgres() as url:
        yield url


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """An empty product database, once on SQLite (a file in ``tmp_path``) and once on
    PostgreSQL (a new database on the session's server)."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'loragate.db'}"
        return
    with fresh_database(request.getfixturevalue("postgres_server")) as url:
        yield url


@pytest.fixture(scope="session")
def qwen2_model(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The tiny Qwen2 test model (Qwen's real tokenizer), made once per test session."""
    return ensure_qwen2_model(tmp_path_factory.mktemp("qwen2") / QWEN2_MODEL_NAME)
