"""Problems found in a dataset, each pointing at a file, a line and a field."""

from __future__ import annotations

from dataclasses import dataclass, field

MAX_REPORTED_ISSUES = 100


@dataclass(frozen=True)
class DatasetIssue:
    """One problem, printed as ``data.jsonl:7: messages[2].role: unknown role 'bot' ...``."""

    path: str
    line: int | None
    field: str | None
    message: str

    def __str__(self) -> str:
        where = self.path if self.line is None else f"{self.path}:{self.line}"
        if self.field:
            return f"{where}: {self.field}: {self.message}"
        return f"{where}: {self.message}"


@dataclass
class IssueLog:
    """Collects the issues of one file; keeps the first ``limit`` and counts the rest."""

    path: str
    limit: int = MAX_REPORTED_ISSUES
    issues: list[DatasetIssue] = field(default_factory=list)
    total: int = 0

    def add(self, line: int | None, field_name: str | None, message: str) -> None:
        self.total += 1
        if len(self.issues) < self.limit:
            self.issues.append(DatasetIssue(self.path, line, field_name, message))

    @property
    def truncated(self) -> bool:
        return self.total > len(self.issues)


class DatasetError(ValueError):
    """A dataset could not be used; ``issues`` says every reason (up to the reporting cap)."""

    def __init__(self, issues: list[DatasetIssue], total: int | None = None) -> None:
        self.issues = issues
        self.total = len(issues) if total is None else total
        super().__init__(self._summary())

    @classmethod
    def from_log(cls, log: IssueLog) -> DatasetError:
        return cls(list(log.issues), log.total)

    def _summary(self) -> str:
        lines = [str(issue) for issue in self.issues]
        hidden = self.total - len(self.issues)
        if hidden > 0:
            lines.append(f"... and {hidden} more problems")
        return "\n".join(lines) or "invalid dataset"
