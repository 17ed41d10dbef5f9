"""What the answers look like: cut off mid-sentence, or labels of a classification task."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence

from trainer.datasets.example import ChatExample
from trainer.datasets.quality.findings import Finding, finding
from trainer.datasets.quality.text import answer_of, ends_a_sentence

MOST_END_A_SENTENCE = 0.7
"""Missing final punctuation is suspicious only where at least this share of answers has it."""
MIN_LIMIT_LENGTH = 16
MIN_AT_LIMIT = 3
MIN_AT_LIMIT_SHARE = 0.01
"""A length cap shows as many answers (3, and 1% of all) at exactly the longest length."""
LABEL_MAX_TOKENS = 8
LABEL_SHARE = 0.9
MAX_LABELS = 50
IMBALANCE_RATIO = 3.0
IMBALANCE_SHARE = 0.7


def is_classification(answer_tokens: Sequence[int], answers: Sequence[str]) -> bool:
    """At least 90% of answers are at most 8 tokens, and there are at most 50 distinct ones."""
    if not answers:
        return False
    short = sum(1 for length in answer_tokens if length <= LABEL_MAX_TOKENS)
    return short >= LABEL_SHARE * len(answers) and len(set(answers)) <= MAX_LABELS


def label_findings(examples: Sequence[ChatExample]) -> tuple[list[Finding], dict[str, int]]:
    """The answer distribution (info) and, when one label dominates, an imbalance warning."""
    answers = [answer_of(example).strip() for example in examples]
    counts = Counter(answers)
    distribution = dict(counts.most_common())
    shares = ", ".join(f"{label!r}: {count}" for label, count in counts.most_common(10))
    found = [finding("label_distribution", "info", f"answers look like labels: {shares}", [])]
    (top, most), (low, least) = counts.most_common()[0], counts.most_common()[-1]
    total = sum(counts.values())
    if most > IMBALANCE_RATIO * least or most > IMBALANCE_SHARE * total:
        message = (
            f"imbalanced labels: {top!r} is {most} of {total} ({most / total:.0%}), "
            f"{low!r} only {least}"
        )
        # the whole file is concerned: the lines given are those of the largest label
        lines = [
            e.source_line for e, answer in zip(examples, answers, strict=True) if answer == top
        ]
        found.append(finding("label_imbalance", "warning", message, lines))
    return found, distribution


def cut_off(
    examples: Sequence[ChatExample],
    answer_tokens: Sequence[int],
    example_tokens: Sequence[int],
    limits: Sequence[int],
    labels: bool,
) -> Finding | None:
    """Answers that look cut off: no sentence-final punctuation where most answers longer
    than a label (8 tokens) have it,
    or a length equal to a limit (the longest answer length shared by several answers, or an
    example exactly at ``max_seq_len`` / the engine's context). Labels (``labels``) are
    short answers without punctuation by nature: only the limits apply to them."""
    prose = [i for i, length in enumerate(answer_tokens) if length > LABEL_MAX_TOKENS]
    ends = {i: ends_a_sentence(answer_of(examples[i])) for i in prose}
    suspicious: dict[int, str] = {}
    if not labels and prose and sum(ends.values()) >= MOST_END_A_SENTENCE * len(prose):
        suspicious |= {i: "no final punctuation" for i, ok in ends.items() if not ok}
    longest = max(answer_tokens, default=0)
    at_longest = [i for i, length in enumerate(answer_tokens) if length == longest]
    at_limit = max(MIN_AT_LIMIT, MIN_AT_LIMIT_SHARE * len(answer_tokens))
    if longest >= MIN_LIMIT_LENGTH and len(at_longest) >= at_limit:
        suspicious |= {i: f"answer exactly {longest} long, like others" for i in at_longest}
    for i, length in enumerate(example_tokens):
        if length in limits:
            suspicious[i] = f"example exactly {length} long, a length limit"
    if not suspicious:
        return None
    order = sorted(suspicious)
    lines = [examples[i].source_line for i in order]
    details = [f"line {examples[i].source_line}: {suspicious[i]}" for i in order]
    message = f"answers that look cut off: {len(order)}"
    return finding("cut_off_answers", "warning", message, lines, details)
