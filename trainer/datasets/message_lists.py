"""Formats that store a conversation as a list of turn objects (OpenAI, ChatGLM3, ShareGPT)."""

from __future__ import annotations

from trainer.datasets.issues import IssueLog
from trainer.datasets.records import Record, json_type_name
from trainer.datasets.turns import RawTurn


def turns_from_list(
    record: Record, log: IssueLog, list_field: str, role_key: str, content_key: str
) -> list[RawTurn]:
    """The turns under ``record[list_field]``; each turn object has a role and a content key."""
    if list_field not in record.fields:
        log.add(record.line, list_field, "missing: every example needs a list of turns")
        return []
    items = record.fields[list_field]
    if not isinstance(items, list):
        log.add(record.line, list_field, f"expected an array of turns, got {json_type_name(items)}")
        return []
    if not items:
        log.add(record.line, list_field, "empty: an example needs at least one assistant turn")
        return []
    turns: list[RawTurn] = []
    for index, item in enumerate(items):
        where = f"{list_field}[{index}]"
        if not isinstance(item, dict):
            got = json_type_name(item)
            log.add(record.line, where, f"expected an object with '{role_key}', got {got}")
            continue
        missing = [key for key in (role_key, content_key) if key not in item]
        for key in missing:
            log.add(record.line, f"{where}.{key}", "missing")
        if not missing:
            role, content = item[role_key], item[content_key]
            turns.append(RawTurn(role, content, f"{where}.{role_key}", f"{where}.{content_key}"))
    return turns


def openai_turns(record: Record, log: IssueLog) -> list[RawTurn]:
    """OpenAI chat fine-tuning: ``{"messages": [{"role": ..., "content": ...}]}``."""
    return turns_from_list(record, log, "messages", "role", "content")


def chatglm3_turns(record: Record, log: IssueLog) -> list[RawTurn]:
    """ChatGLM3: ``{"conversations": [{"role": ..., "content": ...}]}``."""
    return turns_from_list(record, log, "conversations", "role", "content")


def sharegpt_turns(record: Record, log: IssueLog) -> list[RawTurn]:
    """ShareGPT: ``{"conversations": [{"from": "human", "value": ...}]}``."""
    return turns_from_list(record, log, "conversations", "from", "value")
