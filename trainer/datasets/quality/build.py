"""The quality report of one dataset file: every check, one pass each, in one place."""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from trainer.datasets.example import ChatExample
from trainer.datasets.gc_pause import gc_paused
from trainer.datasets.issues import IssueLog
from trainer.datasets.loader import read_dataset
from trainer.datasets.quality.answers import cut_off, is_classification, label_findings
from trainer.datasets.quality.duplicates import conflicts, exact_duplicates, near_duplicates
from trainer.datasets.quality.findings import Finding, QualityReport, finding, ordered
from trainer.datasets.quality.lengths import lengths_of, summary
from trainer.datasets.quality.scripts import script_mix
from trainer.datasets.quality.text import answer_of, has_user_turn

DEFAULT_MAX_SEQ_LEN = 1024
"""The fine-tuning default (``JobSpec.max_seq_len``): longer conversations are truncated."""


def build_report(
    path: str | Path,
    tokenizer: Any | None = None,
    max_model_len: int | None = None,
    max_seq_len: int = DEFAULT_MAX_SEQ_LEN,
    format: str | None = None,
    name: str | None = None,
) -> QualityReport:
    """Read ``path`` and report what is wrong or worth knowing about it. Token lengths use
    ``tokenizer`` (the base model's); without one they are in characters and the length
    limits are not checked. ``name`` is what the report calls the file (default: its path)."""
    with gc_paused():  # millions of live objects, no cycles: see ``gc_pause``
        return _build(path, tokenizer, max_model_len, max_seq_len, format, name or str(path))


def _build(
    path: str | Path,
    tokenizer: Any | None,
    max_model_len: int | None,
    max_seq_len: int,
    format: str | None,
    name: str,
) -> QualityReport:
    loaded = read_dataset(path, format)
    examples = loaded.examples
    lengths, answer_tokens = lengths_of(examples, tokenizer)
    labels = is_classification(answer_tokens, [answer_of(e) for e in examples])
    findings = _invalid(loaded.log, name)
    limits = [limit for limit in (max_model_len, max_seq_len) if limit] if tokenizer else []
    findings += _too_long(examples, lengths, max_model_len, max_seq_len) if tokenizer else []
    exact, copies = exact_duplicates(examples)
    findings += [
        item
        for item in (
            exact,
            near_duplicates(examples, copies),
            conflicts(examples),
            _no_user_turn(examples),
            cut_off(examples, answer_tokens, lengths, limits, labels),
        )
        if item is not None
    ]
    distribution: dict[str, int] | None = None
    if labels:
        label_notes, distribution = label_findings(examples)
        findings += label_notes
    stats = _stats(examples, lengths, tokenizer is not None, max_model_len, max_seq_len)
    stats["answers"] = {"classification": labels, "distribution": distribution}
    return QualityReport(name, loaded.format, len(examples), stats, ordered(findings))


def _stats(
    examples: Sequence[ChatExample],
    lengths: Sequence[int],
    tokenized: bool,
    max_model_len: int | None,
    max_seq_len: int,
) -> dict[str, Any]:
    turns = [len(example.messages) for example in examples]
    length_stats: dict[str, Any] = {"unit": "tokens" if tokenized else "characters"}
    length_stats |= summary(lengths)
    if tokenized:
        length_stats |= {
            "max_model_len": max_model_len,
            "over_max_model_len": sum(1 for n in lengths if max_model_len and n > max_model_len),
            "max_seq_len": max_seq_len,
            "over_max_seq_len": sum(1 for n in lengths if n > max_seq_len),
        }
    texts = (message.content for example in examples for message in example.messages)
    return {
        "turns": {"total": sum(turns)} | summary(turns),
        "lengths": length_stats,
        "scripts": script_mix(texts),
    }


def _invalid(log: IssueLog, name: str) -> list[Finding]:
    if not log.total:
        return []
    lines: list[int | None] = [issue.line for issue in log.issues]
    lines += [None] * (log.total - len(log.issues))
    message = f"problems that make lines unusable (not trained on): {log.total}"
    details = [str(dataclasses.replace(issue, path=name)) for issue in log.issues]
    return [finding("invalid_lines", "error", message, lines, details)]


def _too_long(
    examples: Sequence[ChatExample],
    lengths: Sequence[int],
    max_model_len: int | None,
    max_seq_len: int,
) -> list[Finding]:
    found: list[Finding] = []
    if max_model_len:
        over = [e.source_line for e, n in zip(examples, lengths, strict=True) if n > max_model_len]
        if over:
            message = f"examples longer than the engine's context ({max_model_len}): {len(over)}"
            found.append(finding("over_max_model_len", "error", message, list(over)))
    long = [e.source_line for e, n in zip(examples, lengths, strict=True) if n > max_seq_len]
    if long:
        message = f"examples over max_seq_len {max_seq_len} (truncated in training): {len(long)}"
        found.append(finding("over_max_seq_len", "warning", message, list(long)))
    return found


def _no_user_turn(examples: Sequence[ChatExample]) -> Finding | None:
    lines = [example.source_line for example in examples if not has_user_turn(example)]
    if not lines:
        return None
    message = f"examples without a user turn (nothing prompts the answer): {len(lines)}"
    return finding("no_user_turn", "warning", message, list(lines))
