"""The Alpaca format: instruction, input, output, optional system and history pairs."""

from __future__ import annotations

from typing import Any

from trainer.datasets.issues import IssueLog
from trainer.datasets.records import Record, json_type_name
from trainer.datasets.turns import RawTurn


def alpaca_turns(record: Record, log: IssueLog) -> list[RawTurn]:
    """system?, history turns, user = instruction (+ newline + input), assistant = output."""
    fields = record.fields
    for key in ("instruction", "output"):
        if key not in fields:
            log.add(record.line, key, "missing")
    turns: list[RawTurn] = []
    system = _optional_text(record, "system", log)
    if system:
        turns.append(RawTurn("system", system, None, "system"))
    turns.extend(_history_turns(record, log))
    instruction = fields.get("instruction")
    extra_input = _optional_text(record, "input", log)
    if isinstance(instruction, str):
        prompt = "\n".join(part for part in (instruction, extra_input) if part)
        turns.append(RawTurn("user", prompt, None, "instruction"))
    elif "instruction" in fields:
        got = json_type_name(instruction)
        log.add(record.line, "instruction", f"expected a string, got {got}")
    if "output" in fields:
        turns.append(RawTurn("assistant", fields["output"], None, "output"))
    return turns


def _optional_text(record: Record, key: str, log: IssueLog) -> str:
    """``record[key]`` as a string; missing or null is ``""``, any other type is an issue."""
    value: Any = record.fields.get(key)
    if value is None:
        return ""
    if not isinstance(value, str):
        log.add(record.line, key, f"expected a string, got {json_type_name(value)}")
        return ""
    return value


def _history_turns(record: Record, log: IssueLog) -> list[RawTurn]:
    history: Any = record.fields.get("history")
    if history is None:
        return []
    if not isinstance(history, list):
        got = json_type_name(history)
        log.add(record.line, "history", f"expected an array of [user, assistant] pairs, got {got}")
        return []
    turns: list[RawTurn] = []
    for index, pair in enumerate(history):
        where = f"history[{index}]"
        if not isinstance(pair, list) or len(pair) != 2:
            log.add(record.line, where, "expected a [user, assistant] pair")
            continue
        turns.append(RawTurn("user", pair[0], None, f"{where}[0]"))
        turns.append(RawTurn("assistant", pair[1], None, f"{where}[1]"))
    return turns
