"""Length-grouped batches with dynamic padding waste less than padding to the longest."""

from __future__ import annotations

import random
from typing import Any

import torch

from tests.trainer.sft.keyword_task import keyword_splits
from trainer.sft.batching import (
    collate,
    global_padding_ratio,
    length_grouped_batches,
    padding_ratio,
)
from trainer.sft.tokenize import IGNORE_INDEX, TokenizedExample, tokenize_conversations


def varied_lengths(n: int = 300) -> list[int]:
    rng = random.Random(1)
    return [rng.randint(8, 512) for _ in range(n)]


def test_every_example_once_per_epoch() -> None:
    lengths = varied_lengths(101)
    batches = length_grouped_batches(lengths, batch_size=8, seed=0, epoch=0)
    assert sorted(i for batch in batches for i in batch) == list(range(101))
    assert all(1 <= len(batch) <= 8 for batch in batches)


def test_order_is_seeded_and_changes_per_epoch() -> None:
    lengths = varied_lengths()
    first = length_grouped_batches(lengths, batch_size=8, seed=0, epoch=0)
    assert first == length_grouped_batches(lengths, batch_size=8, seed=0, epoch=0)
    assert first != length_grouped_batches(lengths, batch_size=8, seed=0, epoch=1)
    assert first != length_grouped_batches(lengths, batch_size=8, seed=1, epoch=0)


def test_dynamic_padding_wastes_far_less_than_global_padding() -> None:
    lengths = varied_lengths()
    batches = length_grouped_batches(lengths, batch_size=8, seed=0, epoch=0)
    dynamic = padding_ratio(batches, lengths)
    assert global_padding_ratio(lengths) > 0.4
    assert dynamic < 0.1
    assert dynamic < global_padding_ratio(lengths) / 4


def test_dynamic_padding_on_real_chat_data(tokenizer: Any) -> None:
    conversations = keyword_splits((200,))[0]
    examples = tokenize_conversations(tokenizer, conversations, max_seq_len=128).examples
    lengths = [example.length for example in examples]
    batches = length_grouped_batches(lengths, batch_size=8, seed=0, epoch=0)
    assert padding_ratio(batches, lengths) < global_padding_ratio(lengths)


def test_collate_pads_each_batch_to_its_own_longest() -> None:
    examples = [
        TokenizedExample(input_ids=[5, 6, 7], labels=[IGNORE_INDEX, 6, 7]),
        TokenizedExample(input_ids=[8], labels=[8]),
    ]
    batch = collate(examples, pad_token_id=0)
    assert batch.input_ids.tolist() == [[5, 6, 7], [8, 0, 0]]
    assert batch.attention_mask.tolist() == [[1, 1, 1], [1, 0, 0]]
    assert batch.labels.tolist() == [[IGNORE_INDEX, 6, 7], [8, IGNORE_INDEX, IGNORE_INDEX]]
    assert batch.input_ids.dtype == torch.long
    assert (batch.real_tokens, batch.padded_tokens) == (4, 6)
