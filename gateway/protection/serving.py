"""The logic behind the degradation admin API and the public status endpoint."""

from __future__ import annotations

from gateway.auth.caller import Caller
from gateway.fleet.fallbacks import Fallback
from gateway.fleet.pool import UpstreamPool
from gateway.protection.degradation import DegradationSwitch
from gateway.protection.protocol import (
    DegradationChange,
    DegradationEntry,
    DegradationView,
    EngineLoad,
    PublicStatus,
)
from gateway.protection.status import public_status

HISTORY_LIMIT = 20


class ProtectionServing:
    """Reads and flips the degradation switch; reports what can serve."""

    def __init__(
        self, switch: DegradationSwitch, pool: UpstreamPool, fallbacks: list[Fallback]
    ) -> None:
        self.switch = switch
        self.pool = pool
        self.fallbacks = fallbacks

    async def change(self, body: DegradationChange, caller: Caller) -> DegradationEntry:
        """Set the mode; this worker obeys at once, the others within ``switch_refresh_s``."""
        setting = await self.switch.change(body.mode, body.reason, actor_of(caller))
        return DegradationEntry.of(setting)

    async def view(self, limit: int = HISTORY_LIMIT) -> DegradationView:
        history = await self.switch.history(limit)
        return DegradationView(
            current=DegradationEntry.of(self.switch.setting),
            history=[DegradationEntry.of(setting) for setting in history],
        )

    def status(self) -> PublicStatus:
        shown = public_status(self.switch.setting, self.pool.upstreams, self.fallbacks)
        max_loras = self.pool.settings.engine.max_loras
        shown.engines = [EngineLoad.of(upstream, max_loras) for upstream in self.pool.upstreams]
        return shown


def actor_of(caller: Caller) -> str:
    """Who made a change: the key's owner (its name), else its id."""
    return caller.owner or caller.key_id
