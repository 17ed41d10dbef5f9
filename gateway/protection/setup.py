"""Builds the protection parts of one gateway worker and ties them to its metrics."""

from __future__ import annotations

from dataclasses import dataclass

from gateway.fleet.fallbacks import Fallback, build_fallbacks
from gateway.fleet.loader import AdapterLoader
from gateway.fleet.pool import UpstreamPool
from gateway.fleet.routing import CompletionRouter
from gateway.fleet.upstream import Upstream
from gateway.observability.observer import MetricsObserver
from gateway.protection.degradation import DegradationSwitch
from gateway.protection.serving import ProtectionServing
from gateway.protection.switch_store import SwitchStore
from gateway.settings import Settings
from gateway.state.db import StateDatabase


@dataclass
class Protection:
    """The switch (refreshed in the background), the fallbacks, and who uses them."""

    switch: DegradationSwitch
    fallbacks: list[Fallback]
    router: CompletionRouter
    serving: ProtectionServing

    async def start(self) -> None:
        await self.switch.start()

    async def stop(self) -> None:
        await self.switch.stop()


def build_protection(
    settings: Settings,
    pool: UpstreamPool,
    loader: AdapterLoader,
    db: StateDatabase,
    observer: MetricsObserver,
) -> Protection:
    switch = DegradationSwitch(SwitchStore(db), settings.protection.switch_refresh_s)
    fallbacks = build_fallbacks(settings.protection)
    observer.degradation_mode = switch.gauge
    observer.breaker_state = _breaker_gauge
    observer.other_breakers = lambda: [(f.name, f.breaker.gauge) for f in fallbacks]
    return Protection(
        switch=switch,
        fallbacks=fallbacks,
        router=CompletionRouter(settings, pool, loader, fallbacks),
        serving=ProtectionServing(switch, pool, fallbacks),
    )


def _breaker_gauge(upstream: Upstream) -> int:
    return upstream.breaker.gauge
