"""The output file: continued, never overwritten; one complete JSON line per example."""

from __future__ import annotations

import json
from pathlib import Path
from typing import IO

from trainer.datasets.example import ChatExample
from trainer.datasets.loader import read_dataset


class SynthError(Exception):
    """The run cannot start: the message says why (nothing was asked of the teacher)."""


def existing_examples(path: Path) -> list[ChatExample]:
    """Examples already in ``path`` (none when it does not exist). A last line cut short by
    an interrupted run is dropped; any other bad line is an error."""
    if not path.exists():
        return []
    data = path.read_bytes()
    if data and not data.endswith(b"\n"):
        path.write_bytes(data[: data.rfind(b"\n") + 1])  # the unfinished last line
    if not path.read_bytes().strip():
        return []
    loaded = read_dataset(path, "openai")
    if loaded.log.total:
        first = loaded.log.issues[0]
        raise SynthError(
            f"{path} has {loaded.log.total} unusable lines ({first}); "
            "fix it or choose another --out"
        )
    return loaded.examples


def write_example(out: IO[str], example: ChatExample, teacher: str) -> None:
    """Append one example with its provenance (metadata the trainer ignores), flushed."""
    record = {
        "messages": example.as_dicts(),
        "metadata": {"source": "synthetic", "teacher": teacher},
    }
    out.write(json.dumps(record, ensure_ascii=False) + "\n")
    out.flush()
