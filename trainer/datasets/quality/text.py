"""Views of an example the checks compare: its prompt, its answer, its whole text."""

from __future__ import annotations

import re
import unicodedata

from trainer.datasets.example import ChatExample

SENTENCE_FINAL = frozenset(".!?。！？…‽;；:：)]}）】」』\"'”’»`*>")
_HAN_CHAR = re.compile("[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]")
_OTHER_WORD = re.compile("[^\\s\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]+")


def answer_of(example: ChatExample) -> str:
    """The final assistant turn: what the model learns to say."""
    return example.messages[-1].content


def prompt_key(example: ChatExample) -> str:
    """Every turn before the final answer, as one comparable string."""
    return "\x1e".join(f"{m.role}\x1f{m.content}" for m in example.messages[:-1])


def full_key(example: ChatExample) -> str:
    """The whole conversation, for exact comparison."""
    return "\x1e".join(f"{m.role}\x1f{m.content}" for m in example.messages)


def plain_text(example: ChatExample) -> str:
    """The conversation's words, normalised (case, spaces) for near-duplicate search."""
    joined = " ".join(message.content for message in example.messages)
    # str.split() cuts at the characters re's \s matches (both use str.isspace): the same
    # as collapsing runs of them to one space and stripping, at a third of the cost
    return " ".join(unicodedata.normalize("NFKC", joined).split()).lower()


def has_user_turn(example: ChatExample) -> bool:
    return any(message.role == "user" for message in example.messages)


def ends_a_sentence(text: str) -> bool:
    """Whether ``text`` ends as finished prose or code would (punctuation, brackets, quotes)."""
    stripped = text.rstrip()
    return bool(stripped) and stripped[-1] in SENTENCE_FINAL


def approx_tokens(text: str) -> int:
    """A tokenizer-free length: one per Han character, one per other word."""
    han = len(_HAN_CHAR.findall(text))
    words = len(_OTHER_WORD.findall(text))
    return max(1, han + words)
