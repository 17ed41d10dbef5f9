"""One engine as this gateway worker knows it: health, breaker, load, adapters, in flight.

Its public name (status pages, metrics, the ``x-loragate-upstream`` header) never shows a
URL and does not depend on list order: ``engine-<i>`` for the engines ``loragate up``
starts (``i`` is fixed by the engine's port), ``engine-<hash>`` of the URL otherwise, so it
is the same across re-resolution, restarts and every gateway replica.
"""

from __future__ import annotations

import hashlib
import logging
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field

from gateway.fleet.breaker import CircuitBreaker
from gateway.fleet.engine_metrics import EngineMetrics
from gateway.fleet.policy import EngineView

log = logging.getLogger("loragate.upstream")


def hashed_name(url: str) -> str:
    """``engine-`` and 8 hex digits of the URL's hash: stable, and not the URL itself."""
    return "engine-" + hashlib.blake2b(url.encode(), digest_size=4).hexdigest()


@dataclass
class Upstream:
    """One OpenAI-compatible server (a vLLM replica)."""

    url: str
    name: str = "engine-0"
    """Public name; never the URL."""
    breaker: CircuitBreaker = field(default_factory=CircuitBreaker)
    healthy: bool = False
    last_error: str | None = "not probed yet"
    last_change: float = field(default_factory=time.monotonic)
    served_models: list[str] = field(default_factory=list)
    loaded_adapters: set[str] = field(default_factory=set)
    """Adapters registered in the engine (its /v1/models, plus the loads this worker made)."""
    slow_probes: int = 0
    capacity: float = 1.0
    load: EngineMetrics = field(default_factory=EngineMetrics)
    """The engine's own numbers from its /metrics, at most one poll old."""
    load_at: float | None = None
    """When ``load`` was scraped (monotonic seconds of the scraping process)."""
    in_flight: int = 0
    """This worker's requests at the engine now."""
    in_flight_by_adapter: Counter[str] = field(default_factory=Counter)
    on_change: Callable[[], None] = field(default=lambda: None, repr=False)
    """Told when something the routing policy reads changes (set by the pool)."""

    def mark(self, healthy: bool, error: str | None = None) -> None:
        if healthy != self.healthy:
            log.warning("upstream %s is now %s", self.name, "up" if healthy else f"down ({error})")
            self.last_change = time.monotonic()
            self.on_change()
            if not healthy:  # a restarted engine has forgotten every runtime-loaded adapter
                self.loaded_adapters.clear()
            else:
                self.breaker.recovered()
        if not healthy:
            self.breaker.trip()
        self.healthy = healthy
        self.last_error = error

    def set_adapters(self, names: set[str]) -> None:
        """The adapters registered in the engine, as its /v1/models lists them."""
        if names != self.loaded_adapters:
            self.loaded_adapters = names
            self.on_change()

    def add_adapter(self, name: str) -> None:
        self.loaded_adapters.add(name)
        self.on_change()

    def forget_adapter(self, name: str) -> None:
        self.loaded_adapters.discard(name)
        self.on_change()

    def active_adapters(self) -> frozenset[str]:
        """Adapters estimated to sit in its LoRA slots: those the engine's newest LoRA series
        names, and those this worker has requests for there (vLLM says no more)."""
        mine = {name for name, count in self.in_flight_by_adapter.items() if count > 0}
        return self.load.running_adapters | self.load.waiting_adapters | mine

    def view(self, max_loras: int) -> EngineView:
        """What the routing policy reads of it."""
        return EngineView(
            name=self.name,
            healthy=self.healthy,
            capacity=self.capacity,
            running=self.load.running,
            waiting=self.load.waiting,
            kv_cache_usage=self.load.kv_cache_usage,
            registered=frozenset(self.loaded_adapters),
            active_adapters=self.active_adapters(),
            max_loras=self.load.max_lora or max_loras,
            in_flight=self.in_flight,
        )

    def describe(self) -> dict[str, object]:
        return {
            "name": self.name,
            "healthy": self.healthy,
            "error": self.last_error,
            "models": self.served_models,
            "adapters_loaded": len(self.loaded_adapters),
            "since_s": round(time.monotonic() - self.last_change, 1),
        }
