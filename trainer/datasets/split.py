"""Seeded, deterministic train / validation / test splits."""

from __future__ import annotations

import math
import random
from collections.abc import Sequence
from typing import NamedTuple

from trainer.datasets.example import ChatExample

DEFAULT_RATIOS = (0.8, 0.1, 0.1)


class DatasetSplit(NamedTuple):
    """The three parts of a dataset; together they hold every example exactly once."""

    train: list[ChatExample]
    validation: list[ChatExample]
    test: list[ChatExample]


def split_examples(
    examples: Sequence[ChatExample],
    ratios: tuple[float, float, float] = DEFAULT_RATIOS,
    seed: int = 0,
) -> DatasetSplit:
    """Shuffle with ``seed`` and cut by ``ratios`` (train, validation, test).

    With three or more examples, a part whose ratio is above zero gets at least one example,
    so a small dataset still has something to evaluate on.
    """
    sizes = split_sizes(len(examples), ratios)
    order = list(range(len(examples)))
    random.Random(seed).shuffle(order)
    shuffled = [examples[index] for index in order]
    train_end = sizes[0]
    validation_end = train_end + sizes[1]
    return DatasetSplit(
        shuffled[:train_end], shuffled[train_end:validation_end], shuffled[validation_end:]
    )


def split_sizes(count: int, ratios: tuple[float, float, float]) -> tuple[int, int, int]:
    """How many examples go to train, validation and test."""
    _check_ratios(ratios)
    _, validation_ratio, test_ratio = ratios
    validation = _share(count, validation_ratio)
    test = _share(count, test_ratio)
    if count >= 3:
        validation = max(validation, 1) if validation_ratio > 0 else 0
        test = max(test, 1) if test_ratio > 0 else 0
    train = max(count - validation - test, 0)
    if train == 0 and count >= 3:  # ratios that leave nothing to train on still train on one
        validation, train = validation - 1, 1
    return train, validation, count - train - validation


def _share(count: int, ratio: float) -> int:
    """Rounded down (with slack for float error): what is left over goes to train."""
    return math.floor(count * ratio + 1e-9)


def _check_ratios(ratios: tuple[float, float, float]) -> None:
    if len(ratios) != 3 or any(ratio < 0 for ratio in ratios):
        raise ValueError(f"ratios must be three numbers >= 0 (train, validation, test): {ratios}")
    if ratios[0] <= 0:
        raise ValueError(f"the train ratio must be above 0: {ratios}")
    if not math.isclose(sum(ratios), 1.0, abs_tol=1e-6):
        raise ValueError(f"ratios must add up to 1: {ratios} adds up to {sum(ratios)}")
