"""The degradation switch as each gateway worker sees it.

The setting lives in the database (:mod:`gateway.protection.switch_store`); every worker
keeps a copy that completion requests read for free, refreshed every ``refresh_s`` by a
background task, so all workers and replicas obey a change within about a second. The
worker that makes a change applies it at once.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging

import anyio.to_thread

from gateway.errors import service_unavailable
from gateway.protection.modes import MODE_GAUGE, NEVER_CHANGED, Mode, SwitchSetting
from gateway.protection.switch_store import SwitchStore

log = logging.getLogger("loragate.degradation")


class DegradationSwitch:
    """The setting in force in this worker, kept current from the database."""

    def __init__(self, store: SwitchStore, refresh_s: float) -> None:
        self.store = store
        self.refresh_s = refresh_s
        self.setting: SwitchSetting = NEVER_CHANGED
        self._task: asyncio.Task[None] | None = None

    @property
    def mode(self) -> Mode:
        return self.setting.mode

    def refuse_in_maintenance(self, retry_after_s: int) -> None:
        """503 with the operator's message while the switch says maintenance."""
        setting = self.setting
        if setting.mode is Mode.MAINTENANCE:
            message = setting.reason or "The service is down for maintenance."
            raise service_unavailable(message, "maintenance", retry_after_s)

    def gauge(self) -> int:
        """The ``loragate_degradation_mode`` value of the mode in force."""
        return MODE_GAUGE[self.setting.mode]

    async def start(self) -> None:
        try:
            await self.refresh()
        except Exception as exc:  # serve (normal) rather than fail to start
            log.error("could not read the degradation switch: %r", exc)
        self._task = asyncio.create_task(self._refresh_forever(), name="degradation-refresh")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task

    async def refresh(self) -> None:
        self._apply(await anyio.to_thread.run_sync(self.store.current))

    async def change(self, mode: Mode, reason: str, actor: str) -> SwitchSetting:
        """Record a change and obey it in this worker at once."""
        setting = await anyio.to_thread.run_sync(self.store.change, mode, reason, actor)
        self._apply(setting)
        return setting

    async def history(self, limit: int) -> list[SwitchSetting]:
        return await anyio.to_thread.run_sync(self.store.history, limit)

    def _apply(self, setting: SwitchSetting) -> None:
        # A read that started before a change in this worker may finish after it.
        if setting.seq < self.setting.seq:
            return
        if setting.seq != self.setting.seq:
            log.info("degradation mode now %s (%s)", setting.mode.value, setting.reason)
        self.setting = setting

    async def _refresh_forever(self) -> None:
        while True:
            await asyncio.sleep(self.refresh_s)
            try:
                await self.refresh()
            except Exception as exc:  # keep the last known setting; try again
                log.warning("could not refresh the degradation switch: %r", exc)
