"""Child processes that do the Files API's heavy work (``trainer.datasets.intake``), so the
processes that serve completions never load the tokenizer stack nor hold a dataset.

Two lanes, one child each: a warm one for small uploads and quick reads (it keeps the
tokenizer loaded, so a small upload answers at once), and one for large files, started
for each call and gone after it, so the memory a 100 MB file took is given back. A child
that dies (killed, out of memory) fails only its own call; the next call starts a new one.
"""

from __future__ import annotations

import asyncio
import logging
import multiprocessing
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from typing import Any, Literal, TypeVar

from gateway.errors import APIError
from trainer.datasets.intake import name_this_process

log = logging.getLogger("loragate.files")
T = TypeVar("T")
Lane = Literal["small", "large"]


_SHARED: FileChecker | None = None


def lane_for(size: int, small_up_to: int) -> Lane:
    """The lane for reading a stored file of ``size`` bytes."""
    return "small" if size <= small_up_to else "large"


class CheckerStopped(Exception):
    """The child process died during the call."""


class FileChecker:
    def __init__(self) -> None:
        self._pools: dict[Lane, ProcessPoolExecutor] = {}

    @classmethod
    def shared(cls) -> FileChecker:
        """The checker of this process: every app made in it (tests make many) shares its
        warm child; its pools end with the process."""
        global _SHARED
        if _SHARED is None:
            _SHARED = cls()
        return _SHARED

    def _pool(self, lane: Lane) -> ProcessPoolExecutor:
        pool = self._pools.get(lane)
        if pool is None:
            context = multiprocessing.get_context("spawn")  # nothing of the gateway's state
            once = 1 if lane == "large" else None
            pool = ProcessPoolExecutor(
                1, mp_context=context, initializer=name_this_process, max_tasks_per_child=once
            )
            self._pools[lane] = pool
        return pool

    async def run(self, lane: Lane, work: Callable[..., T], *args: Any) -> T:
        """``work(*args)`` in the lane's child; ``CheckerStopped`` if the child died."""
        pool = self._pool(lane)
        try:
            return await asyncio.get_running_loop().run_in_executor(pool, work, *args)
        except BrokenProcessPool as exc:
            if self._pools.get(lane) is pool:
                del self._pools[lane]
                pool.shutdown(wait=False, cancel_futures=True)
            log.error("the %s file checker process stopped: %s", lane, exc)
            raise CheckerStopped(str(exc)) from exc

    async def answer(self, lane: Lane, work: Callable[..., T], *args: Any) -> T:
        """Like ``run``, for a request waiting on the answer: a dead child is a 503."""
        try:
            return await self.run(lane, work, *args)
        except CheckerStopped:
            message = "The process that reads datasets stopped while reading this one; try again."
            raise APIError(
                503, message, code="checker_unavailable", type="server_error",
                headers={"retry-after": "1"},
            ) from None  # fmt: skip

    def close(self) -> None:
        for pool in self._pools.values():
            pool.shutdown(wait=False, cancel_futures=True)
        self._pools.clear()
