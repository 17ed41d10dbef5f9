"""The upstream side of one gateway worker, built and started together: the pool of engines,
the adapter loader, the engine-state poller and (when configured) DNS discovery."""

from __future__ import annotations

from dataclasses import dataclass

from gateway.fleet.discovery import DnsDiscovery
from gateway.fleet.engine_state import EngineStatePoller
from gateway.fleet.loader import AdapterLoader, LoadHook
from gateway.fleet.pool import DecisionHook, UpstreamPool
from gateway.settings import Settings


@dataclass
class Fleet:
    pool: UpstreamPool
    loader: AdapterLoader
    poller: EngineStatePoller
    discovery: DnsDiscovery | None

    @classmethod
    def build(cls, settings: Settings, on_load: LoadHook, on_decision: DecisionHook) -> Fleet:
        pool = UpstreamPool(settings, on_decision=on_decision)
        poller = EngineStatePoller(
            pool, settings.routing.poll_interval_s, settings.engine_state_dir
        )
        discovery = None
        if settings.discovery.dns is not None:
            discovery = DnsDiscovery(pool, settings.discovery)
        return cls(pool, AdapterLoader(pool, on_load=on_load), poller, discovery)

    async def start(self) -> None:
        await self.pool.start()
        if self.discovery is not None:
            await self.discovery.start()
        self.poller.start()

    async def stop(self) -> None:
        await self.poller.stop()
        if self.discovery is not None:
            await self.discovery.stop()
        await self.pool.stop()
