"""Token counts use the default model's chat template; over-long examples are flagged."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from tests.trainer.datasets.helpers import SAMPLES, WriteFile
from trainer.datasets import DatasetError, count_tokens, load_examples, validate_file
from trainer.default_model import ensure_default_model


@pytest.fixture(scope="module")
def tokenizer(tmp_path_factory: pytest.TempPathFactory) -> Any:
    from transformers import AutoTokenizer

    model = ensure_default_model(tmp_path_factory.mktemp("datasets") / "m")
    return AutoTokenizer.from_pretrained(model)


def test_count_matches_the_rendered_template(tokenizer: Any) -> None:
    example = load_examples(SAMPLES / "openai.jsonl")[0]
    text = tokenizer.apply_chat_template(example.as_dicts(), tokenize=False)
    assert text.startswith("<|im_start|>system\n")
    expected = len(tokenizer(text, add_special_tokens=False)["input_ids"])
    assert count_tokens(example, tokenizer) == expected


def test_report_sums_tokens(tokenizer: Any) -> None:
    examples = load_examples(SAMPLES / "openai.jsonl")
    report = validate_file(SAMPLES / "openai.jsonl", tokenizer=tokenizer, max_seq_len=2048)
    assert report.ok
    assert report.tokens == sum(count_tokens(example, tokenizer) for example in examples)
    assert validate_file(SAMPLES / "openai.jsonl").tokens is None


def test_over_long_example_is_flagged(tokenizer: Any, write_file: WriteFile) -> None:
    short = {
        "messages": [{"role": "user", "content": "hi"}, {"role": "assistant", "content": "ok"}]
    }
    long = {"messages": [{"role": "user", "content": "好" * 500}, short["messages"][1]]}
    path = write_file("data.jsonl", "\n".join(json.dumps(r) for r in (short, long, short)))
    long_tokens = validate_file(path, tokenizer=tokenizer).tokens
    report = validate_file(path, tokenizer=tokenizer, max_seq_len=100)
    (issue,) = report.errors
    assert (issue.line, issue.field) == (2, "messages")
    assert issue.message.startswith("too long: ")
    assert issue.message.endswith("tokens, over max_seq_len 100")
    assert report.examples == 2
    assert report.tokens is not None
    assert long_tokens is not None
    assert report.tokens < long_tokens
    with pytest.raises(DatasetError, match=":2: messages: too long"):
        load_examples(path, tokenizer=tokenizer, max_seq_len=100)


def test_max_seq_len_needs_a_tokenizer(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="needs a tokenizer"):
        validate_file(SAMPLES / "openai.jsonl", max_seq_len=10)
