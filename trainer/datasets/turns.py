"""Turns as a format stores them, before they are checked: values not yet known to be valid."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class RawTurn:
    """One turn read from a record, with the field names to blame when it is wrong.

    ``role_field`` is ``None`` where the format implies the role (Alpaca's ``output`` is
    always the assistant), so the role cannot be wrong.
    """

    role: Any
    content: Any
    role_field: str | None
    content_field: str
