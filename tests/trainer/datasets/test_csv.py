"""CSV rows become examples through a column mapping; bad cells are named by line."""

from __future__ import annotations

import pytest

from tests.trainer.datasets.helpers import WriteFile
from trainer.datasets import ChatExample, DatasetError, convert_csv


def test_columns_map_to_turns(write_file: WriteFile) -> None:
    path = write_file("d.csv", 'id,text,label\n1,"good, really",pos\n2,"two\nlines",neg\n')
    examples = convert_csv(path, "text", "label")
    assert examples == [
        ChatExample.from_pairs([("user", "good, really"), ("assistant", "pos")]),
        ChatExample.from_pairs([("user", "two\nlines"), ("assistant", "neg")]),
    ]
    assert [example.source_line for example in examples] == [2, 3]


def test_system_prompt_is_added(write_file: WriteFile) -> None:
    path = write_file("d.csv", "q,a\nhi,there\n")
    (example,) = convert_csv(path, "q", "a", system="be kind")
    assert [message.role for message in example.messages] == ["system", "user", "assistant"]


def test_missing_columns_are_listed(write_file: WriteFile) -> None:
    path = write_file("d.csv", "q,a\nhi,there\n")
    with pytest.raises(DatasetError) as caught:
        convert_csv(path, "review", "a")
    assert str(caught.value) == f"{path}:1: review: no such column (columns: q, a)"


def test_empty_cells_are_named(write_file: WriteFile) -> None:
    path = write_file("d.csv", "q,a\nhi,there\n,x\nhello,\n")
    with pytest.raises(DatasetError) as caught:
        convert_csv(path, "q", "a")
    assert [str(issue) for issue in caught.value.issues] == [
        f"{path}:3: q: empty content",
        f"{path}:4: a: empty content",
    ]


def test_header_only_is_an_error(write_file: WriteFile) -> None:
    with pytest.raises(DatasetError, match="no examples in the file"):
        convert_csv(write_file("d.csv", "q,a\n"), "q", "a")
