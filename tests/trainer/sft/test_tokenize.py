"""Label masking on the default model: loss on assistant content + end of turn, nothing else."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from tests.trainer.sft.keyword_task import keyword_splits
from trainer.sft.tokenize import (
    IGNORE_INDEX,
    Conversation,
    assistant_mask,
    has_generation_markers,
    mask_from_generation_markers,
    mask_from_prefixes,
    tokenize_conversation,
    tokenize_conversations,
)

MULTI_TURN: Conversation = [
    {"role": "system", "content": "判断评价的情感"},
    {"role": "user", "content": "这家店很好吃，下次还会再来"},
    {"role": "assistant", "content": "好评"},
    {"role": "user", "content": "等了一个小时，饭都凉了"},
    {"role": "assistant", "content": "差评 because the food was cold"},
]


def labelled_text(tokenizer: Any, conversation: Conversation) -> list[str]:
    """The label tokens of each contiguous labelled span, decoded."""
    example = tokenize_conversation(tokenizer, conversation, max_seq_len=4096)
    spans: list[list[int]] = []
    previous = IGNORE_INDEX
    for label in example.labels:
        if label != IGNORE_INDEX:
            if previous == IGNORE_INDEX:
                spans.append([])
            spans[-1].append(label)
        previous = label
    return [tokenizer.decode(span) for span in spans]


def test_only_assistant_turns_have_labels(tokenizer: Any) -> None:
    assert labelled_text(tokenizer, MULTI_TURN) == [
        "好评<|im_end|>",
        "差评 because the food was cold<|im_end|>",
    ]


def test_labels_equal_input_ids_where_set(tokenizer: Any) -> None:
    example = tokenize_conversation(tokenizer, MULTI_TURN, max_seq_len=4096)
    assert len(example.labels) == len(example.input_ids)
    for token, label in zip(example.input_ids, example.labels, strict=True):
        assert label in (IGNORE_INDEX, token)


@pytest.mark.parametrize("index", range(6))
def test_marker_and_prefix_masks_agree(tokenizer: Any, index: int) -> None:
    conversations = [MULTI_TURN, *keyword_splits((4,), seed=3)[0], MULTI_TURN[1:]]
    conversation = conversations[index]
    assert has_generation_markers(tokenizer)
    by_markers = mask_from_generation_markers(tokenizer, conversation)
    by_prefixes = mask_from_prefixes(tokenizer, conversation)
    assert by_markers == by_prefixes
    assert sum(by_markers[1]) > 0


def test_template_without_markers_falls_back_to_prefixes(tokenizer: Any) -> None:
    plain = copy.deepcopy(tokenizer)
    plain.chat_template = tokenizer.chat_template.replace("{% generation %}", "").replace(
        "{% endgeneration %}", ""
    )
    assert not has_generation_markers(plain)
    assert assistant_mask(plain, MULTI_TURN) == assistant_mask(tokenizer, MULTI_TURN)


def test_truncation_drops_and_counts_examples_without_assistant_tokens(tokenizer: Any) -> None:
    short = MULTI_TURN[1:3]
    long = [{"role": "user", "content": "很好吃 " * 200}, {"role": "assistant", "content": "好评"}]
    dataset = tokenize_conversations(tokenizer, [short, long], max_seq_len=64)
    assert len(dataset.examples) == 1
    assert dataset.dropped_without_trainable_tokens == 1
    assert dataset.truncated == 1
    assert all(example.length <= 64 for example in dataset.examples)


def test_partly_cut_answer_keeps_its_first_tokens(tokenizer: Any) -> None:
    full = tokenize_conversation(tokenizer, MULTI_TURN, max_seq_len=4096)
    cut = tokenize_conversation(tokenizer, MULTI_TURN, max_seq_len=full.length - 3)
    assert cut.input_ids == full.input_ids[: full.length - 3]
    assert 0 < cut.trainable_tokens < full.trainable_tokens


@pytest.mark.parametrize(
    "bad",
    [[], [{"role": "user", "content": "hi"}], [{"role": "assistant"}]],
)
def test_malformed_conversations_are_refused(tokenizer: Any, bad: Conversation) -> None:
    with pytest.raises(ValueError):  # noqa: PT011
        tokenize_conversation(tokenizer, bad, max_seq_len=64)
