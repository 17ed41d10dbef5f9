"""Large uploads, checked after the answer: a file stored with status ``uploaded`` becomes
``processed`` (with its counts, then its quality report) or ``error`` (with its problems).

The check is claimed in the job store (``files.checker`` / ``checked_at``) and the claim is
refreshed while the child process works, so nothing is lost when a gateway process stops:
every process looks for uploaded files whose claim went stale and takes them over, at start
and every ``SWEEP_S``. Two processes never record the same check (the record is conditional
on holding the claim).
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import secrets
import socket
import time
from collections.abc import Coroutine
from pathlib import Path
from typing import Any

import anyio

from gateway.finetune.checker import CheckerStopped, FileChecker
from gateway.settings import Settings
from trainer.datasets.intake import CsvMapping, Intake, IntakeResult, check_upload, make_report
from trainer.jobs.states import FILE_ERROR, PROCESSED
from trainer.jobs.store import Store
from trainer.jobs.tables import FileRow

log = logging.getLogger("loragate.files")
HEARTBEAT_S = 5.0
STALE_S = 30.0
SWEEP_S = 10.0
MAPPING_SUFFIX = ".columns.json"


def checker_name() -> str:
    """This process, as named in ``files.checker`` (at most 64 characters)."""
    return f"{socket.gethostname()[:40]}-{os.getpid()}-{secrets.token_hex(4)}"


def final_path(files_dir: Path, file_id: str, suffix: str) -> Path:
    """Where a usable file is kept: CSV is kept as the JSONL its mapping makes."""
    return files_dir / f"{file_id}{'.jsonl' if suffix == '.csv' else suffix}"


def save_mapping(staged: Path, mapping: CsvMapping | None) -> None:
    """Keep a large CSV's column mapping beside its bytes, for whoever checks it later."""
    if mapping is not None:
        fields = {"prompt": mapping.prompt, "completion": mapping.completion}
        text = json.dumps(fields | {"system": mapping.system})
        Path(f"{staged}{MAPPING_SUFFIX}").write_text(text, encoding="utf-8")


def _mapping_of(staged: Path) -> CsvMapping | None:
    try:
        fields = json.loads(Path(f"{staged}{MAPPING_SUFFIX}").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return CsvMapping(fields["prompt"], fields["completion"], fields.get("system"))


class BackgroundChecks:
    def __init__(self, settings: Settings, store: Store, checker: FileChecker) -> None:
        self.settings = settings
        self.store = store
        self.checker = checker
        self.name = checker_name()
        self._running: dict[str, asyncio.Task[None]] = {}
        self._sweeper: asyncio.Task[None] | None = None

    def intake_of(self, row: FileRow, mapping: CsvMapping | None = None) -> Intake:
        """What a child needs to check ``row``'s staged bytes (``mapping``: a CSV's, else the
        one kept beside the bytes)."""
        staged = Path(row.path)
        files_dir = staged.parent
        return Intake(
            staged=str(staged),
            final=str(final_path(files_dir, row.id, staged.suffix.lower())),
            filename=row.filename,
            tokenizer_path=self.settings.base_model_path,
            max_model_len=self.settings.engine.max_model_len,
            csv=mapping or _mapping_of(staged),
            report=False,  # made after the status says processed: users need not wait for it
        )

    def start(self) -> None:
        self._sweeper = asyncio.create_task(self._sweep_forever())

    async def stop(self) -> None:
        tasks = [*self._running.values(), *([self._sweeper] if self._sweeper else [])]
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)

    def check_later(self, row: FileRow, mapping: CsvMapping | None) -> None:
        """Check ``row`` (claimed by this process when it was stored) in the background."""
        self._spawn(row.id, self._check(row.id, self.intake_of(row, mapping)))

    def _spawn(self, file_id: str, work: Coroutine[Any, Any, None]) -> None:
        task = asyncio.create_task(work)
        self._running[file_id] = task
        task.add_done_callback(lambda _: self._running.pop(file_id, None))

    async def _sweep_forever(self) -> None:
        while True:
            try:
                await self.sweep()
            except Exception:  # the store may be down for a moment; look again later
                log.exception("could not look for uploaded files to check")
            await asyncio.sleep(SWEEP_S)

    async def sweep(self) -> None:
        """Take over the checks nobody is doing (a process stopped in the middle of one)."""
        stale = time.time() - STALE_S
        for file_id in await anyio.to_thread.run_sync(self.store.files.unchecked, stale):
            if file_id in self._running:
                continue
            if await anyio.to_thread.run_sync(self.store.files.claim, file_id, self.name, stale):
                row = await anyio.to_thread.run_sync(self.store.files.get, file_id)
                if row is not None:
                    log.info("checking %s, which a stopped process left unchecked", file_id)
                    self._spawn(file_id, self._check(file_id, self.intake_of(row)))

    async def _check(self, file_id: str, intake: Intake) -> None:
        work = asyncio.ensure_future(self.checker.run("large", check_upload, intake))
        while not work.done():
            await asyncio.wait({work}, timeout=HEARTBEAT_S)
            if work.done():
                break
            if not await anyio.to_thread.run_sync(
                self.store.files.still_checking, file_id, self.name
            ):
                log.warning("lost the check of %s to another process", file_id)
                return
        try:
            result = work.result()
        except CheckerStopped as exc:
            problems = (
                f"The file '{intake.filename}' could not be read: the process checking it "
                f"stopped ({exc}). Upload it again, or split it into smaller files."
            )
            result = IntakeResult(False, intake.staged, problems=problems)
        except Exception as exc:  # a file that breaks the checker must not be retried forever
            log.exception("checking %s failed", file_id)
            problems = f"The file '{intake.filename}' could not be checked: {exc}"
            result = IntakeResult(False, intake.staged, problems=problems)
        recorded = await anyio.to_thread.run_sync(lambda: self._record(file_id, intake, result))
        if recorded and result.ok:
            await self._report(file_id, result.path, intake.filename)

    def _record(self, file_id: str, intake: Intake, result: IntakeResult) -> bool:
        if result.ok:
            values: dict[str, Any] = {
                "status": PROCESSED, "path": result.path, "format": result.format,
                "examples": result.examples, "tokens": result.tokens,
            }  # fmt: skip
        else:
            values = {"status": FILE_ERROR, "format": result.format, "path": result.path}
            values["status_details"] = result.problems
        done = self.store.files.checked(file_id, self.name, checked_at=time.time(), **values)
        if not done and self.store.files.get(file_id) is None:  # deleted while being checked
            Path(result.path).unlink(missing_ok=True)
        Path(f"{intake.staged}{MAPPING_SUFFIX}").unlink(missing_ok=True)
        log.info("checked %s: %s", file_id, values["status"])
        return done

    async def _report(self, file_id: str, path: str, filename: str) -> None:
        settings = self.settings
        try:
            await self.checker.run(
                "large", make_report, path, settings.base_model_path,
                settings.engine.max_model_len, filename,
            )  # fmt: skip
        except Exception:  # made again when first asked for
            log.exception("could not make the quality report of %s", file_id)
