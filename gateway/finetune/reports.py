"""Quality reports of stored files: made when the file is checked, kept beside its bytes as
``<file>.report.json`` (no database column), and made on first request for older files.
Making one is the child processes' work (``checker``); reading a stored one is cheap."""

from __future__ import annotations

from typing import Any

import anyio

from gateway.errors import APIError
from gateway.finetune.checker import FileChecker, lane_for
from gateway.settings import Settings
from trainer.datasets.intake import make_report
from trainer.datasets.quality.sidecar import load_report, report_path
from trainer.jobs.tables import FileRow


class FileReports:
    def __init__(self, settings: Settings, checker: FileChecker) -> None:
        self.settings = settings
        self.checker = checker

    async def get(self, row: FileRow) -> dict[str, Any]:
        """The stored report, or a new one when there is none yet."""
        if not await anyio.Path(row.path).is_file():
            raise APIError(
                404, f"The file {row.id} has no content any more.", code="file_not_found"
            )
        stored = await anyio.to_thread.run_sync(load_report, row.path)
        if stored is not None:
            return report_object(row, stored.as_dict())
        lane = lane_for(row.bytes, self.settings.finetune.check_at_upload_max_bytes)
        made = await self.checker.answer(
            lane, make_report, row.path,
            self.settings.base_model_path, self.settings.engine.max_model_len, row.filename,
        )  # fmt: skip
        return report_object(row, made)

    def forget(self, row: FileRow) -> None:
        report_path(row.path).unlink(missing_ok=True)


def report_object(row: FileRow, report: dict[str, Any]) -> dict[str, Any]:
    """The report as the API shows it: named by the file's id and its uploaded name."""
    shown = {key: value for key, value in report.items() if key != "path"}
    return {"object": "file.report", "file_id": row.id, "filename": row.filename} | shown
