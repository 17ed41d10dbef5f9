"""Summaries of lengths (tokens, characters, turns): percentiles and an even histogram."""

from __future__ import annotations

import math
from collections.abc import Sequence


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
