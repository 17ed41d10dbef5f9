"""The heavy work on an uploaded dataset, as plain functions for a child process.

The gateway's processes serve completions and must stay small: they never import the
tokenizer stack. They hand each of these calls (picklable arguments in, picklable answers
out) to a child process, which keeps the base model's tokenizer loaded between calls.

- ``check_upload``: validate the staged bytes (CSV converted first), count tokens, keep the
  file under its final name when every line is usable, and make its quality report;
- ``make_report``: the quality report of a stored file (for files stored before reports);
- ``file_stats`` / ``file_preview``: what the console shows of a stored file.
"""

from __future__ import annotations

import contextlib
import ctypes
import dataclasses
import logging
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from trainer.datasets.example import ChatExample
from trainer.datasets.issues import DatasetIssue
from trainer.datasets.length_stats import histogram, summary

log = logging.getLogger("loragate.intake")
HISTOGRAM_BINS = 10
PROCESS_NAME = b"loragate-check"
_PR_SET_NAME = 15
_tokenizers: dict[str, Any] = {}


@dataclass(frozen=True)
class CsvMapping:
    """Which CSV columns make each example's user turn and answer."""

    prompt: str
    completion: str
    system: str | None = None


@dataclass(frozen=True)
class Intake:
    """One uploaded file to check."""

    staged: str
    """Where the uploaded bytes are."""
    final: str
    """Where a usable file is kept (its suffix names its format; ``.jsonl`` for CSV)."""
    filename: str
    """The name it was uploaded under: problems are reported against it."""
    tokenizer_path: str | None
    max_model_len: int
    csv: CsvMapping | None = None
    report: bool = True


@dataclass(frozen=True)
class IntakeResult:
    ok: bool
    path: str
    """The final path when ``ok``; else where the uploaded bytes still are."""
    format: str | None = None
    examples: int | None = None
    tokens: int | None = None
    problems: str | None = None
    """Every problem on its own line, ``file:line: what`` (the first ones and a count)."""


def name_this_process() -> None:
    """Show the child as ``loragate-check`` in ``top`` and ``/proc/<pid>/comm``."""
    if sys.platform.startswith("linux"):
        with contextlib.suppress(OSError, AttributeError):
            libc = ctypes.CDLL("libc.so.6", use_errno=True)
            libc.prctl(_PR_SET_NAME, PROCESS_NAME, 0, 0, 0)


def tokenizer_at(path: str | None) -> Any:
    """The tokenizer of the model folder ``path``, loaded once per process; None when the
    folder has none (yet: the worker may still be making the default model)."""
    if path is None:
        return None
    if path in _tokenizers:
        return _tokenizers[path]
    if not (Path(path) / "tokenizer_config.json").is_file():
        return None
    try:
        from transformers import AutoTokenizer

        tokenizer = AutoTokenizer.from_pretrained(path)
    except (OSError, ValueError):
        log.warning("could not load the tokenizer of %s; files are checked without it", path)
        return None
    _tokenizers[path] = tokenizer
    return tokenizer


def check_upload(intake: Intake) -> IntakeResult:
    """Validate ``intake.staged``; when every line is usable, move it to ``intake.final``."""
    from trainer.datasets.loader import validate_file

    staged = Path(intake.staged)
    final = Path(intake.final)
    if not staged.is_file() and final.is_file():  # moved by an earlier run that then died
        staged = final
    if intake.csv is not None and staged.suffix.lower() == ".csv":
        converted = _convert_csv(staged, intake)
        if isinstance(converted, IntakeResult):
            return converted
        staged = converted
    tokenizer = tokenizer_at(intake.tokenizer_path)
    max_len = intake.max_model_len if tokenizer is not None else None
    report = validate_file(staged, tokenizer=tokenizer, max_seq_len=max_len)
    if not report.ok:
        problems = problem_text(intake.filename, report.errors, report.error_count, "fine-tuning")
        return IntakeResult(False, str(staged), report.format, problems=problems)
    if staged != final:
        staged.replace(final)
    if intake.report:
        _save_report(final, tokenizer, intake)
    return IntakeResult(True, str(final), report.format, report.examples, report.tokens)


def _convert_csv(staged: Path, intake: Intake) -> Path | IntakeResult:
    from trainer.datasets import DatasetError, convert_csv, write_jsonl

    assert intake.csv is not None
    mapping = intake.csv
    try:
        examples = convert_csv(staged, mapping.prompt, mapping.completion, mapping.system)
    except DatasetError as exc:
        problems = problem_text(intake.filename, exc.issues, exc.total, "CSV")
        return IntakeResult(False, str(staged), "csv", problems=problems)
    converted = staged.with_suffix(".jsonl")
    write_jsonl(examples, converted)
    staged.unlink()
    return converted


def _save_report(path: Path, tokenizer: Any, intake: Intake) -> None:
    try:
        from trainer.datasets.quality import build_report, save_report

        made = build_report(path, tokenizer, max_model_len=intake.max_model_len)
        save_report(path, made)
    except Exception:  # a report never costs an upload; it is made again when asked for
        log.exception("could not make the quality report of %s", intake.filename)


def problem_text(filename: str, issues: list[DatasetIssue], total: int, kind: str) -> str:
    """The problems of an unusable file, one per line, the first ones and a count."""
    lines = [str(dataclasses.replace(issue, path=filename)) for issue in issues]
    if total > len(issues):
        lines.append(f"... and {total - len(issues)} more problems")
    plural = "problem" if total == 1 else "problems"
    header = f"The file '{filename}' is not a usable {kind} dataset ({total} {plural}):"
    return "\n".join([header, *lines])


def make_report(
    path: str, tokenizer_path: str | None, max_model_len: int, name: str
) -> dict[str, Any]:
    """The stored file's quality report (saved beside it), as a dict."""
    from trainer.datasets.quality import build_report, save_report

    made = build_report(path, tokenizer_at(tokenizer_path), max_model_len=max_model_len, name=name)
    save_report(path, made)
    return made.as_dict()


def file_preview(path: str, format: str | None, limit: int) -> tuple[int, list[dict[str, Any]]]:
    """How many examples the file has, and the first ``limit`` of them as chats."""
    examples = _examples(path, format)
    shown = [{"line": ex.source_line, "messages": ex.as_dicts()} for ex in examples[:limit]]
    return len(examples), shown


def file_stats(path: str, format: str | None, tokenizer_path: str | None) -> dict[str, Any]:
    """Length statistics of a stored file: tokens with the base model's tokenizer (its chat
    template, every turn), characters when there is none."""
    from trainer.datasets.tokens import count_tokens

    examples = _examples(path, format)
    tokenizer = tokenizer_at(tokenizer_path)
    if tokenizer is not None:
        unit, lengths = "tokens", [count_tokens(ex, tokenizer) for ex in examples]
    else:  # no tokenizer on this machine: characters are the honest fallback
        unit = "characters"
        lengths = [sum(len(m.content) for m in ex.messages) for ex in examples]
    turns = [len(ex.messages) for ex in examples]
    return {
        "format": format,
        "examples": len(examples),
        "unit": unit,
        "length": summary(lengths),
        "histogram": histogram(lengths, HISTOGRAM_BINS),
        "messages_per_example": summary(turns),
        "with_system_prompt": sum(ex.messages[0].role == "system" for ex in examples),
    }


def _examples(path: str, format: str | None) -> list[ChatExample]:
    from trainer.datasets.loader import load_examples

    return load_examples(path, format=format)
