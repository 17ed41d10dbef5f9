"""Settlements sent to Redis in batches: slots given back and tokens settled, every
``FLUSH_EVERY_S``, in one call for every request that ended meanwhile.

Settling is not on any request's path, but each Redis call costs the gateway's CPU about as
much as a small request; batched, it costs a fraction of that per request. The price is
that a slot comes back (and a token count is right) up to ``FLUSH_EVERY_S`` later.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable

from gateway.ratelimit.counters import Hit, RedisCounters

log = logging.getLogger("loragate.ratelimit")

FLUSH_EVERY_S = 0.01


class BatchedSettler:
    """Collects settlements; one task sends them together."""

    def __init__(
        self,
        counters: RedisCounters,
        slots_key: str,
        on_flushed: Callable[[], None],
        on_error: Callable[[str, BaseException], None],
    ) -> None:
        self.counters = counters
        self.slots_key = slots_key
        self.on_flushed = on_flushed
        self.on_error = on_error
        self._leases: list[str] = []
        self._changes: list[tuple[Hit, int]] = []
        self._pending = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    def add(self, lease: str | None, changes: list[tuple[Hit, int]]) -> None:
        if lease is not None:
            self._leases.append(lease)
        self._changes.extend(changes)
        self._pending.set()
        if self._task is None or self._task.done():
            self._task = asyncio.get_running_loop().create_task(self._run(), name="settler")

    async def _run(self) -> None:
        while True:
            await self._pending.wait()
            await asyncio.sleep(FLUSH_EVERY_S)
            await self.flush()

    async def flush(self) -> None:
        """Send what is pending now, in one call."""
        self._pending.clear()
        leases, self._leases = self._leases, []
        changes, self._changes = self._changes, []
        if not leases and not changes:
            return
        try:
            await self.counters.settle_many(self.slots_key, leases, changes)
        except Exception as exc:  # leases expire by themselves; counts stay approximate
            self.on_error("could not settle finished requests", exc)
        if leases:
            self.on_flushed()

    async def close(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        await self.flush()
