"""CSV uploads: a column mapping turns each row into a chat (the datasets' own converter),
stored as OpenAI ``messages`` JSONL like any other upload."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from pathlib import Path

from gateway.errors import APIError

NEEDS_MAPPING = (
    "A CSV file needs a column mapping: send prompt_column and completion_column (names from "
    "its header row), and optionally system (a system prompt for every row)."
)


@dataclass(frozen=True)
class CsvColumns:
    prompt: str
    completion: str
    system: str | None = None


def columns_of(prompt: str | None, completion: str | None, system: str | None) -> CsvColumns | None:
    """The mapping sent with an upload; None when none was sent; 400 when half of one."""
    if prompt is None and completion is None:
        return None
    if not prompt or not completion:
        param = "completion_column" if prompt else "prompt_column"
        raise APIError(400, NEEDS_MAPPING, param=param, code="invalid_value")
    return CsvColumns(prompt, completion, system or None)


def csv_to_jsonl(staged: Path, filename: str, columns: CsvColumns | None) -> Path:
    """Convert the staged CSV into JSONL beside it (returned); 400 naming every problem."""
    from trainer.datasets import DatasetError, convert_csv, write_jsonl

    if columns is None:
        raise APIError(400, NEEDS_MAPPING, param="prompt_column", code="invalid_value")
    try:
        examples = convert_csv(staged, columns.prompt, columns.completion, columns.system)
    except DatasetError as exc:
        issues = [str(dataclasses.replace(issue, path=filename)) for issue in exc.issues]
        if exc.total > len(issues):
            issues.append(f"... and {exc.total - len(issues)} more problems")
        header = f"The file '{filename}' is not a usable CSV dataset ({exc.total} problems):"
        raise APIError(
            400, "\n".join([header, *issues]), param="file", code="invalid_file"
        ) from None
    converted = staged.with_suffix(".jsonl")
    write_jsonl(examples, converted)
    return converted
