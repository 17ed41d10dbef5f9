"""The Files API's logic: store an uploaded dataset only if it is a usable one.

An upload is streamed to a staging file (refused past ``max_file_bytes``), validated with
the base model's own tokenizer when it is at hand (token counts, over-long conversations),
and kept only when every line is usable; otherwise the client gets a 400 that lists each
problem with its line.
"""

from __future__ import annotations

import dataclasses
import logging
import os
import tempfile
import threading
from pathlib import Path
from typing import Any, BinaryIO

import anyio
from fastapi import UploadFile

from gateway.api.fields import bad_filename
from gateway.auth.caller import Caller
from gateway.errors import APIError
from gateway.finetune.csv_upload import CsvColumns, csv_to_jsonl
from gateway.finetune.objects import DeletedFile, FileList, FileObject
from gateway.finetune.render import file_object, list_object
from gateway.finetune.reports import FileReports
from gateway.settings import Settings
from trainer.jobs.states import new_id
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

    def __init__(self, settings: Settings, store: Store) -> None:
        self.settings = settings
        self.store = store
        self.files_dir = settings.data_dir / "files"
        self._tokenizer: Any = None
        self._tokenizer_lock = threading.Lock()
        self.reports = FileReports(settings, self.tokenizer)

    async def upload(
        self, upload: UploadFile, purpose: str, caller: Caller, csv: CsvColumns | None = None
    ) -> FileObject:
        if purpose != FINE_TUNE:
            message = f"purpose must be '{FINE_TUNE}' (the only purpose loragate stores files for)"
            raise APIError(400, message, param="purpose", code="invalid_value")
        filename = Path(upload.filename or "upload.jsonl").name
        if problem := bad_filename(filename):
            raise APIError(400, f"file: {problem}", param="file", code="invalid_value")
        row = await anyio.to_thread.run_sync(self._store, upload.file, filename, caller.owner, csv)
        return file_object(row)

    def _store(
        self, source: BinaryIO, filename: str, owner: str | None, csv: CsvColumns | None
    ) -> FileRow:
        self.files_dir.mkdir(parents=True, exist_ok=True)
        handle, name = tempfile.mkstemp(prefix=".upload-", dir=self.files_dir)
        staging = Path(name)
        try:
            with os.fdopen(handle, "wb") as out:
                size = self._copy(source, out)
            return self._validate_and_keep(staging, filename, size, owner, csv)
        finally:
            staging.unlink(missing_ok=True)

    def _copy(self, source: BinaryIO, out: BinaryIO) -> int:
        limit = self.settings.finetune.max_file_bytes
        size = 0
        while chunk := source.read(CHUNK_BYTES):
            size += len(chunk)
            if size > limit:
                message = f"The file is larger than the limit of {limit} bytes."
                raise APIError(413, message, param="file", code="file_too_large")
            out.write(chunk)
        if size == 0:
            raise APIError(400, "The file is empty.", param="file", code="invalid_file")
        return size

    def _validate_and_keep(
        self, staging: Path, filename: str, size: int, owner: str | None, csv: CsvColumns | None
    ) -> FileRow:
        from trainer.datasets import validate_file

        tokenizer = self.tokenizer()
        max_len = self.settings.engine.max_model_len if tokenizer is not None else None
        suffix = Path(filename).suffix.lower() or ".jsonl"
        named = staging.with_name(f"{staging.name}{suffix}")  # the format is read by suffix
        staging.rename(named)
        try:
            if suffix == ".csv":  # stored as the JSONL its column mapping makes
                converted = csv_to_jsonl(named, filename, csv)
                named.unlink()
                named, suffix = converted, ".jsonl"
            report = validate_file(named, tokenizer=tokenizer, max_seq_len=max_len)
            if not report.ok:
                raise APIError(400, _problems(filename, report), param="file", code="invalid_file")
            file_id = new_id("file")
            final = self.files_dir / f"{file_id}{suffix}"
            named.rename(final)
        finally:
            named.unlink(missing_ok=True)
        row = FileRow(
            id=file_id, filename=filename, purpose=FINE_TUNE, bytes=size, created_at=now(),
            path=str(final), status="processed", format=report.format,
            examples=report.examples, tokens=report.tokens, owner=owner,
        )  # fmt: skip
        try:
            if size <= self.settings.finetune.report_at_upload_max_bytes:
                self.reports.build(row)
        except Exception:  # a report never costs an upload; it is made again when asked for
            log.exception("could not make the quality report of %s", file_id)
        return self.store.files.add(row)

    def tokenizer(self) -> Any:
        """The base model's tokenizer when it is on this machine; None otherwise."""
        with self._tokenizer_lock:
            if self._tokenizer is None:  # retried until found: the worker may still make it
                self._tokenizer = _load_tokenizer(self.settings.base_model_path)
            return self._tokenizer

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
        row = self.row(file_id, caller)
        return await anyio.to_thread.run_sync(self.reports.get, row)

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


def _load_tokenizer(path: str) -> Any:
    if not (Path(path) / "tokenizer_config.json").is_file():
        return None
    try:
        from transformers import AutoTokenizer

        return AutoTokenizer.from_pretrained(path)
    except (OSError, ValueError):
        log.warning("could not load the tokenizer of %s; uploads are checked without it", path)
        return None


def _problems(filename: str, report: Any) -> str:
    issues = [str(dataclasses.replace(issue, path=filename)) for issue in report.errors]
    hidden = report.error_count - len(report.errors)
    if hidden > 0:
        issues.append(f"... and {hidden} more problems")
    count = report.error_count
    plural = "problem" if count == 1 else "problems"
    header = f"The file '{filename}' is not a usable fine-tuning dataset ({count} {plural}):"
    return "\n".join([header, *issues])
