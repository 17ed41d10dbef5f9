"""A byte-level pre-tokenizer's regex, for Python's ``re`` on printable ASCII text.

Byte-level BPE tokenizers (GPT-2, Llama 3, Qwen and most others) cut a text into words with a
regex before the model sees it: either the ``ByteLevel`` pre-tokenizer's own (GPT-2's) or a
``Split`` pattern followed by a ``ByteLevel`` that does not split. On printable ASCII
(``\\t``, ``\\n``, ``\\r`` and ``0x20``-``0x7e``) the Unicode classes those patterns use are
plain ASCII ones: ``\\p{L}`` is ``[A-Za-z]``, ``\\p{N}`` is ``[0-9]``, ``\\s`` is
``[\\t\\n\\r ]`` for Python as for the tokenizer's Oniguruma. A pattern is translated only if
every construct in it is one whose meaning is the same for both engines (letters, digits,
escaped punctuation, those classes, ``\\r\\n\\t\\s\\S\\d``, plain sets, ``?*+{m,n}``, ``.``,
alternation and the groups ``(?:``, ``(?i:``, ``(?=``, ``(?!``; no anchors: Python's ``$``
also matches before a final newline); otherwise there is no pattern, and the text is left
to the tokenizer.
"""

from __future__ import annotations

import re
from typing import Any

GPT2_PATTERN = r"'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+"
"""The split ``ByteLevel(use_regex=True)`` makes (hard-wired in ``tokenizers``)."""

_CLASSES = {r"\p{L}": "A-Za-z", r"\p{N}": "0-9"}
_ESCAPES = frozenset("rntsSd")
_GROUPS = ("(?:", "(?i:", "(?=", "(?!")
_PLAIN = frozenset("?*+|.-,{}:;_<>=!@%/~#`")


def ascii_word_pattern(pre_tokenizer: dict[str, Any] | None) -> re.Pattern[str] | None:
    """The pre-tokenizer's word split as a ``re`` pattern for printable ASCII, or None when
    it is not a byte-level regex split this module can translate exactly."""
    source = _regex_of(pre_tokenizer)
    translated = None if source is None else translate(source)
    if translated is None:
        return None
    try:
        return re.compile(translated)
    except re.error:
        return None


def _regex_of(settings: dict[str, Any] | None) -> str | None:
    if settings is None:
        return None
    kind = settings.get("type")
    if kind == "ByteLevel":
        plain = settings.get("use_regex", True) and not settings.get("add_prefix_space")
        return GPT2_PATTERN if plain else None
    parts = settings.get("pretokenizers")
    if kind != "Sequence" or not isinstance(parts, list) or len(parts) != 2:
        return None
    split, level = parts
    if level.get("type") != "ByteLevel" or level.get("use_regex", True):
        return None
    if level.get("add_prefix_space") or split.get("type") != "Split":
        return None
    if split.get("behavior") != "Isolated" or split.get("invert"):
        return None
    pattern = split.get("pattern")
    regex = pattern.get("Regex") if isinstance(pattern, dict) else None
    return regex if isinstance(regex, str) else None


def translate(pattern: str) -> str | None:
    """``pattern`` with ``\\p{L}``/``\\p{N}`` as ASCII sets; None if anything else in it
    might read differently in Python's ``re``."""
    out: list[str] = []
    index, in_set = 0, False
    while index < len(pattern):
        char = pattern[index]
        if char == "\\":
            step = _escape(pattern, index, in_set)
            if step is None:
                return None
            out.append(step[0])
            index = step[1]
            continue
        if char == "[":
            opening = pattern[index + 1 : index + 3]
            if in_set or opening.startswith("]") or opening == "^]":
                return None  # nested sets, POSIX classes, a leading "]": read differently
            in_set = True
        elif char == "]" and in_set:
            in_set = False
        elif in_set and pattern.startswith("&&", index):
            return None  # Oniguruma's set intersection
        elif char == "(" and not in_set:
            group = next((g for g in _GROUPS if pattern.startswith(g, index)), None)
            if group is None and pattern.startswith("(?", index):
                return None
            out.append(group or "(")
            index += len(group or "(")
            continue
        elif not (char.isalnum() or char in _PLAIN or char in " '\"()" or in_set):
            return None
        out.append(char)
        index += 1
    return None if in_set else "".join(out)


def _escape(pattern: str, index: int, in_set: bool) -> tuple[str, int] | None:
    for name, ascii_set in _CLASSES.items():
        if pattern.startswith(name, index):
            return (ascii_set if in_set else f"[{ascii_set}]"), index + len(name)
    following = pattern[index + 1 : index + 2]
    if following in _ESCAPES or (following and not following.isalnum()):
        return "\\" + following, index + 2
    return None
