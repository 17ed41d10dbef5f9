"""Every supported format reads into the same canonical examples."""

from __future__ import annotations

import json

import pytest

from tests.trainer.datasets.helpers import SAMPLES, WriteFile
from trainer.datasets import ChatExample, convert_csv, load_examples, validate_file
from trainer.datasets.reviews import REVIEW_SYSTEM_PROMPT


@pytest.mark.parametrize(
    ("name", "expected_format"),
    [
        ("chatglm3.jsonl", "chatglm3"),
        ("alpaca.json", "alpaca"),
        ("sharegpt.json", "sharegpt"),
    ],
)
def test_each_sample_matches_openai_sample(name: str, expected_format: str) -> None:
    reference = load_examples(SAMPLES / "openai.jsonl")
    assert len(reference) == 4
    assert load_examples(SAMPLES / name) == reference
    report = validate_file(SAMPLES / name)
    assert report.format == expected_format
    assert report.ok
    assert report.examples == 4


def test_csv_sample_matches_openai_sample() -> None:
    examples = convert_csv(SAMPLES / "reviews.csv", "review", "label", system=REVIEW_SYSTEM_PROMPT)
    assert examples == load_examples(SAMPLES / "openai.jsonl")


def test_openai_sample_roles_and_lines() -> None:
    examples = load_examples(SAMPLES / "openai.jsonl")
    first = examples[0]
    assert [message.role for message in first.messages] == ["system", "user", "assistant"]
    assert first.as_dicts()[2] == {"role": "assistant", "content": "好评"}
    assert [example.source_line for example in examples] == [1, 2, 3, 4]


def test_json_array_items_keep_their_start_lines() -> None:
    examples = load_examples(SAMPLES / "sharegpt.json")
    text = (SAMPLES / "sharegpt.json").read_text().splitlines()
    for example in examples:
        assert example.source_line is not None
        assert text[example.source_line - 1].strip() == "{"


def test_alpaca_history_input_and_system(write_file: WriteFile) -> None:
    record = {
        "system": "be brief",
        "history": [["hi", "hello"], ["how are you", "fine"]],
        "instruction": "translate",
        "input": "bonjour",
        "output": "good day",
    }
    path = write_file("a.jsonl", json.dumps(record) + "\n")
    (example,) = load_examples(path)
    assert example == ChatExample.from_pairs(
        [
            ("system", "be brief"),
            ("user", "hi"),
            ("assistant", "hello"),
            ("user", "how are you"),
            ("assistant", "fine"),
            ("user", "translate\nbonjour"),
            ("assistant", "good day"),
        ]
    )


def test_alpaca_without_input_or_system(write_file: WriteFile) -> None:
    path = write_file("a.json", json.dumps([{"instruction": "q", "input": "", "output": "a"}]))
    assert load_examples(path) == [ChatExample.from_pairs([("user", "q"), ("assistant", "a")])]


def test_sharegpt_accepts_user_and_assistant(write_file: WriteFile) -> None:
    turns = [{"from": "user", "value": "q"}, {"from": "assistant", "value": "a"}]
    path = write_file("s.jsonl", json.dumps({"conversations": turns}) + "\n")
    assert validate_file(path).format == "sharegpt"
    assert load_examples(path) == [ChatExample.from_pairs([("user", "q"), ("assistant", "a")])]


def test_multi_turn_openai_with_blank_lines(write_file: WriteFile) -> None:
    messages = [
        {"role": "user", "content": "1"},
        {"role": "assistant", "content": "2"},
        {"role": "user", "content": "3"},
        {"role": "assistant", "content": "4"},
    ]
    path = write_file("d.jsonl", "\n" + json.dumps({"messages": messages}) + "\n\n")
    (example,) = load_examples(path)
    assert example.as_dicts() == messages
    assert example.source_line == 2


def test_format_can_be_forced(write_file: WriteFile) -> None:
    path = write_file("d.jsonl", (SAMPLES / "openai.jsonl").read_text())
    report = validate_file(path, format="alpaca")
    assert report.format == "alpaca"
    assert not report.ok
    assert str(report.errors[0]) == f"{path}:1: instruction: missing"
    with pytest.raises(ValueError, match="unknown dataset format 'parquet'"):
        validate_file(path, format="parquet")


def test_utf8_bom_is_accepted(write_file: WriteFile) -> None:
    text = "\ufeff" + (SAMPLES / "openai.jsonl").read_text()
    assert len(load_examples(write_file("bom.jsonl", text))) == 4


def test_one_pretty_printed_object_is_one_record(write_file: WriteFile) -> None:
    record = json.loads((SAMPLES / "openai.jsonl").read_text().splitlines()[0])
    path = write_file("one.json", "\n" + json.dumps(record, indent=2, ensure_ascii=False))
    (example,) = load_examples(path)
    assert example == load_examples(SAMPLES / "openai.jsonl")[0]
    assert example.source_line == 2
