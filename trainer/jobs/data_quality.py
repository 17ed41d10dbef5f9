"""A job's data findings, told in its ``validating_files`` events: warnings never block a
job, but the user reading the job should see them before the loss curve does."""

from __future__ import annotations

from typing import Any

from trainer.datasets.quality import QualityReport, build_report, load_report

Event = tuple[str, str, dict[str, Any]]  # message, level, data


def report_for(path: str, tokenizer: Any, max_seq_len: int, name: str) -> QualityReport:
    """The file's stored report when it was made for this ``max_seq_len``, else a new one."""
    stored = load_report(path)
    if stored is not None and stored.stats["lengths"].get("max_seq_len") == max_seq_len:
        return stored
    return build_report(path, tokenizer, max_seq_len=max_seq_len, name=name)


def finding_events(report: QualityReport, param: str, file_id: str) -> list[Event]:
    """One event per error or warning of the report (information stays in the report)."""
    events: list[Event] = []
    for item in report.warnings():
        data = {
            "phase": "validating_files",
            "file": file_id,
            "param": param,
            "code": item.code,
            "severity": item.severity,
            "lines": item.lines,
            "count": item.count,
        }
        events.append((f"Data {item.severity} in {param} {file_id}: {item}", "warn", data))
    return events
