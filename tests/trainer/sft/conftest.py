from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from trainer.default_model import ensure_default_model


@pytest.fixture(scope="session")
def default_model(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The tiny default base model, made once for all SFT tests."""
    return ensure_default_model(tmp_path_factory.mktemp("sft") / "model")


@pytest.fixture(scope="session")
def tokenizer(default_model: Path) -> Any:
    from transformers import AutoTokenizer

    return AutoTokenizer.from_pretrained(default_model)
