"""What the console shows of a stored dataset: its first examples, normalised to chats, and
its token-length statistics. Both are read by the file checker's child process (the
gateway never holds a dataset nor a tokenizer); files never change once stored, so the
answers are cached here."""

from __future__ import annotations

from collections import OrderedDict
from typing import Any

from gateway.auth.caller import Caller
from gateway.finetune.checker import Lane, lane_for
from gateway.finetune.files import FileServing
from trainer.datasets.intake import file_preview, file_stats
from trainer.jobs.tables import FileRow

CACHED_FILES = 32
PREVIEW_MAX = 100
"""The most examples a preview shows (the route's limit): read once, cut per request."""


class FileInsights:
    """``GET /v1/files/{id}/preview`` and ``/stats``, for the file's owner (and admins)."""

    def __init__(self, files: FileServing) -> None:
        self.files = files
        self._previews: OrderedDict[str, tuple[int, list[dict[str, Any]]]] = OrderedDict()
        self._stats: OrderedDict[str, dict[str, Any]] = OrderedDict()

    async def preview(self, file_id: str, limit: int, caller: Caller) -> dict[str, Any]:
        row = self.files.processed_row(file_id, caller)
        total, first = self._previews.get(row.id) or await self._read_preview(row)
        return {
            "object": "file.preview",
            "id": row.id,
            "format": row.format,
            "total_examples": total,
            "data": first[:limit],
        }

    async def stats(self, file_id: str, caller: Caller) -> dict[str, Any]:
        row = self.files.processed_row(file_id, caller)
        cached = self._stats.get(row.id)
        if cached is None:
            cached = {"object": "file.stats", "id": row.id} | await self.files.checker.answer(
                self._lane(row), file_stats, row.path, row.format, self._tokenizer_path()
            )
            _keep(self._stats, row.id, cached)
        return cached

    async def _read_preview(self, row: FileRow) -> tuple[int, list[dict[str, Any]]]:
        read = await self.files.checker.answer(
            self._lane(row), file_preview, row.path, row.format, PREVIEW_MAX
        )
        _keep(self._previews, row.id, read)
        return read

    def _lane(self, row: FileRow) -> Lane:
        return lane_for(row.bytes, self.files.settings.finetune.check_at_upload_max_bytes)

    def _tokenizer_path(self) -> str:
        return self.files.settings.base_model_path


def _keep(cache: OrderedDict[str, Any], key: str, value: Any) -> None:
    cache[key] = value
    while len(cache) > CACHED_FILES:
        cache.popitem(last=False)
