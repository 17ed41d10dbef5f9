"""What the console shows of a stored dataset: its first examples, normalised to chats, and
its token-length statistics. Files never change once stored, so answers are cached."""

from __future__ import annotations

import math
import threading
from collections import OrderedDict
from collections.abc import Sequence
from typing import Any

import anyio

from gateway.auth.caller import Caller
from gateway.finetune.files import FileServing
from trainer.datasets import ChatExample, count_tokens, load_examples
from trainer.jobs.tables import FileRow

CACHED_FILES = 32
HISTOGRAM_BINS = 10


class FileInsights:
    """``GET /v1/files/{id}/preview`` and ``/stats``, for the file's owner (and admins)."""

    def __init__(self, files: FileServing) -> None:
        self.files = files
        self._examples: OrderedDict[str, list[ChatExample]] = OrderedDict()
        self._stats: dict[str, dict[str, Any]] = {}
        self._lock = threading.Lock()

    async def preview(self, file_id: str, limit: int, caller: Caller) -> dict[str, Any]:
        row = self.files.row(file_id, caller)
        examples = await anyio.to_thread.run_sync(self._load, row)
        return {
            "object": "file.preview",
            "id": row.id,
            "format": row.format,
            "total_examples": len(examples),
            "data": [
                {"line": ex.source_line, "messages": ex.as_dicts()} for ex in examples[:limit]
            ],
        }

    async def stats(self, file_id: str, caller: Caller) -> dict[str, Any]:
        row = self.files.row(file_id, caller)
        if row.id not in self._stats:
            self._stats[row.id] = await anyio.to_thread.run_sync(self._compute_stats, row)
        return self._stats[row.id]

    def _load(self, row: FileRow) -> list[ChatExample]:
        with self._lock:
            cached = self._examples.get(row.id)
            if cached is not None:
                self._examples.move_to_end(row.id)
                return cached
        examples = load_examples(row.path, format=row.format)
        with self._lock:
            self._examples[row.id] = examples
            while len(self._examples) > CACHED_FILES:
                self._examples.popitem(last=False)
        return examples

    def _compute_stats(self, row: FileRow) -> dict[str, Any]:
        examples = self._load(row)
        tokenizer = self.files.tokenizer()
        if tokenizer is not None:
            unit, lengths = "tokens", [count_tokens(ex, tokenizer) for ex in examples]
        else:  # no tokenizer on this machine: characters are the honest fallback
            unit = "characters"
            lengths = [sum(len(m.content) for m in ex.messages) for ex in examples]
        turns = [len(ex.messages) for ex in examples]
        return {
            "object": "file.stats",
            "id": row.id,
            "format": row.format,
            "examples": len(examples),
            "unit": unit,
            "length": summary(lengths),
            "histogram": histogram(lengths, HISTOGRAM_BINS),
            "messages_per_example": summary(turns),
            "with_system_prompt": sum(ex.messages[0].role == "system" for ex in examples),
        }


def percentile(ordered: Sequence[int], share: float) -> int:
    """The nearest-rank percentile of sorted values (``share`` in [0, 1])."""
    rank = max(1, math.ceil(share * len(ordered)))
    return ordered[rank - 1]


def summary(values: Sequence[int]) -> dict[str, float | int | None]:
    if not values:
        return {"total": 0, "min": None, "max": None, "mean": None, "p50": None, "p90": None}
    ordered = sorted(values)
    return {
        "total": sum(ordered),
        "min": ordered[0],
        "max": ordered[-1],
        "mean": round(sum(ordered) / len(ordered), 2),
        "p50": percentile(ordered, 0.5),
        "p90": percentile(ordered, 0.9),
    }


def histogram(values: Sequence[int], bins: int) -> list[dict[str, int]]:
    """Counts in ``bins`` equal-width ranges [start, end) covering min..max."""
    if not values:
        return []
    low, high = min(values), max(values)
    bins = min(bins, high - low + 1)  # no empty bins past the longest
    width = max(1, math.ceil((high - low + 1) / bins))
    counts = [0] * bins
    for value in values:
        counts[min(bins - 1, (value - low) // width)] += 1
    return [
        {"start": low + i * width, "end": low + (i + 1) * width, "count": count}
        for i, count in enumerate(counts)
    ]
