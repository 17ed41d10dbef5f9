"""Reading a dataset file into checked examples, and the report of what was found."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from itertools import chain
from pathlib import Path

from trainer.datasets.checks import build_example
from trainer.datasets.example import ChatExample
from trainer.datasets.formats import UNKNOWN_FORMAT_HINT, DatasetFormat, detect_format, format_named
from trainer.datasets.gc_pause import gc_paused
from trainer.datasets.issues import DatasetError, DatasetIssue, IssueLog
from trainer.datasets.records import Entry, Record, Unreadable, iter_entries
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
    """Empty when the examples were only counted (``validate_file``)."""
    tokens: int | None
    log: IssueLog
    count: int = 0
    """How many usable examples the file has."""


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
    loaded = _load(Path(path), format, tokenizer, max_seq_len, keep=False)
    return ValidationReport(
        path=str(path),
        format=loaded.format,
        examples=loaded.count,
        tokens=loaded.tokens,
        errors=list(loaded.log.issues),
        error_count=loaded.log.total,
    )


def _load(
    path: Path,
    format: str | None,
    tokenizer: ChatTokenizer | None,
    max_seq_len: int | None,
    keep: bool = True,
) -> LoadedDataset:
    """The file read one line at a time; ``keep``: hold its examples (else count them)."""
    with gc_paused():
        return _load_all(path, format, tokenizer, max_seq_len, keep)


def _load_all(
    path: Path,
    format: str | None,
    tokenizer: ChatTokenizer | None,
    max_seq_len: int | None,
    keep: bool,
) -> LoadedDataset:
    if max_seq_len is not None and tokenizer is None:
        raise ValueError("max_seq_len needs a tokenizer to count tokens with")
    log = IssueLog(str(path))
    if format == "csv" or (format is None and path.suffix.lower() == ".csv"):
        log.add(None, None, "CSV needs a column mapping: convert it first (convert_csv)")
        return LoadedDataset("csv", [], None, log)
    entries = iter_entries(path, log)
    fmt = format_named(format) if format else None
    head: list[Entry] = []  # the entries read to find the format
    if fmt is None:
        fmt = _detect(entries, head)
        if fmt is None and any(isinstance(entry, Record) for entry in head):
            log.add(None, None, UNKNOWN_FORMAT_HINT)
            return LoadedDataset("unknown", [], None, log)
    tally = _Tally(keep)
    tally.add_all(chain(head, entries), fmt, log, tokenizer, max_seq_len)
    if not tally.entries and not log.total:
        log.add(None, None, "no examples in the file")
    # No format means no record at all: the file is empty or nothing in it is an object.
    tokens = tally.tokens if tokenizer is not None else None
    return LoadedDataset(fmt.name if fmt else "unknown", tally.examples, tokens, log, tally.count)


def _detect(entries: Iterator[Entry], head: list[Entry]) -> DatasetFormat | None:
    """The format of the first record whose keys say it; what was read goes into ``head``."""
    for entry in entries:
        head.append(entry)
        if isinstance(entry, Record) and (fmt := detect_format([entry])) is not None:
            return fmt
    return None


@dataclass
class _Tally:
    """The usable examples (or just their number) and their tokens, in line order."""

    keep: bool
    examples: list[ChatExample] = field(default_factory=list)
    count: int = 0
    tokens: int = 0
    entries: int = 0

    def add_all(
        self,
        entries: Iterable[Entry],
        fmt: DatasetFormat | None,
        log: IssueLog,
        tokenizer: ChatTokenizer | None,
        max_seq_len: int | None,
    ) -> None:
        """Check each entry; problems are logged in line order."""
        for entry in entries:
            self.entries += 1
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
                self.tokens += count
            self.count += 1
            if self.keep:
                self.examples.append(example)
