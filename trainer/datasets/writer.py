"""Writing examples in the canonical on-disk format: OpenAI ``messages`` JSONL."""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Iterable
from pathlib import Path

from trainer.datasets.example import ChatExample
from trainer.datasets.split import DatasetSplit


def example_line(example: ChatExample) -> str:
    """One example as one JSONL line (no newline); non-ASCII text is kept as is."""
    return json.dumps({"messages": example.as_dicts()}, ensure_ascii=False)


def write_jsonl(examples: Iterable[ChatExample], path: str | Path) -> int:
    """Write ``examples`` to ``path`` (replaced whole, never half-written); return the count."""
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    handle, staging = tempfile.mkstemp(prefix=f".{target.name}.", dir=target.parent)
    count = 0
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as out:
            for example in examples:
                out.write(example_line(example) + "\n")
                count += 1
        os.replace(staging, target)
    finally:
        if os.path.exists(staging):
            os.unlink(staging)
    return count


def split_paths(path: str | Path) -> dict[str, Path]:
    """Where each part of a split of ``path`` goes: ``data.jsonl`` -> ``data.train.jsonl``..."""
    base = Path(path)
    return {part: base.with_name(f"{base.stem}.{part}.jsonl") for part in DatasetSplit._fields}


def write_split(split: DatasetSplit, path: str | Path) -> dict[str, Path]:
    """Write the three parts next to ``path`` (see ``split_paths``); return where they went."""
    paths = split_paths(path)
    for part, part_path in paths.items():
        write_jsonl(getattr(split, part), part_path)
    return paths
