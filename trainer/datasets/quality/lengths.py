"""Lengths of examples: tokens with the base model's tokenizer (characters without one).

The fast path renders each conversation with the chat template once (``render.render_all``:
the template itself runs once per shape of conversation), cuts the text where the final
answer starts, and tokenises both parts in one Rust batch call: the example's length is the
sum, the answer's is the second part less the template's closing tokens. The counts are the
tokenizer's own, made faster by ``token_count.TokenCounter`` (each distinct piece between
special tokens, and each distinct word of plain ASCII text, is encoded once). That is exact when
the template puts a token boundary before the answer (ChatML, Llama 3 and the like), which is
checked on the first examples; otherwise each example and each answer is tokenised on its own
(slower, always exact).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from trainer.datasets.example import ChatExample
from trainer.datasets.quality.render import render_all
from trainer.datasets.quality.text import answer_of, approx_tokens
from trainer.datasets.quality.token_count import TokenCounter

BATCH = 4096
CHECKED = 64

Lengths = tuple[list[int], list[int]]  # each example's tokens, each final answer's tokens


def lengths_of(examples: Sequence[ChatExample], tokenizer: Any | None) -> Lengths:
    """Token lengths of every example and of its final answer."""
    if tokenizer is None:
        return (
            [sum(len(m.content) for m in example.messages) for example in examples],
            [approx_tokens(answer_of(example)) for example in examples],
        )
    backend = getattr(tokenizer, "backend_tokenizer", None)
    counter = TokenCounter(backend) if backend is not None else None
    use_split = counter is not None
    lengths: list[int] = []
    answers: list[int] = []
    rendered = render_all(examples, tokenizer)
    for start in range(0, len(examples), BATCH):
        batch = examples[start : start + BATCH]
        texts = rendered[start : start + BATCH]
        part = _split(batch, texts, counter, check=not start) if counter and use_split else None
        use_split = part is not None
        part = part or _exact(batch, texts, tokenizer)
        lengths += part[0]
        answers += part[1]
    return lengths, answers


def _split(
    batch: Sequence[ChatExample], texts: list[str], counter: TokenCounter, check: bool
) -> Lengths | None:
    """Lengths from the text cut before each answer; None when the cut is not exact."""
    heads, tails, closings = [], [], []
    for example, text in zip(batch, texts, strict=True):
        answer = answer_of(example)
        at = text.rfind(answer)
        if at < 0:
            return None
        heads.append(text[:at])
        tails.append(text[at:])
        closings.append(text[at + len(answer) :])
    counts = counter.counts(heads + tails)
    head_counts, tail_counts = counts[: len(heads)], counts[len(heads) :]
    lengths = [head + tail for head, tail in zip(head_counts, tail_counts, strict=True)]
    if check and counter.counts(texts[:CHECKED]) != lengths[:CHECKED]:
        return None
    distinct = sorted(set(closings))
    closing = dict(zip(distinct, counter.counts(distinct), strict=True))
    answers = [tail - closing[end] for tail, end in zip(tail_counts, closings, strict=True)]
    return lengths, answers


def _exact(batch: Sequence[ChatExample], texts: list[str], tokenizer: Any) -> Lengths:
    whole = tokenizer(texts, add_special_tokens=False)["input_ids"]
    answers = tokenizer([answer_of(e) for e in batch], add_special_tokens=False)["input_ids"]
    return [len(ids) for ids in whole], [len(ids) for ids in answers]


def summary(values: Sequence[int]) -> dict[str, int]:
    """min / median / p95 / max (nearest-rank percentiles)."""
    if not values:
        return {"min": 0, "median": 0, "p95": 0, "max": 0}
    ordered = sorted(values)

    def rank(share: float) -> int:
        return ordered[min(len(ordered) - 1, max(0, round(share * len(ordered)) - 1))]

    return {"min": ordered[0], "median": rank(0.5), "p95": rank(0.95), "max": ordered[-1]}
