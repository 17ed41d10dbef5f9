"""A file's report kept beside its bytes (``<file>.report.json``): no database column."""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path

from trainer.datasets.quality.findings import REPORT_VERSION, QualityReport

SUFFIX = ".report.json"


def report_path(data_path: str | Path) -> Path:
    data_path = Path(data_path)
    return data_path.with_name(data_path.name + SUFFIX)


def save_report(data_path: str | Path, report: QualityReport) -> Path:
    """Write the report atomically beside the data file."""
    target = report_path(data_path)
    handle, name = tempfile.mkstemp(prefix=".report-", dir=target.parent)
    with os.fdopen(handle, "w", encoding="utf-8") as out:
        json.dump(report.as_dict(), out, ensure_ascii=False)
    Path(name).replace(target)
    return target


def load_report(data_path: str | Path) -> QualityReport | None:
    """The stored report, or None when there is none (or one of an older version)."""
    try:
        data = json.loads(report_path(data_path).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if data.get("version") != REPORT_VERSION:
        return None
    return QualityReport.from_dict(data)
