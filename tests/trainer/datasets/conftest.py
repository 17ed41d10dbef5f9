from __future__ import annotations

from pathlib import Path

import pytest

from tests.trainer.datasets.helpers import WriteFile


@pytest.fixture
def write_file(tmp_path: Path) -> WriteFile:
    """Write ``text`` to ``tmp_path / name`` and return the path."""

    def write(name: str, text: str) -> Path:
        path = tmp_path / name
        path.write_text(text, encoding="utf-8")
        return path

    return write
