"""The canonical chat example every dataset format is converted into."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

Role = Literal["system", "user", "assistant"]
ROLES: tuple[Role, ...] = ("system", "user", "assistant")


@dataclass(frozen=True, slots=True)
class Message:
    """One turn of a conversation."""

    role: Role
    content: str

    def as_dict(self) -> dict[str, str]:
        return {"role": self.role, "content": self.content}


@dataclass(frozen=True, slots=True)
class ChatExample:
    """A validated conversation: at least one assistant turn, and the last turn is one.

    ``source_line`` is where the example started in its file (for messages to the user); it
    does not take part in equality, so the same conversation read from two formats is equal.
    """

    messages: tuple[Message, ...]
    source_line: int | None = field(default=None, compare=False)

    def __post_init__(self) -> None:
        if not self.messages or self.messages[-1].role != "assistant":
            raise ValueError("a chat example must end with an assistant turn")

    def as_dicts(self) -> list[dict[str, str]]:
        """The messages as OpenAI-style dicts, ready for a chat template or JSON."""
        return [message.as_dict() for message in self.messages]

    @classmethod
    def from_pairs(
        cls, pairs: list[tuple[Role, str]], source_line: int | None = None
    ) -> ChatExample:
        """Build an example from ``(role, content)`` pairs."""
        return cls(tuple(Message(role, content) for role, content in pairs), source_line)
