"""Turn checks shared by every format: known roles, non-empty text, an assistant reply last."""

from __future__ import annotations

from trainer.datasets.example import ChatExample, Role
from trainer.datasets.formats import DatasetFormat
from trainer.datasets.issues import IssueLog
from trainer.datasets.records import Record, json_type_name
from trainer.datasets.turns import RawTurn


def build_example(record: Record, fmt: DatasetFormat, log: IssueLog) -> ChatExample | None:
    """The record as a ``ChatExample``, or ``None`` after logging every problem it has."""
    issues_before = log.total
    turns = fmt.read_turns(record, log)
    pairs = [pair for turn in turns if (pair := _checked_turn(turn, fmt, record.line, log))]
    if log.total > issues_before or not pairs:
        return None
    if not _check_order(pairs, fmt, record.line, log):
        return None
    return ChatExample.from_pairs(pairs, record.line)


def _checked_turn(
    turn: RawTurn, fmt: DatasetFormat, line: int, log: IssueLog
) -> tuple[Role, str] | None:
    role = fmt.roles.get(turn.role) if isinstance(turn.role, str) else None
    if role is None:
        expected = fmt.expected_roles()
        log.add(line, turn.role_field, f"unknown role {turn.role!r} (expected {expected})")
    content = turn.content
    if not isinstance(content, str):
        log.add(line, turn.content_field, f"expected a string, got {json_type_name(content)}")
        return None
    if not content.strip():
        log.add(line, turn.content_field, "empty content")
        return None
    return None if role is None else (role, content)


def _check_order(
    pairs: list[tuple[Role, str]], fmt: DatasetFormat, line: int, log: IssueLog
) -> bool:
    roles = [role for role, _ in pairs]
    where = fmt.conversation_field
    if "assistant" not in roles:
        log.add(line, where, "no assistant turn: an example needs a reply to learn from")
        return False
    if roles[-1] != "assistant":
        last = f"{where}[{len(roles) - 1}]" if where else None
        log.add(
            line, last, f"last turn is {roles[-1]!r}: an example must end with an assistant turn"
        )
        return False
    return True
