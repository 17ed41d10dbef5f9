"""Reading a dataset file into checked examples, and the report of what was found."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from trainer.datasets.checks import build_example
from trainer.datasets.example import ChatExample
from trainer.datasets.formats import UNKNOWN_FORMAT_HINT, DatasetFormat, detect_format, format_named
from trainer.datasets.gc_pause import gc_paused
from trainer.datasets.issues import DatasetError, DatasetIssue, IssueLog
from trainer.datasets.records import Entry, Record, Unreadable, read_entries
from trainer.datasets.tokens import ChatTokenizer, count_tokens


@dataclass(frozen=True)
class ValidationReport:
    """What ``validate_file`` found: the usable examples and every problem (up to a cap)."""

    path: str
    format: str
    examples: int
    tokens: int | None
    errors: list[DatasetIssue]
    error_count: int

    @property
    def ok(self) -> bool:
        return self.error_count == 0


@dataclass
class LoadedDataset:
    """A file read leniently: its usable examples and the log of every problem found."""

    format: str
    examples: list[ChatExample]
    tokens: int | None
    log: IssueLog


def read_dataset(path: str | Path, format: str | None = None) -> LoadedDataset:
    """The usable examples of a file and the problems of the others (nothing raised)."""
    return _load(Path(path), format, None, None)


def load_examples(
    path: str | Path,
    format: str | None = None,
    tokenizer: ChatTokenizer | None = None,
    max_seq_len: int | None = None,
) -> list[ChatExample]:
    """Every example of the file; a ``DatasetError`` names each problem if there is any."""
    loaded = _load(Path(path), format, tokenizer, max_seq_len)
    if loaded.log.total:
        raise DatasetError.from_log(loaded.log)
    return loaded.examples


def validate_file(
    path: str | Path,
    tokenizer: ChatTokenizer | None = None,
    max_seq_len: int | None = None,
    format: str | None = None,
) -> ValidationReport:
    """Check a dataset file; with a tokenizer, count tokens and flag over-long examples."""
    loaded = _load(Path(path), format, tokenizer, max_seq_len)
    return ValidationReport(
        path=str(path),
        format=loaded.format,
        examples=len(loaded.examples),
        tokens=loaded.tokens,
        errors=list(loaded.log.issues),
        error_count=loaded.log.total,
    )


def _load(
    path: Path, format: str | None, tokenizer: ChatTokenizer | None, max_seq_len: int | None
) -> LoadedDataset:
    with gc_paused():
        return _load_all(path, format, tokenizer, max_seq_len)


def _load_all(
    path: Path, format: str | None, tokenizer: ChatTokenizer | None, max_seq_len: int | None
) -> LoadedDataset:
    if max_seq_len is not None and tokenizer is None:
        raise ValueError("max_seq_len needs a tokenizer to count tokens with")
    log = IssueLog(str(path))
    if format == "csv" or (format is None and path.suffix.lower() == ".csv"):
        log.add(None, None, "CSV needs a column mapping: convert it first (convert_csv)")
        return LoadedDataset("csv", [], None, log)
    entries = read_entries(path, log)
    records = [entry for entry in entries if isinstance(entry, Record)]
    fmt = format_named(format) if format else detect_format(records)
    if fmt is None and records:
        log.add(None, None, UNKNOWN_FORMAT_HINT)
        return LoadedDataset("unknown", [], None, log)
    examples, tokens = _examples_of(entries, fmt, log, tokenizer, max_seq_len)
    if not entries and not log.total:
        log.add(None, None, "no examples in the file")
    # No format means no record at all: the file is empty or nothing in it is an object.
    return LoadedDataset(fmt.name if fmt else "unknown", examples, tokens, log)


def _examples_of(
    entries: list[Entry],
    fmt: DatasetFormat | None,
    log: IssueLog,
    tokenizer: ChatTokenizer | None,
    max_seq_len: int | None,
) -> tuple[list[ChatExample], int | None]:
    """The valid examples and their token total; problems are logged in line order."""
    examples: list[ChatExample] = []
    tokens = 0
    for entry in entries:
        if isinstance(entry, Unreadable):
            log.add(entry.line, None, entry.reason)
            continue
        example = build_example(entry, fmt, log) if fmt else None
        if example is None or fmt is None:
            continue
        if tokenizer is not None:
            count = count_tokens(example, tokenizer)
            if max_seq_len is not None and count > max_seq_len:
                message = f"too long: {count} tokens, over max_seq_len {max_seq_len}"
                log.add(entry.line, fmt.conversation_field, message)
                continue
            tokens += count
        examples.append(example)
    return examples, tokens if tokenizer is not None else None
