"""Bounds on what clients may send, so every value fits the column it lands in.

PostgreSQL enforces ``String(n)`` lengths and refuses NUL bytes where SQLite does not; these
types turn such input into a 400 naming the field instead of a database error (a 500).
"""

from __future__ import annotations

from typing import Annotated

from fastapi import Path, Query
from pydantic import Field

LIMIT_MAX = 2**31 - 1
"""The largest rate limit (an ``Integer`` column on every database)."""

NAME_MAX_CHARS = 64
FILENAME_MAX_CHARS = 255
MODEL_MAX_CHARS = 512

NO_CONTROL = r"^[^\x00-\x1f\x7f]*$"
"""No control characters (NUL included): for names, ids and filenames."""

TEXT_NO_NUL = r"^[^\x00]*$"
"""Free text may hold newlines and tabs, never a NUL byte."""

ObjectId = Annotated[
    str, Path(max_length=NAME_MAX_CHARS, pattern=NO_CONTROL, description="The object's id.")
]
After = Annotated[
    str | None,
    Query(
        max_length=NAME_MAX_CHARS,
        pattern=NO_CONTROL,
        description="Id of the last object of the previous page.",
    ),
]
ModelName = Annotated[str, Field(min_length=1, max_length=MODEL_MAX_CHARS, pattern=NO_CONTROL)]
RateLimit = Annotated[int, Field(ge=1, le=LIMIT_MAX)]


def bad_filename(filename: str) -> str | None:
    """What is wrong with an uploaded file's name, or None."""
    if len(filename) > FILENAME_MAX_CHARS:
        return f"the file name is longer than {FILENAME_MAX_CHARS} characters"
    if any(ord(char) < 0x20 or ord(char) == 0x7F for char in filename):
        return "the file name holds control characters"
    return None
