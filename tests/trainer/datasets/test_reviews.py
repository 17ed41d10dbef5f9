"""The synthetic review dataset: deterministic, balanced, distinct, valid, keyword-labelled."""

from __future__ import annotations

import subprocess
import sys
from collections import Counter
from pathlib import Path

import pytest

from trainer.datasets import load_examples, validate_file
from trainer.datasets.reviews import (
    NEGATIVE_LABEL,
    NEGATIVE_PHRASES,
    POSITIVE_LABEL,
    POSITIVE_PHRASES,
    make_review_examples,
)

SCRIPT = Path(__file__).resolve().parents[3] / "examples" / "make_reviews.py"


def test_same_seed_same_reviews() -> None:
    assert make_review_examples(100, seed=7) == make_review_examples(100, seed=7)
    assert make_review_examples(100, seed=7) != make_review_examples(100, seed=8)


@pytest.mark.parametrize("count", [0, 1, 2, 401])
def test_labels_are_balanced(count: int) -> None:
    labels = Counter(example.messages[-1].content for example in make_review_examples(count))
    assert labels[POSITIVE_LABEL] - labels[NEGATIVE_LABEL] == count % 2
    assert sum(labels.values()) == count


def test_reviews_are_distinct_and_carry_their_keywords() -> None:
    examples = make_review_examples(400)
    reviews = [example.messages[1].content for example in examples]
    assert len(set(reviews)) == len(reviews)
    for example in examples:
        review, label = example.messages[1].content, example.messages[2].content
        positive = any(phrase in review for phrase in POSITIVE_PHRASES)
        negative = any(phrase in review for phrase in NEGATIVE_PHRASES)
        assert (positive, negative) == (label == POSITIVE_LABEL, label == NEGATIVE_LABEL)


def test_script_writes_valid_files(tmp_path: Path) -> None:
    out = tmp_path / "reviews.jsonl"
    command = [
        sys.executable,
        str(SCRIPT),
        "--n",
        "40",
        "--seed",
        "0",
        "--out",
        str(out),
        "--split",
    ]
    subprocess.run(command, check=True, capture_output=True, cwd=tmp_path)
    report = validate_file(out)
    assert (report.ok, report.examples, report.format) == (True, 40, "openai")
    assert load_examples(out) == make_review_examples(40, seed=0)
    parts = ("train", "validation", "test")
    sizes = [len(load_examples(tmp_path / f"reviews.{part}.jsonl")) for part in parts]
    assert sizes == [32, 4, 4]
