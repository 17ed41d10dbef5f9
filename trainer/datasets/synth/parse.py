"""A teacher's answer -> one checked example, or the reason it is rejected.

Parsing is lenient (code fences, prose around the JSON); checking is not: the example must
be in a format loragate reads and pass the same line-level validation as an upload.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any, Literal

from trainer.datasets.checks import build_example
from trainer.datasets.example import ChatExample
from trainer.datasets.formats import detect_format
from trainer.datasets.issues import IssueLog
from trainer.datasets.records import Record

Reason = Literal["not_json", "wrong_shape", "invalid", "too_long", "duplicate", "near_duplicate"]
REASONS: tuple[Reason, ...] = (
    "not_json",
    "wrong_shape",
    "invalid",
    "too_long",
    "duplicate",
    "near_duplicate",
)
_FENCE = re.compile(r"```(?:json|JSON)?\s*\n?(.*?)```", re.DOTALL)


@dataclass(frozen=True)
class Rejected:
    reason: Reason
    detail: str


def parse_answer(text: str, max_chars: int) -> ChatExample | Rejected:
    """The example in ``text`` (a JSON object, perhaps fenced or inside prose)."""
    data = _json_object(text)
    if data is None:
        return Rejected("not_json", _snippet(text))
    if isinstance(data, dict) and "example" in data and isinstance(data["example"], dict):
        data = data["example"]
    if not isinstance(data, dict):
        return Rejected("wrong_shape", f"a JSON {type(data).__name__}, not an object")
    record = Record(0, data)
    fmt = detect_format([record])
    if fmt is None:
        return Rejected("wrong_shape", f"keys {sorted(data)[:5]}: not an example")
    log = IssueLog("answer")
    example = build_example(record, fmt, log)
    if example is None:
        return Rejected("invalid", "; ".join(issue.message for issue in log.issues[:3]))
    size = sum(len(message.content) for message in example.messages)
    if size > max_chars:
        return Rejected("too_long", f"{size} characters, over {max_chars}")
    return example


def _json_object(text: str) -> Any:
    candidates = [match.group(1) for match in _FENCE.finditer(text)] + [text]
    for candidate in candidates:
        start, end = candidate.find("{"), candidate.rfind("}")
        for chunk in (candidate.strip(), candidate[start : end + 1] if 0 <= start < end else ""):
            if not chunk:
                continue
            try:
                return json.loads(chunk)
            except ValueError:
                continue
    return None


def _snippet(text: str, size: int = 60) -> str:
    flat = " ".join(text.split())
    return flat[:size] + ("..." if len(flat) > size else "")
