"""Quality reports of stored files: made at upload, kept beside the file's bytes as
``<file>.report.json`` (no database column), and made on first request for older files."""

from __future__ import annotations

import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

from gateway.errors import APIError
from gateway.settings import Settings
from trainer.jobs.tables import FileRow


class FileReports:
    def __init__(self, settings: Settings, tokenizer: Callable[[], Any]) -> None:
        self.settings = settings
        self.tokenizer = tokenizer
        self._lock = threading.Lock()  # one report made at a time: they are CPU-heavy

    def build(self, row: FileRow) -> dict[str, Any]:
        """Make the file's report, store it beside the file and answer it as an object."""
        from trainer.datasets.quality import build_report, save_report

        with self._lock:
            report = build_report(
                row.path,
                self.tokenizer(),
                max_model_len=self.settings.engine.max_model_len,
                name=row.filename,
            )
            save_report(row.path, report)
        return report_object(row, report.as_dict())

    def get(self, row: FileRow) -> dict[str, Any]:
        """The stored report, or a new one when there is none yet."""
        from trainer.datasets.quality import load_report

        if not Path(row.path).is_file():
            raise APIError(
                404, f"The file {row.id} has no content any more.", code="file_not_found"
            )
        stored = load_report(row.path)
        if stored is not None:
            return report_object(row, stored.as_dict())
        return self.build(row)

    def forget(self, row: FileRow) -> None:
        from trainer.datasets.quality import report_path

        report_path(row.path).unlink(missing_ok=True)


def report_object(row: FileRow, report: dict[str, Any]) -> dict[str, Any]:
    """The report as the API shows it: named by the file's id and its uploaded name."""
    shown = {key: value for key, value in report.items() if key != "path"}
    return {"object": "file.report", "file_id": row.id, "filename": row.filename} | shown
