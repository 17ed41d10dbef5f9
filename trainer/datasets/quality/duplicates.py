"""Copies in a dataset: exact duplicates, near-duplicates, and one prompt with two answers."""

from __future__ import annotations

from collections.abc import Sequence

from trainer.datasets.example import ChatExample
from trainer.datasets.quality.findings import Finding, finding
from trainer.datasets.quality.near import near_search
from trainer.datasets.quality.similarity import NEAR_THRESHOLD, SHINGLE
from trainer.datasets.quality.text import answer_of, full_key, plain_text, prompt_key


def exact_duplicates(examples: Sequence[ChatExample]) -> tuple[Finding | None, set[int]]:
    """Examples equal to an earlier one (every turn the same); and their indexes."""
    first: dict[str, int] = {}
    copies: list[int] = []
    details: list[str] = []
    for index, example in enumerate(examples):
        earlier = first.setdefault(full_key(example), index)
        if earlier != index:
            copies.append(index)
            details.append(f"line {example.source_line} repeats line {_line(examples, earlier)}")
    if not copies:
        return None, set()
    message = f"exact copies of an earlier example: {len(copies)}"
    lines = [examples[index].source_line for index in copies]
    return finding("exact_duplicates", "warning", message, lines, details), set(copies)


def near_duplicates(examples: Sequence[ChatExample], skip: set[int]) -> Finding | None:
    """Examples whose text is at least 80% the same as an earlier one's (exact copies,
    already reported, are left out)."""
    positions = [position for position in range(len(examples)) if position not in skip]
    texts = [plain_text(examples[position]) for position in positions]
    pairs, stopped = near_search(texts)
    found = [(positions[a], positions[b]) for a, b in pairs]
    if not found and stopped is None:
        return None
    details = [f"line {examples[a].source_line} ~ line {_line(examples, b)}" for a, b in found]
    message = (
        f"near copies of an earlier example "
        f"(Jaccard >= {NEAR_THRESHOLD} on character {SHINGLE}-grams): {len(found)}"
    )
    lines = [examples[a].source_line for a, _ in found]
    if stopped is not None:
        at = examples[positions[stopped]].source_line
        message += (
            f"; looked for only up to line {at}: the texts are so alike (templated?) "
            "that comparing all of them would take too long"
        )
    if not found:
        return finding("near_duplicates", "info", message, lines, details)
    return finding("near_duplicates", "warning", message, lines, details)


def conflicts(examples: Sequence[ChatExample]) -> Finding | None:
    """The same prompt (every turn before the answer) answered differently."""
    answers: dict[str, dict[str, int]] = {}
    for index, example in enumerate(examples):
        answers.setdefault(prompt_key(example), {}).setdefault(answer_of(example), index)
    groups = [sorted(group.values()) for group in answers.values() if len(group) > 1]
    if not groups:
        return None
    groups.sort()
    lines = [examples[index].source_line for group in groups for index in group]
    details = [
        "lines " + ", ".join(str(examples[index].source_line) for index in group)
        for group in groups
    ]
    message = f"prompts with different answers: {len(groups)} ({len(lines)} examples)"
    return finding("conflicting_answers", "warning", message, lines, details)


def _line(examples: Sequence[ChatExample], index: int) -> int | None:
    return examples[index].source_line
