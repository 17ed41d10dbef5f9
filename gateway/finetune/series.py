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


def loss_curves(events: Sequence[EventRow]) -> dict[str, list[Point]]:
    """Every (step, loss) of each curve, one per step (the last reported wins)."""
    curves: dict[str, dict[int, float]] = {name: {} for name in CURVES}
    for event in events:
        data = event.data or {}
        if event.type != "metrics" or data.get("step") is None:
            continue
        step = int(data["step"])
        is_eval = data.get("eval_loss") is not None  # an eval also repeats the last train loss
        name = "eval_loss" if is_eval else "train_loss"
        value = data.get(name)
        if isinstance(value, int | float):
            curves[name][step] = float(value)
    return {name: sorted(points.items()) for name, points in curves.items()}


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


def metrics_object(
    job_id: str, status: str, events: Sequence[EventRow], max_points: int
) -> dict[str, Any]:
    """The ``fine_tuning.job.metrics`` object: each curve decimated, with its full count."""
    curves = loss_curves(events)
    last: dict[str, Any] = {}
    for event in reversed(events):
        if event.type == "metrics" and event.data:
            last = dict(event.data)
            break
    return {
        "object": "fine_tuning.job.metrics",
        "job_id": job_id,
        "status": status,
        "max_points": max_points,
        "latest": last,
        "curves": {
            name: {
                "total_points": len(points),
                "points": [[step, loss] for step, loss in decimate(points, max_points)],
            }
            for name, points in curves.items()
        },
    }
