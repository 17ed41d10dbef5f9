"""Examples are written as OpenAI ``messages`` JSONL and read back unchanged."""

from __future__ import annotations

import json
from pathlib import Path

from tests.trainer.datasets.helpers import SAMPLES
from trainer.datasets import load_examples, split_examples, write_jsonl, write_split


def test_round_trip(tmp_path: Path) -> None:
    examples = load_examples(SAMPLES / "sharegpt.json")
    out = tmp_path / "sub" / "out.jsonl"
    assert write_jsonl(examples, out) == len(examples)
    assert load_examples(out) == examples
    assert out.read_text(encoding="utf-8") == (SAMPLES / "openai.jsonl").read_text()
    assert list(tmp_path.joinpath("sub").iterdir()) == [out]


def test_lines_are_messages_objects_with_readable_text(tmp_path: Path) -> None:
    out = tmp_path / "out.jsonl"
    write_jsonl(load_examples(SAMPLES / "openai.jsonl"), out)
    first = out.read_text(encoding="utf-8").splitlines()[0]
    assert "好评" in first
    assert list(json.loads(first)) == ["messages"]


def test_write_split_names_the_parts(tmp_path: Path) -> None:
    examples = load_examples(SAMPLES / "openai.jsonl")
    paths = write_split(split_examples(examples), tmp_path / "reviews.jsonl")
    assert {part: path.name for part, path in paths.items()} == {
        "train": "reviews.train.jsonl",
        "validation": "reviews.validation.jsonl",
        "test": "reviews.test.jsonl",
    }
    counts = [len(load_examples(path)) for path in paths.values()]
    assert counts == [2, 1, 1]
