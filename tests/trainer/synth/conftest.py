from __future__ import annotations

import json
from pathlib import Path

import pytest

SEEDS = [
    ("Review: The noodles arrived cold and an hour late.", "negative"),
    ("Review: Crispy dumplings, generous portion, friendly rider.", "positive"),
    ("Review: The soup spilled all over the bag, never again.", "negative"),
    ("Review: Fresh vegetables and the rice was perfectly cooked.", "positive"),
    ("Review: Wrong order delivered and support never answered.", "negative"),
]
TASK = "Classify a takeaway food review. The answer is one word: positive or negative."


def seed_lines(seeds: list[tuple[str, str]]) -> str:
    rows = []
    for user, answer in seeds:
        turns = [{"role": "user", "content": user}, {"role": "assistant", "content": answer}]
        rows.append(json.dumps({"messages": turns}))
    return "\n".join(rows) + "\n"


@pytest.fixture
def seeds(tmp_path: Path) -> Path:
    path = tmp_path / "seeds.jsonl"
    path.write_text(seed_lines(SEEDS))
    return path


@pytest.fixture
def task(tmp_path: Path) -> Path:
    path = tmp_path / "task.md"
    path.write_text(TASK)
    return path
