"""Every kind of bad record is reported with its file, line and field; all are collected."""

from __future__ import annotations

import json
from typing import Any

import pytest

from tests.trainer.datasets.helpers import WriteFile
from trainer.datasets import MAX_REPORTED_ISSUES, DatasetError, load_examples, validate_file

GOOD = {"messages": [{"role": "user", "content": "q"}, {"role": "assistant", "content": "a"}]}


def jsonl(*records: Any) -> str:
    """Records as JSONL; a ``str`` record is written as the raw line."""
    lines = [r if isinstance(r, str) else json.dumps(r) for r in records]
    return "\n".join(lines) + "\n"


def messages(*turns: tuple[Any, Any]) -> dict[str, Any]:
    return {"messages": [{"role": role, "content": content} for role, content in turns]}


BAD_OPENAI_RECORDS: list[tuple[Any, str]] = [
    ('{"messages": [', "invalid JSON: Expecting value (column 15)"),
    ("[1, 2]", "expected a JSON object, got array"),
    ({"prompt": "q"}, "messages: missing: every example needs a list of turns"),
    ({"messages": []}, "messages: empty: an example needs at least one assistant turn"),
    ({"messages": "hi"}, "messages: expected an array of turns, got string"),
    ({"messages": ["hi"]}, "messages[0]: expected an object with 'role', got string"),
    ({"messages": [{"role": "user"}]}, "messages[0].content: missing"),
    (
        messages(("user", "q"), ("bot", "a")),
        "messages[1].role: unknown role 'bot' (expected system, user or assistant)",
    ),
    (messages(("user", "q"), ("assistant", "  ")), "messages[1].content: empty content"),
    (
        messages(("user", "q"), ("assistant", 5)),
        "messages[1].content: expected a string, got number",
    ),
    (
        messages(("user", [{"type": "text"}]), ("assistant", "a")),
        "messages[0].content: expected a string, got array",
    ),
    (
        messages(("system", "s"), ("user", "q")),
        "messages: no assistant turn: an example needs a reply to learn from",
    ),
    (
        messages(("user", "q"), ("assistant", "a"), ("user", "more")),
        "messages[2]: last turn is 'user': an example must end with an assistant turn",
    ),
]


@pytest.mark.parametrize(("record", "message"), BAD_OPENAI_RECORDS)
def test_bad_record_is_named_with_line_and_field(
    write_file: WriteFile, record: Any, message: str
) -> None:
    path = write_file("data.jsonl", jsonl(GOOD, GOOD, record, GOOD))
    report = validate_file(path)
    assert [str(issue) for issue in report.errors] == [f"{path}:3: {message}"]
    assert report.examples == 3
    assert report.format == "openai"
    assert not report.ok


def test_all_problems_are_collected(write_file: WriteFile) -> None:
    records = [GOOD] + [record for record, _ in BAD_OPENAI_RECORDS]
    path = write_file("data.jsonl", jsonl(*records))
    with pytest.raises(DatasetError) as caught:
        load_examples(path)
    lines = [issue.line for issue in caught.value.issues]
    assert lines == list(range(2, len(records) + 1))
    assert str(caught.value).splitlines()[0] == f"{path}:2: {BAD_OPENAI_RECORDS[0][1]}"


def test_issue_fields(write_file: WriteFile) -> None:
    path = write_file("data.jsonl", jsonl(GOOD, messages(("user", "q"), ("bot", "a"))))
    (issue,) = validate_file(path).errors
    assert (issue.path, issue.line, issue.field) == (str(path), 2, "messages[1].role")


def test_one_record_can_have_several_problems(write_file: WriteFile) -> None:
    path = write_file("data.jsonl", jsonl(messages(("bot", ""), ("assistant", None))))
    assert [issue.field for issue in validate_file(path).errors] == [
        "messages[0].role",
        "messages[0].content",
        "messages[1].content",
    ]


def test_reports_are_capped(write_file: WriteFile) -> None:
    path = write_file("data.jsonl", jsonl(*["not json"] * (MAX_REPORTED_ISSUES + 20)))
    report = validate_file(path)
    assert len(report.errors) == MAX_REPORTED_ISSUES
    assert report.error_count == MAX_REPORTED_ISSUES + 20
    with pytest.raises(DatasetError, match=r"\.\.\. and 20 more problems"):
        load_examples(path)


@pytest.mark.parametrize(
    ("record", "message"),
    [
        ({"from": "x"}, "cannot tell the dataset format"),
        ({"instruction": 3, "output": "a"}, "instruction: expected a string, got number"),
        ({"instruction": "q"}, "output: missing"),
        ({"instruction": "q", "output": ""}, "output: empty content"),
        ({"instruction": "q", "output": "a", "history": [["x"]]}, "history[0]: expected a"),
        ({"instruction": "q", "output": "a", "history": [["x", 1]]}, "history[0][1]: expected"),
        (
            {"conversations": [{"from": "bot", "value": "a"}]},
            "conversations[0].from: unknown role 'bot' (expected human, gpt, system, user or",
        ),
        (
            {"conversations": [{"role": "observation", "content": "a"}]},
            "conversations[0].role: unknown role 'observation'",
        ),
    ],
)
def test_other_formats_name_their_fields(write_file: WriteFile, record: Any, message: str) -> None:
    path = write_file("data.jsonl", "\n" + jsonl(record))
    (issue,) = validate_file(path).errors
    assert str(issue).startswith(f"{path}:2: {message}" if issue.line else f"{path}: {message}")


def test_bad_json_array_is_located(write_file: WriteFile) -> None:
    path = write_file("data.json", '[\n  {"messages": []},\n  {"messages": [}\n]\n')
    (issue,) = validate_file(path).errors
    assert str(issue) == f"{path}:3: invalid JSON: Expecting value (column 17)"


def test_json_array_item_problems_have_item_lines(write_file: WriteFile) -> None:
    items = [GOOD, messages(("user", "q"))]
    path = write_file("data.json", json.dumps(items, indent=2))
    (issue,) = validate_file(path).errors
    assert issue.line == 2 + len(json.dumps(GOOD, indent=2).splitlines())


@pytest.mark.parametrize(("name", "text"), [("empty.jsonl", ""), ("blank.jsonl", "\n\n")])
def test_empty_file_is_an_error(write_file: WriteFile, name: str, text: str) -> None:
    report = validate_file(write_file(name, text))
    assert [issue.message for issue in report.errors] == ["no examples in the file"]


def test_not_utf8(write_file: WriteFile) -> None:
    path = write_file("data.jsonl", "")
    path.write_bytes(b'{"messages": "\xff"}\n')
    (issue,) = validate_file(path).errors
    assert issue.message == "not UTF-8 text (bad byte at offset 14)"


def test_csv_needs_a_mapping(write_file: WriteFile) -> None:
    path = write_file("data.csv", "a,b\n1,2\n")
    with pytest.raises(DatasetError, match="CSV needs a column mapping"):
        load_examples(path)


def test_problems_come_in_line_order(write_file: WriteFile) -> None:
    bad_role = messages(("user", "q"), ("bot", "a"))
    path = write_file("data.jsonl", jsonl(bad_role, "{oops", messages(("user", "q")), 7))
    assert [issue.line for issue in validate_file(path).errors] == [1, 2, 3, 4]
