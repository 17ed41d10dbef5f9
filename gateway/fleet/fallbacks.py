"""The configured fallback upstreams: OpenAI-compatible endpoints tried after the engines.

Each has a public name (``fallback-0``, ``fallback-1``, ... in configured order; its URL and
key never appear in status pages or metrics) and its own circuit breaker. They are not
health-checked (many hosted APIs have no health route): a fallback counts as healthy while
its breaker is not open.
"""

from __future__ import annotations

from dataclasses import dataclass

from gateway.fleet.breaker import BreakerState, CircuitBreaker
from gateway.settings import FallbackUpstream, ProtectionSettings


@dataclass
class Fallback:
    """One fallback upstream at run time."""

    name: str
    url: str
    """Base URL without a trailing /v1 (request paths start with /v1)."""
    api_key: str | None
    model: str | None
    """The model to ask it for; None: the name the client asked for."""
    breaker: CircuitBreaker

    @property
    def healthy(self) -> bool:
        return self.breaker.state is not BreakerState.OPEN

    def can_serve(self, adapter: bool) -> bool:
        """Whether it may take a request; one naming an adapter needs a configured model
        (a fallback cannot have our adapters, and would answer 404 for their names)."""
        return self.model is not None or not adapter

    def headers(self, request_id: str) -> dict[str, str]:
        headers = {"content-type": "application/json", "x-request-id": request_id}
        if self.api_key:
            headers["authorization"] = f"Bearer {self.api_key}"
        return headers


def build_fallbacks(settings: ProtectionSettings) -> list[Fallback]:
    return [_fallback(i, config, settings) for i, config in enumerate(settings.fallbacks)]


def _fallback(index: int, config: FallbackUpstream, settings: ProtectionSettings) -> Fallback:
    url = config.url.rstrip("/")
    if url.endswith("/v1"):
        url = url[: -len("/v1")]
    return Fallback(
        name=f"fallback-{index}",
        url=url,
        api_key=config.api_key,
        model=config.model,
        breaker=CircuitBreaker(settings.breaker_failures, settings.breaker_open_s),
    )
