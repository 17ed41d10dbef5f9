"""A job's loss curves from its metrics events, decimated to at most N points per curve.

Decimation keeps the first and last point and, in between, the point of each bucket whose
loss is furthest from the bucket's mean (so spikes survive), in step order.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from trainer.jobs.tables import EventRow

Point = tuple[int, float]  # step, loss
CURVES = ("train_loss", "eval_loss")


class LossCurves:
    """Train and eval loss by step, added to as events come (the last report of a step wins),
    and the latest metrics reported."""

    def __init__(self) -> None:
        self.points: dict[str, dict[int, float]] = {name: {} for name in CURVES}
        self.latest: dict[str, Any] = {}
        # Each curve in step order, appended to while steps only grow (None: sort again).
        self._ordered: dict[str, list[Point] | None] = {name: [] for name in CURVES}

    def add(self, events: Sequence[EventRow]) -> None:
        for event in events:
            data = event.data or {}
            if event.type != "metrics" or data.get("step") is None:
                continue
            self.latest = data
            is_eval = data.get("eval_loss") is not None  # an eval repeats the last train loss
            name = "eval_loss" if is_eval else "train_loss"
            value = data.get(name)
            if isinstance(value, int | float):
                self._put(name, int(data["step"]), float(value))

    def _put(self, name: str, step: int, loss: float) -> None:
        self.points[name][step] = loss
        ordered = self._ordered[name]
        if ordered is not None and (not ordered or step > ordered[-1][0]):
            ordered.append((step, loss))
        else:  # a step again (a resumed run) or out of order
            self._ordered[name] = None

    def curve(self, name: str) -> list[Point]:
        """The curve in step order (do not modify it)."""
        ordered = self._ordered[name]
        if ordered is None:
            ordered = self._ordered[name] = sorted(self.points[name].items())
        return ordered


def loss_curves(events: Sequence[EventRow]) -> dict[str, list[Point]]:
    """Every (step, loss) of each curve, in step order."""
    curves = LossCurves()
    curves.add(events)
    return {name: curves.curve(name) for name in CURVES}


def decimate(points: Sequence[Point], max_points: int) -> list[Point]:
    """At most ``max_points`` of ``points`` (kept in order; ends and extremes kept)."""
    if len(points) <= max_points:
        return list(points)
    if max_points <= 2:
        return [points[0], points[-1]][:max_points]
    inner = points[1:-1]
    buckets = max_points - 2
    kept: list[Point] = [points[0]]
    for index in range(buckets):
        bucket = inner[index * len(inner) // buckets : (index + 1) * len(inner) // buckets]
        if not bucket:
            continue
        mean = sum(loss for _, loss in bucket) / len(bucket)
        kept.append(max(bucket, key=lambda point: abs(point[1] - mean)))
    kept.append(points[-1])
    return kept


def metrics_object(job_id: str, status: str, curves: LossCurves, max_points: int) -> dict[str, Any]:
    """The ``fine_tuning.job.metrics`` object: each curve decimated, with its full count."""
    rendered: dict[str, Any] = {}
    for name in CURVES:
        points = curves.curve(name)
        kept = decimate(points, max_points)
        rendered[name] = {"total_points": len(points), "points": [list(p) for p in kept]}
    return {
        "object": "fine_tuning.job.metrics",
        "job_id": job_id,
        "status": status,
        "max_points": max_points,
        "latest": dict(curves.latest),
        "curves": rendered,
    }
