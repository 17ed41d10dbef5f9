"""The upstream engines the gateway forwards to, which of them are healthy, and which one
a request should go to.

Health is known two ways: a probe of ``GET /health`` every ``health_interval_s`` (active),
and any failed connection during a request (passive, so the next request fails fast with
503 instead of waiting on a dead engine). Load and adapters come from each engine's
``/metrics`` and ``/v1/models`` (:mod:`gateway.fleet.engine_state`); the choice is
:func:`gateway.fleet.policy.choose`. Membership may change at run time (DNS discovery).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable

import aiohttp

from gateway.fleet.breaker import CircuitBreaker
from gateway.fleet.policy import Decision, EngineView, RoutingPolicy, choose
from gateway.fleet.upstream import Upstream, hashed_name
from gateway.settings import Settings

DecisionHook = Callable[[str], None]
"""Called with each routing decision's kind (base, affinity, spill, cold)."""


def _no_hook(kind: str) -> None:
    return None


log = logging.getLogger("loragate.upstream")

# Well below the engines' own idle timeout (vLLM's default is 5 s; aiohttp sweeps idle
# connections only every IDLE_KEEPALIVE_S, so one may idle up to twice this), so the gateway
# drops an idle connection before the engine does and rarely reuses a dead one.
IDLE_KEEPALIVE_S = 1.5
STALE_CONNECTION_RETRIES = 3
# A busy engine may answer /health late; it is taken out only after this many slow probes
# in a row. A refused connection (nothing listening) takes it out at once.
SLOW_PROBES_BEFORE_DOWN = 3
PROBE_TIMEOUT_S = 2.0
DOWN_PROBE_S = 0.25
RECHECK_WAIT_S = 0.25
"""Longest a request waits for :meth:`UpstreamPool.recheck` before it is refused."""


