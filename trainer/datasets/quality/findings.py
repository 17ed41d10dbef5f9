"""What a quality report says: findings with a severity and the lines they concern."""

from __future__ import annotations

from collections import Counter
from dataclasses import asdict, dataclass, field
from typing import Any, Literal

Severity = Literal["error", "warning", "info"]
SEVERITIES: tuple[Severity, ...] = ("error", "warning", "info")
MAX_LINES = 20
REPORT_VERSION = 1


@dataclass(frozen=True)
class Finding:
    """One thing found in a dataset: ``lines`` are the first ``MAX_LINES`` of ``count``."""

    code: str
    severity: Severity
    message: str
    lines: list[int]
    count: int
    details: list[str] = field(default_factory=list)

    def __str__(self) -> str:
        where = ", ".join(str(line) for line in self.lines)
        more = f" and {self.count - len(self.lines)} more" if self.count > len(self.lines) else ""
        suffix = f" (lines {where}{more})" if self.lines else ""
        return f"{self.severity}: {self.message}{suffix}"


def finding(
    code: str,
    severity: Severity,
    message: str,
    lines: list[int | None],
    details: list[str] | None = None,
) -> Finding:
    """A finding about ``lines`` (in file order); only the first ``MAX_LINES`` are kept."""
    known = sorted(line for line in lines if line is not None)
    return Finding(
        code, severity, message, known[:MAX_LINES], len(lines), (details or [])[:MAX_LINES]
    )


@dataclass(frozen=True)
class QualityReport:
    """The report of one file: figures (``stats``) and the findings, worst first."""

    path: str
    format: str
    examples: int
    stats: dict[str, Any]
    findings: list[Finding]
    version: int = REPORT_VERSION

    @property
    def counts(self) -> dict[str, int]:
        found = Counter(item.severity for item in self.findings)
        return {severity: found.get(severity, 0) for severity in SEVERITIES}

    def of(self, code: str) -> Finding | None:
        """The finding with this code, if the report has one."""
        return next((item for item in self.findings if item.code == code), None)

    def warnings(self) -> list[Finding]:
        return [item for item in self.findings if item.severity != "info"]

    def as_dict(self) -> dict[str, Any]:
        return {
            "object": "file.report",
            "version": self.version,
            "path": self.path,
            "format": self.format,
            "examples": self.examples,
            "counts": self.counts,
            "stats": self.stats,
            "findings": [asdict(item) for item in self.findings],
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> QualityReport:
        findings = [Finding(**item) for item in data["findings"]]
        return cls(
            data["path"], data["format"], data["examples"], data["stats"], findings,
            data.get("version", 0),
        )  # fmt: skip


def ordered(findings: list[Finding]) -> list[Finding]:
    """Errors first, then warnings, then information; stable within a severity."""
    return sorted(findings, key=lambda item: SEVERITIES.index(item.severity))
