from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.helpers import Stack, start_stack, stop_stack


@pytest.fixture(scope="session")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    """One ``loragate up`` (real vLLM on the CPU + gateway) shared by the end-to-end tests."""
    root: Path = tmp_path_factory.mktemp("stack")
    running = start_stack(root / "data", root / "up.log")
    yield running
    stop_stack(running)
