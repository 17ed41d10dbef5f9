"""CSV uploads: a column mapping turns each row into a chat (the datasets' own converter,
run where the file is checked), stored as OpenAI ``messages`` JSONL like any other upload."""

from __future__ import annotations

from gateway.errors import APIError
from trainer.datasets.intake import CsvMapping

NEEDS_MAPPING = (
    "A CSV file needs a column mapping: send prompt_column and completion_column (names from "
    "its header row), and optionally system (a system prompt for every row)."
)


def columns_of(prompt: str | None, completion: str | None, system: str | None) -> CsvMapping | None:
    """The mapping sent with an upload; None when none was sent; 400 when half of one."""
    if prompt is None and completion is None:
        return None
    if not prompt or not completion:
        param = "completion_column" if prompt else "prompt_column"
        raise APIError(400, NEEDS_MAPPING, param=param, code="invalid_value")
    return CsvMapping(prompt, completion, system or None)


def mapping_problem(suffix: str, mapping: CsvMapping | None) -> APIError | None:
    """A CSV file without a mapping cannot be read: refused before its bytes are."""
    if suffix == ".csv" and mapping is None:
        return APIError(400, NEEDS_MAPPING, param="prompt_column", code="invalid_value")
    return None
