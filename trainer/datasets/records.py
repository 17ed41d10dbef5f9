"""Raw JSON records of a JSONL file or a JSON array file, each with the line it starts on.

Entries come back in file order, the unreadable ones included, so problems can be reported
in the order of the lines they are on.
"""

from __future__ import annotations

import codecs
import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from trainer.datasets.issues import IssueLog


@dataclass(frozen=True)
class Record:
    """One decoded JSON object and the 1-based line number it starts on."""

    line: int
    fields: dict[str, Any]


@dataclass(frozen=True)
class Unreadable:
    """An entry that is not a JSON object: bad JSON, or another JSON type."""

    line: int
    reason: str


Entry = Record | Unreadable


def read_text(path: Path, log: IssueLog) -> str | None:
    """The file's text (a UTF-8 BOM is dropped), or ``None`` after logging why not."""
    try:
        return path.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError as exc:
        log.add(None, None, f"not UTF-8 text (bad byte at offset {exc.start})")
        return None


def iter_entries(path: Path, log: IssueLog) -> Iterator[Entry]:
    """The entries of ``read_entries``, a JSONL file's read line by line: only one line is
    in memory at a time (a 100 MB file of short examples is millions of objects). A JSON
    array, a pretty-printed object or a first line that is not JSON on its own is read
    whole, as before. Lines end at ``\\n`` (and ``\\r``) only, as in an editor: a raw U+2028 in a
    string does not split its line."""
    bad = first_bad_byte(path)
    if bad is not None:
        log.add(None, None, f"not UTF-8 text (bad byte at offset {bad})")
        return
    with path.open(encoding="utf-8-sig") as text:
        lines = ((number, line) for number, line in enumerate(text, start=1) if line.strip())
        first = next(lines, None)
        if first is None:
            return  # empty, or only blank lines
        if not _one_record_per_line(first[1]):
            yield from read_entries(path, log)
            return
        yield _entry(first[0], first[1].rstrip("\n"))
        for number, line in lines:
            yield _entry(number, line.rstrip("\n"))


def _one_record_per_line(first: str) -> bool:
    """Whether a file whose first non-blank line is ``first`` can be read line by line."""
    head = first.strip()
    if head.startswith("["):
        return False
    if not head.startswith("{"):
        return True  # not JSON at all: each line is reported on its own
    try:
        json.loads(head)
    except json.JSONDecodeError:
        return False  # perhaps one object over several lines
    return True


def first_bad_byte(path: Path, chunk_bytes: int = 1 << 16) -> int | None:
    """The offset of the first byte that is not UTF-8, read a chunk at a time."""
    decoder = codecs.getincrementaldecoder("utf-8")()
    offset = 0  # of the chunk's first byte in the file
    with path.open("rb") as raw:
        while True:
            chunk = raw.read(chunk_bytes)
            pending = len(decoder.getstate()[0])
            try:
                decoder.decode(chunk, final=not chunk)
            except UnicodeDecodeError as exc:
                return offset - pending + exc.start
            if not chunk:
                return None
            offset += len(chunk)


def read_entries(path: Path, log: IssueLog) -> list[Entry]:
    """Every entry of a JSONL file, a JSON array file or a one-object JSON file."""
    text = read_text(path, log)
    if text is None:
        return []
    if text.lstrip().startswith("["):
        return _json_array_entries(text)
    single = _single_object_entry(text)
    if single is not None:
        return [single]
    lines = enumerate(text.splitlines(), start=1)
    return [_entry(number, line) for number, line in lines if line.strip()]


def _single_object_entry(text: str) -> Entry | None:
    """A file that is one (perhaps pretty-printed) JSON object, as one record."""
    if not text.lstrip().startswith("{"):
        return None
    try:
        value = json.loads(text)  # JSONL with two or more lines stops early at "Extra data"
    except json.JSONDecodeError:
        return None
    return _as_entry(text[: len(text) - len(text.lstrip())].count("\n") + 1, value)


def _entry(line: int, raw: str) -> Entry:
    try:
        value = json.loads(raw)
    except json.JSONDecodeError as exc:
        return Unreadable(line, f"invalid JSON: {exc.msg} (column {exc.colno})")
    return _as_entry(line, value)


def _json_array_entries(text: str) -> list[Entry]:
    try:
        json.loads(text)
    except json.JSONDecodeError as exc:
        return [Unreadable(exc.lineno, f"invalid JSON: {exc.msg} (column {exc.colno})")]
    return [_as_entry(line, value) for line, value in _array_items_with_lines(text)]


def _array_items_with_lines(text: str) -> list[tuple[int, Any]]:
    """The items of a JSON array (already known to be valid) with the line each starts on."""
    decoder = json.JSONDecoder()
    items: list[tuple[int, Any]] = []
    index = text.index("[") + 1
    line, counted_to = 1, 0
    while True:
        index = _skip_whitespace(text, index)
        if text[index] == "]":
            return items
        line += text.count("\n", counted_to, index)
        counted_to = index
        value, index = decoder.raw_decode(text, index)
        items.append((line, value))
        index = _skip_whitespace(text, index)
        if text[index] == ",":
            index += 1


def _skip_whitespace(text: str, index: int) -> int:
    while text[index] in " \t\r\n":
        index += 1
    return index


def _as_entry(line: int, value: Any) -> Entry:
    if isinstance(value, dict):
        return Record(line, value)
    return Unreadable(line, f"expected a JSON object, got {json_type_name(value)}")


def json_type_name(value: Any) -> str:
    """The JSON name of a decoded value's type, for messages."""
    if value is None:
        return "null"
    names = {bool: "boolean", int: "number", float: "number", str: "string"}
    names |= {list: "array", dict: "object"}
    return names.get(type(value), type(value).__name__)
