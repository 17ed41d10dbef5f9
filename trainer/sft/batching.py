"""Batches that waste little compute on padding.

Length-grouped order: shuffle (seeded per epoch), cut into buckets of many batches, sort each
bucket by length, cut it into batches, then shuffle the batches. Each batch is padded only to
its own longest example (dynamic padding).
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import torch

from trainer.sft.tokenize import IGNORE_INDEX, TokenizedExample

BATCHES_PER_BUCKET = 16


@dataclass(frozen=True)
class Batch:
    """Right-padded model inputs; ``labels`` are -100 on padding and non-assistant tokens."""

    input_ids: Any
    attention_mask: Any
    labels: Any

    @property
    def real_tokens(self) -> int:
        """Non-padding tokens (the tokens the model actually reads)."""
        return int(self.attention_mask.sum().item())

    @property
    def padded_tokens(self) -> int:
        return int(self.attention_mask.numel())

    def to(self, device: Any) -> Batch:
        return Batch(
            self.input_ids.to(device), self.attention_mask.to(device), self.labels.to(device)
        )


def length_grouped_batches(
    lengths: Sequence[int],
    batch_size: int,
    seed: int,
    epoch: int,
    batches_per_bucket: int = BATCHES_PER_BUCKET,
) -> list[list[int]]:
    """Indices of examples, grouped into batches of similar length; same seed+epoch, same order."""
    rng = random.Random(seed * 1_000_003 + epoch)
    order = list(range(len(lengths)))
    rng.shuffle(order)
    bucket_size = batch_size * batches_per_bucket
    batches: list[list[int]] = []
    for start in range(0, len(order), bucket_size):
        bucket = sorted(order[start : start + bucket_size], key=lambda i: lengths[i], reverse=True)
        batches.extend(bucket[i : i + batch_size] for i in range(0, len(bucket), batch_size))
    rng.shuffle(batches)
    return batches


def batches_per_epoch(num_examples: int, batch_size: int) -> int:
    return -(-num_examples // batch_size)


def collate(examples: Sequence[TokenizedExample], pad_token_id: int) -> Batch:
    """Pad each example on the right to the longest one in this batch."""
    width = max(example.length for example in examples)
    input_ids = torch.full((len(examples), width), pad_token_id, dtype=torch.long)
    labels = torch.full((len(examples), width), IGNORE_INDEX, dtype=torch.long)
    attention_mask = torch.zeros((len(examples), width), dtype=torch.long)
    for row, example in enumerate(examples):
        n = example.length
        input_ids[row, :n] = torch.tensor(example.input_ids, dtype=torch.long)
        labels[row, :n] = torch.tensor(example.labels, dtype=torch.long)
        attention_mask[row, :n] = 1
    return Batch(input_ids=input_ids, attention_mask=attention_mask, labels=labels)


def padding_ratio(batches: Sequence[Sequence[int]], lengths: Sequence[int]) -> float:
    """Share of padded positions that are padding, when each batch pads to its own longest."""
    real = padded = 0
    for batch in batches:
        batch_lengths = [lengths[i] for i in batch]
        real += sum(batch_lengths)
        padded += max(batch_lengths) * len(batch_lengths)
    return 1.0 - real / padded if padded else 0.0


def global_padding_ratio(lengths: Sequence[int]) -> float:
    """The padding share if every example were padded to the dataset's longest (the baseline)."""
    if not lengths:
        return 0.0
    return 1.0 - sum(lengths) / (max(lengths) * len(lengths))
