"""The Files API's logic: store an uploaded dataset only if it is a usable one.

An upload is streamed to a staging file (refused past ``max_file_bytes``), then checked by
a child process (``checker``): validated with the base model's own tokenizer when it is at
hand (token counts, over-long conversations), and given its quality report. A small file
(``check_at_upload_max_bytes``) is checked before the answer and kept only when every line
is usable, else the client gets a 400 that lists each problem with its line. A larger one
is answered as soon as its bytes are stored (status ``uploaded``) and checked in the
background (``background_checks``): it becomes ``processed`` or ``error``.
"""

from __future__ import annotations

import dataclasses
import logging
import os
import time
from pathlib import Path
from typing import Any, BinaryIO

import anyio
from fastapi import UploadFile

from gateway.api.fields import bad_filename
from gateway.auth.caller import Caller
from gateway.errors import APIError
from gateway.finetune.background_checks import BackgroundChecks, save_mapping
from gateway.finetune.checker import FileChecker
from gateway.finetune.csv_upload import mapping_problem
from gateway.finetune.objects import DeletedFile, FileList, FileObject
from gateway.finetune.render import file_object, list_object
from gateway.finetune.reports import FileReports
from gateway.settings import Settings
from trainer.datasets.intake import CsvMapping, check_upload
from trainer.jobs.states import PROCESSED, UPLOADED, new_id
from trainer.jobs.store import Store, now
from trainer.jobs.tables import FileRow

log = logging.getLogger("loragate.files")

FINE_TUNE = "fine-tune"
CHUNK_BYTES = 1024 * 1024


def file_not_found(file_id: str, param: str | None = None) -> APIError:
    return APIError(404, f"No such file: '{file_id}'.", param=param, code="file_not_found")


class FileServing:
    """Uploaded datasets; each belongs to the user whose key uploaded it, and only that
    user (and admins) see it: another user's file is answered as an unknown one."""

    def __init__(
        self, settings: Settings, store: Store, checker: FileChecker | None = None
    ) -> None:
        self.settings = settings
        self.store = store
        self.files_dir = settings.data_dir / "files"
        self.checker = checker or FileChecker.shared()
        self.background = BackgroundChecks(settings, store, self.checker)
        self.reports = FileReports(settings, self.checker)

    def start(self) -> None:
        self.background.start()

    async def stop(self) -> None:
        await self.background.stop()

    async def upload(
        self, upload: UploadFile, purpose: str, caller: Caller, csv: CsvMapping | None = None
    ) -> FileObject:
        if purpose != FINE_TUNE:
            message = f"purpose must be '{FINE_TUNE}' (the only purpose loragate stores files for)"
            raise APIError(400, message, param="purpose", code="invalid_value")
        filename = Path(upload.filename or "upload.jsonl").name
        if problem := bad_filename(filename):
            raise APIError(400, f"file: {problem}", param="file", code="invalid_value")
        suffix = Path(filename).suffix.lower() or ".jsonl"
        if refusal := mapping_problem(suffix, csv):
            raise refusal
        file_id = new_id("file")
        staged = self.files_dir / f".upload-{file_id}{suffix}"
        size = await anyio.to_thread.run_sync(self._receive, upload.file, staged)
        row = FileRow(
            id=file_id, filename=filename, purpose=FINE_TUNE, bytes=size, created_at=now(),
            path=str(staged), status=UPLOADED, owner=caller.owner,
        )  # fmt: skip
        if size > self.settings.finetune.check_at_upload_max_bytes:
            await anyio.to_thread.run_sync(self._keep_for_later, row, csv)
            self.background.check_later(row, csv)
            return file_object(row)
        try:
            return await self._check_now(row, csv)
        finally:
            staged.unlink(missing_ok=True)

    def _receive(self, source: BinaryIO, staged: Path) -> int:
        """Copy the upload to ``staged``; 413 past the limit, 400 when empty."""
        self.files_dir.mkdir(parents=True, exist_ok=True)
        limit = self.settings.finetune.max_file_bytes
        size = 0
        try:
            with open(staged, "wb") as out:
                while chunk := source.read(CHUNK_BYTES):
                    size += len(chunk)
                    if size > limit:
                        message = f"The file is larger than the limit of {limit} bytes."
                        raise APIError(413, message, param="file", code="file_too_large")
                    out.write(chunk)
                out.flush()
                os.fsync(out.fileno())
            if size == 0:
                raise APIError(400, "The file is empty.", param="file", code="invalid_file")
        except BaseException:
            staged.unlink(missing_ok=True)
            raise
        return size

    async def _check_now(self, row: FileRow, csv: CsvMapping | None) -> FileObject:
        intake = dataclasses.replace(self.background.intake_of(row, csv), report=True)
        result = await self.checker.answer("small", check_upload, intake)
        if not result.ok:
            await anyio.Path(result.path).unlink(missing_ok=True)  # a CSV's converted JSONL
            raise APIError(400, result.problems or "", param="file", code="invalid_file")
        row.path, row.status, row.format = result.path, PROCESSED, result.format
        row.examples, row.tokens = result.examples, result.tokens
        await anyio.to_thread.run_sync(self.store.files.add, row)
        return file_object(row)

    def _keep_for_later(self, row: FileRow, csv: CsvMapping | None) -> None:
        """Store the row as ``uploaded``, claimed by this process (which checks it next)."""
        save_mapping(Path(row.path), csv)
        row.checker, row.checked_at = self.background.name, time.time()
        self.store.files.add(row)

    def list(self, purpose: str | None, after: str | None, limit: int, caller: Caller) -> FileList:
        page = self.store.files.page(purpose, after, limit, caller.owner_filter)
        return list_object(FileList, page.rows, page.has_more, file_object)

    def row(self, file_id: str, caller: Caller) -> FileRow:
        """The file, if ``caller`` may see it; 404 otherwise."""
        row = self.store.files.get(file_id)
        if row is None or not caller.may_see(row.owner):
            raise file_not_found(file_id)
        return row

    def get(self, file_id: str, caller: Caller) -> FileObject:
        return file_object(self.row(file_id, caller))

    async def report(self, file_id: str, caller: Caller) -> dict[str, Any]:
        """The file's quality report (made now for files stored before reports existed)."""
        return await self.reports.get(self.processed_row(file_id, caller))

    def processed_row(self, file_id: str, caller: Caller) -> FileRow:
        """The file, if ``caller`` may see it and it was checked and found usable."""
        row = self.row(file_id, caller)
        if row.status == UPLOADED:
            message = f"The file {file_id} is still being checked; try again when it is processed."
            raise APIError(409, message, code="file_not_processed")
        if row.status != PROCESSED:
            message = f"The file {file_id} is not usable; its status_details say why."
            raise APIError(409, message, code="file_not_processed")
        return row

    def delete(self, file_id: str, caller: Caller) -> DeletedFile:
        row = self.row(file_id, caller)
        users = self.store.jobs.using_file(file_id)
        if users:
            message = f"The file {file_id} is used by unfinished jobs: {', '.join(users)}."
            raise APIError(409, message, code="file_in_use")
        self.store.files.delete(file_id)
        Path(row.path).unlink(missing_ok=True)
        self.reports.forget(row)
        return DeletedFile(id=file_id, deleted=True)
