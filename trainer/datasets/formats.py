"""The dataset formats that can be read, and how a file's format is recognised."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from trainer.datasets.alpaca import alpaca_turns
from trainer.datasets.example import Role
from trainer.datasets.issues import IssueLog
from trainer.datasets.message_lists import chatglm3_turns, openai_turns, sharegpt_turns
from trainer.datasets.records import Record
from trainer.datasets.turns import RawTurn

TurnReader = Callable[[Record, IssueLog], list[RawTurn]]

STANDARD_ROLES: dict[str, Role] = {"system": "system", "user": "user", "assistant": "assistant"}
SHAREGPT_ROLES: dict[str, Role] = {"human": "user", "gpt": "assistant", **STANDARD_ROLES}


@dataclass(frozen=True)
class DatasetFormat:
    """A JSON dataset format: how to read a record's turns and what its roles are called.

    ``conversation_field`` holds a record's whole conversation (``None`` for Alpaca, whose
    conversation is spread over several fields); whole-example problems are reported on it.
    """

    name: str
    conversation_field: str | None
    roles: Mapping[str, Role]
    read_turns: TurnReader

    def expected_roles(self) -> str:
        """The role names this format accepts, for messages: ``system, user or assistant``."""
        names = list(self.roles)
        return ", ".join(names[:-1]) + " or " + names[-1]


FORMATS: dict[str, DatasetFormat] = {
    fmt.name: fmt
    for fmt in (
        DatasetFormat("openai", "messages", STANDARD_ROLES, openai_turns),
        DatasetFormat("chatglm3", "conversations", STANDARD_ROLES, chatglm3_turns),
        DatasetFormat("sharegpt", "conversations", SHAREGPT_ROLES, sharegpt_turns),
        DatasetFormat("alpaca", None, STANDARD_ROLES, alpaca_turns),
    )
}

UNKNOWN_FORMAT_HINT = (
    "cannot tell the dataset format: expected records with 'messages' (OpenAI), "
    "'conversations' (ChatGLM3 or ShareGPT) or 'instruction' and 'output' (Alpaca)"
)


def format_named(name: str) -> DatasetFormat:
    """The format called ``name``; a ``ValueError`` lists the known names otherwise."""
    try:
        return FORMATS[name]
    except KeyError:
        known = ", ".join(sorted(FORMATS))
        raise ValueError(f"unknown dataset format {name!r} (known: {known})") from None


def detect_format(records: Iterable[Record]) -> DatasetFormat | None:
    """The format of the first record whose keys say which format it is."""
    for record in records:
        name = _format_name_of(record.fields)
        if name is not None:
            return FORMATS[name]
    return None


def _format_name_of(fields: dict[str, Any]) -> str | None:
    if "messages" in fields:
        return "openai"
    if "conversations" in fields:
        return _conversations_format(fields["conversations"])
    if "instruction" in fields or "output" in fields:
        return "alpaca"
    return None


def _conversations_format(turns: Any) -> str | None:
    """ShareGPT turns say ``from``/``value``; ChatGLM3 turns say ``role``/``content``."""
    if not isinstance(turns, list):
        return None
    for turn in turns:
        if isinstance(turn, dict) and ("from" in turn or "value" in turn):
            return "sharegpt"
        if isinstance(turn, dict) and ("role" in turn or "content" in turn):
            return "chatglm3"
    return None