class UpstreamPool:
    """Owns the HTTP session to the engines and keeps their health current."""

    def __init__(self, settings: Settings, on_decision: DecisionHook = _no_hook) -> None:
        self.settings = settings
        self.policy = RoutingPolicy.from_settings(settings.routing)
        self.on_decision = on_decision
        self.upstreams: list[Upstream] = []
        self._views: tuple[EngineView, ...] | None = None
        self.set_members(settings.upstream_urls)
        self._session: aiohttp.ClientSession | None = None
        self._probe_task: asyncio.Task[None] | None = None
        self._recheck: asyncio.Future[None] | None = None

    @property
    def session(self) -> aiohttp.ClientSession:
        if self._session is None:
            raise RuntimeError("UpstreamPool.start() was not called")
        return self._session

    async def start(self) -> None:
        connector = aiohttp.TCPConnector(
            limit=0, keepalive_timeout=IDLE_KEEPALIVE_S, enable_cleanup_closed=True
        )
        self._session = aiohttp.ClientSession(
            connector=connector,
            auto_decompress=False,
            skip_auto_headers=("User-Agent", "Accept-Encoding"),
            timeout=aiohttp.ClientTimeout(
                total=self.settings.upstream_timeout_s,
                sock_connect=self.settings.upstream_connect_timeout_s,
            ),
        )
        await self.probe_all()
        self._probe_task = asyncio.create_task(self._probe_forever(), name="upstream-probe")

    async def stop(self) -> None:
        if self._recheck is not None:
            self._recheck.cancel()
        if self._probe_task is not None:
            self._probe_task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._probe_task
        if self._session is not None:
            await self._session.close()

    async def post_to(
        self, base_url: str, path: str, body: bytes, headers: dict[str, str]
    ) -> aiohttp.ClientResponse:
        """POST to any upstream (engines, fallbacks), retrying a dead pooled connection.

        A kept-alive connection the server closed while it idled fails before the server has
        read the request, so sending again is safe.
        """
        for _ in range(STALE_CONNECTION_RETRIES):
            try:
                return await self.session.post(base_url + path, data=body, headers=headers)
            except aiohttp.ServerDisconnectedError:
                log.info("pooled connection to %s was closed; retrying", base_url)
        return await self.session.post(base_url + path, data=body, headers=headers)

    def public_name(self, url: str) -> str:
        """``engine-<i>`` for the engines ``loragate up`` starts, else a hash of the URL."""
        if self.settings.uses_embedded_engine:
            port = int(url.rsplit(":", 1)[1])
            return f"engine-{port - self.settings.engine.port}"
        return hashed_name(url)

    def set_members(self, urls: list[str], names: dict[str, str] | None = None) -> None:
        """Make the engines exactly ``urls``: new ones are added (down until probed), those
        no longer named are dropped; the others keep their state. ``names``: public names
        by URL (discovery's); else :meth:`public_name`."""
        names = names or {}
        known = {upstream.url: upstream for upstream in self.upstreams}
        protection = self.settings.protection
        self.upstreams = [
            known.get(url)
            or Upstream(
                url,
                name=names.get(url) or self.public_name(url),
                breaker=CircuitBreaker(protection.breaker_failures, protection.breaker_open_s),
            )
            for url in dict.fromkeys(urls)
        ]
        for upstream in self.upstreams:
            upstream.on_change = self.changed
        self.changed()

    def changed(self) -> None:
        """Something the policy reads changed (health, load, adapters, members)."""
        self._views = None

    def ranked(self, adapter: str | None = None) -> list[Upstream]:
        """The healthy engines, best first for this request (see :mod:`gateway.fleet.policy`);
        the rest are where a failed request is tried next."""
        decision = self.decide(adapter)
        self.on_decision(decision.kind)
        upstreams = self.upstreams
        return [upstreams[i] for i in decision.order]

    def decide(self, adapter: str | None) -> Decision:
        views = self._views
        if views is None:
            max_loras = self.settings.engine.max_loras
            views = self._views = tuple(up.view(max_loras) for up in self.upstreams)
        in_flight = [upstream.in_flight for upstream in self.upstreams]
        return choose(views, adapter, self.policy, in_flight)

    @property
    def any_healthy(self) -> bool:
        return any(upstream.healthy for upstream in self.upstreams)

    def served_models(self) -> list[str]:
        names: dict[str, None] = {}
        for upstream in self.upstreams:
            names.update(dict.fromkeys(upstream.served_models))
        return list(names)

    async def _probe_forever(self) -> None:
        while True:
            # While an engine is down, look again sooner: a worker that started before its
            # engine (or saw it restart) takes traffic again within DOWN_PROBE_S of its return.
            interval = self.settings.health_interval_s
            if not all(upstream.healthy for upstream in self.upstreams):
                interval = min(interval, DOWN_PROBE_S)
            await asyncio.sleep(interval)
            await self.probe_all()

    async def recheck(self) -> None:
        """Probe every engine now, for a request that found none healthy.

        Each worker probes on its own schedule, so right after an engine comes up (``loragate
        up`` reports ready when one worker sees it) another worker may still think it down
        for up to ``DOWN_PROBE_S``. Rather than refuse in that window, the request waits for
        one fresh probe, shared by every request that arrives meanwhile, and for at most
        ``RECHECK_WAIT_S``: an engine that hangs does not hold up the 503.
        """
        if self._recheck is None or self._recheck.done():
            self._recheck = asyncio.ensure_future(self.probe_all())
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(asyncio.shield(self._recheck), RECHECK_WAIT_S)

    async def probe_all(self) -> None:
        await asyncio.gather(*(self._probe(upstream) for upstream in self.upstreams))

    async def _probe(self, upstream: Upstream) -> None:
        timeout = aiohttp.ClientTimeout(total=max(PROBE_TIMEOUT_S, self.settings.health_interval_s))
        try:
            async with self.session.get(f"{upstream.url}/health", timeout=timeout) as resp:
                if resp.status != 200:
                    upstream.mark(False, f"/health answered {resp.status}")
                    return
            if not upstream.healthy or not upstream.served_models:
                base, adapters = await self._fetch_models(upstream, timeout)
                upstream.served_models = base
                upstream.set_adapters(set(adapters))
            upstream.slow_probes = 0
            upstream.mark(True)
        except TimeoutError:
            upstream.slow_probes += 1
            if upstream.slow_probes >= SLOW_PROBES_BEFORE_DOWN or not upstream.healthy:
                upstream.mark(False, f"/health did not answer {upstream.slow_probes} times")
        except (aiohttp.ClientError, ValueError) as exc:
            upstream.mark(False, f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__)

    async def _fetch_models(
        self, upstream: Upstream, limit: aiohttp.ClientTimeout
    ) -> tuple[list[str], list[str]]:
        """(base model names, names of the LoRA adapters loaded) of one engine."""
        async with self.session.get(f"{upstream.url}/v1/models", timeout=limit) as resp:
            resp.raise_for_status()
            payload = await resp.json(content_type=None)
        items = payload.get("data", [])
        base = [str(item["id"]) for item in items if item.get("parent") is None]
        adapters = [str(item["id"]) for item in items if item.get("parent") is not None]
        return base, adapters
