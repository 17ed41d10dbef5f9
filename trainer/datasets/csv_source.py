"""CSV files with one example per row: a prompt column and a completion column."""

from __future__ import annotations

import csv
from pathlib import Path

from trainer.datasets.example import ChatExample, Role
from trainer.datasets.issues import DatasetError, IssueLog
from trainer.datasets.records import read_text


def convert_csv(
    path: str | Path,
    prompt_column: str,
    completion_column: str,
    system: str | None = None,
) -> list[ChatExample]:
    """Each row as system? + user = prompt cell + assistant = completion cell.

    The first row is the header. A ``DatasetError`` names every missing column and empty
    cell with its line.
    """
    log = IssueLog(str(path))
    text = read_text(Path(path), log)
    if text is None:
        raise DatasetError.from_log(log)
    reader = csv.DictReader(text.splitlines(keepends=True))
    columns = reader.fieldnames or []
    for column in (prompt_column, completion_column):
        if column not in columns:
            log.add(1, column, f"no such column (columns: {', '.join(columns) or 'none'})")
    if log.total:
        raise DatasetError.from_log(log)
    examples = _rows_to_examples(reader, prompt_column, completion_column, system, log)
    if not examples and not log.total:
        log.add(None, None, "no examples in the file")
    if log.total:
        raise DatasetError.from_log(log)
    return examples


def _rows_to_examples(
    reader: csv.DictReader[str],
    prompt_column: str,
    completion_column: str,
    system: str | None,
    log: IssueLog,
) -> list[ChatExample]:
    examples: list[ChatExample] = []
    row_start = reader.line_num + 1
    for row in reader:
        prompt = (row.get(prompt_column) or "").strip()
        completion = (row.get(completion_column) or "").strip()
        for column, cell in ((prompt_column, prompt), (completion_column, completion)):
            if not cell:
                log.add(row_start, column, "empty content")
        if prompt and completion:
            pairs: list[tuple[Role, str]] = [("system", system)] if system else []
            pairs += [("user", prompt), ("assistant", completion)]
            examples.append(ChatExample.from_pairs(pairs, row_start))
        row_start = reader.line_num + 1
    return examples
