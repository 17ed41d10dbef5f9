"""A JSONL file is read one line at a time: checking a large upload does not hold it."""

from __future__ import annotations

import json
import tracemalloc
from pathlib import Path

import pytest

from tests.trainer.datasets.helpers import WriteFile
from trainer.datasets import load_examples, validate_file
from trainer.datasets.issues import IssueLog
from trainer.datasets.records import first_bad_byte, iter_entries


def chat(i: int) -> str:
    turns = [
        {"role": "user", "content": f"review {i}: the food was cold"},
        {"role": "assistant", "content": "negative"},
    ]
    return json.dumps({"messages": turns})


def test_checking_a_file_holds_neither_its_text_nor_its_examples(tmp_path: Path) -> None:
    path = tmp_path / "big.jsonl"
    path.write_text("".join(chat(i) + "\n" for i in range(20_000)), encoding="utf-8")
    size = path.stat().st_size  # about 2 MB
    tracemalloc.start()
    try:
        report = validate_file(path)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert report.ok
    assert report.examples == 20_000
    # Reading it whole held its text, every line and every decoded record: many times its size.
    assert peak < size / 4, f"peak {peak} bytes for a {size}-byte file"


def test_a_line_separator_inside_a_string_does_not_split_its_line(write_file: WriteFile) -> None:
    turns = [
        {"role": "user", "content": "first\u2028second\x85third"},
        {"role": "assistant", "content": "ok"},
    ]
    line = json.dumps({"messages": turns}, ensure_ascii=False)
    path = write_file("data.jsonl", line + "\n" + line + "\n")
    examples = load_examples(path)
    assert [example.source_line for example in examples] == [1, 2]
    assert examples[0].messages[0].content == "first\u2028second\x85third"


def test_windows_line_ends_and_a_bom(tmp_path: Path) -> None:
    path = tmp_path / "data.jsonl"
    path.write_bytes(b"\xef\xbb\xbf" + f"{chat(1)}\r\n\r\n{chat(2)}\r\n".encode())
    assert [example.source_line for example in load_examples(path)] == [1, 3]


def test_a_pretty_printed_object_is_still_read_whole(write_file: WriteFile) -> None:
    text = json.dumps(json.loads(chat(1)), indent=2)
    path = write_file("one.json", text)
    entries = list(iter_entries(path, IssueLog(str(path))))
    assert len(entries) == 1
    assert entries[0].line == 1


@pytest.mark.parametrize("chunk_bytes", [1, 2, 3, 5, 7, 1 << 20])
@pytest.mark.parametrize(
    "data",
    [
        "héllo wörld ✓ 😀".encode() + b"\xff" + b"after",  # a bad byte
        "✓✓✓".encode() + b"\xe2\x9c",  # a character cut off at the end
        "abc 😀".encode()[:-1] + b"x",  # a character cut off in the middle
        "all good ✓😀".encode(),
    ],
)
def test_the_first_bad_byte_is_found_across_chunks(
    tmp_path: Path, data: bytes, chunk_bytes: int
) -> None:
    path = tmp_path / "data.jsonl"
    path.write_bytes(data)
    try:
        data.decode("utf-8")
        expected = None
    except UnicodeDecodeError as exc:
        expected = exc.start
    assert first_bad_byte(path, chunk_bytes) == expected
