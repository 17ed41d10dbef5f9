"""Splits are seeded, deterministic, complete and sized by the ratios."""

from __future__ import annotations

import pytest

from trainer.datasets import ChatExample, split_examples
from trainer.datasets.split import split_sizes


def numbered(count: int) -> list[ChatExample]:
    return [
        ChatExample.from_pairs([("user", str(index)), ("assistant", "ok")])
        for index in range(count)
    ]


def test_default_split_is_80_10_10() -> None:
    split = split_examples(numbered(400))
    assert (len(split.train), len(split.validation), len(split.test)) == (320, 40, 40)


def test_every_example_lands_in_exactly_one_part() -> None:
    examples = numbered(57)
    split = split_examples(examples, seed=3)
    together = split.train + split.validation + split.test
    assert sorted(together, key=lambda e: int(e.messages[0].content)) == examples


def test_same_seed_same_split_other_seed_other_split() -> None:
    examples = numbered(50)
    assert split_examples(examples, seed=1) == split_examples(examples, seed=1)
    assert split_examples(examples, seed=1).train != split_examples(examples, seed=2).train


@pytest.mark.parametrize(
    ("count", "sizes"),
    [
        (0, (0, 0, 0)),
        (1, (1, 0, 0)),
        (2, (2, 0, 0)),
        (3, (1, 1, 1)),
        (4, (2, 1, 1)),
        (10, (8, 1, 1)),
        (25, (21, 2, 2)),
        (1000, (800, 100, 100)),
    ],
)
def test_sizes_small_sets_keep_validation_and_test(count: int, sizes: tuple[int, ...]) -> None:
    assert split_sizes(count, (0.8, 0.1, 0.1)) == sizes


def test_zero_ratio_part_stays_empty() -> None:
    split = split_examples(numbered(5), ratios=(0.9, 0.1, 0.0))
    assert (len(split.train), len(split.validation), len(split.test)) == (4, 1, 0)


@pytest.mark.parametrize("ratios", [(0.5, 0.5, 0.5), (0.0, 0.5, 0.5), (1.1, -0.1, 0.0)])
def test_bad_ratios_are_refused(ratios: tuple[float, float, float]) -> None:
    with pytest.raises(ValueError, match="ratio"):
        split_examples(numbered(10), ratios=ratios)
