"""Lengths of examples: tokens with the base model's tokenizer (characters without one)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from trainer.datasets.example import ChatExample
from trainer.datasets.quality.text import answer_of, approx_tokens

BATCH = 2048


def token_lengths(examples: Sequence[ChatExample], tokenizer: Any | None) -> list[int]:
    """Each example's length as training sees it: its chat template rendered and tokenised.

    Rendering is done per batch of examples and tokenising by the fast tokenizer's batch
    call, which is several times quicker than one ``apply_chat_template`` per example.
    Without a tokenizer, the length is in characters.
    """
    if tokenizer is None:
        return [sum(len(m.content) for m in example.messages) for example in examples]
    lengths: list[int] = []
    for start in range(0, len(examples), BATCH):
        batch = [example.as_dicts() for example in examples[start : start + BATCH]]
        texts = tokenizer.apply_chat_template(batch, tokenize=False)
        encoded = tokenizer(texts, add_special_tokens=False)["input_ids"]
        lengths.extend(len(ids) for ids in encoded)
    return lengths


def answer_lengths(examples: Sequence[ChatExample], tokenizer: Any | None) -> list[int]:
    """Each final answer's length in tokens (approximate words without a tokenizer)."""
    answers = [answer_of(example) for example in examples]
    if tokenizer is None:
        return [approx_tokens(answer) for answer in answers]
    lengths: list[int] = []
    for start in range(0, len(answers), BATCH):
        encoded = tokenizer(answers[start : start + BATCH], add_special_tokens=False)
        lengths.extend(len(ids) for ids in encoded["input_ids"])
    return lengths


def summary(values: Sequence[int]) -> dict[str, int]:
    """min / median / p95 / max (nearest-rank percentiles)."""
    if not values:
        return {"min": 0, "median": 0, "p95": 0, "max": 0}
    ordered = sorted(values)

    def rank(share: float) -> int:
        return ordered[min(len(ordered) - 1, max(0, round(share * len(ordered)) - 1))]

    return {"min": ordered[0], "median": rank(0.5), "p95": rank(0.95), "max": ordered[-1]}
