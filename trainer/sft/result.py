"""What a training run reports: events while it runs, and its result at the end."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

Event = dict[str, Any]
"""``type`` (step, eval, done), step, total_steps, epoch, train_loss, eval_loss,
learning_rate, tokens_trained, tokens_per_second, progress (0..1); eval events add
``checkpoint``, the done event adds ``stopped`` and ``adapter_dir``."""
EventCallback = Callable[[Event], None]
StopCheck = Callable[[], bool]
"""Polled before every step; True cancels the run (after a checkpoint, so it can resume)."""


@dataclass(frozen=True)
class TrainResult:
    adapter_dir: Path | None
    """``out_dir/adapter`` (the best checkpoint's adapter); None when cancelled."""
    stopped: str
    """``completed``, ``early_stopping`` or ``cancelled``."""
    steps: int
    total_steps: int
    best_step: int | None
    best_eval_loss: float | None
    tokens_trained: int
    """Non-padding tokens the model was trained on (all epochs, resumed parts included)."""
    tokens_per_second: float
    """``tokens_trained`` over ``train_seconds``."""
    train_seconds: float
    """Time spent in training steps (batching, forward, backward, update); not eval/saving."""
    train_examples: int
    dropped_examples: int
    """Training conversations with no assistant token left after truncation."""
    padding_ratio: float
    """Share of padding in the padded training batches (one epoch's order)."""
    history: list[dict[str, Any]] = field(default_factory=list)
