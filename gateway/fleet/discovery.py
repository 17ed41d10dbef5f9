"""Engines found by DNS: every address behind a name (a Kubernetes headless service).

The name is resolved again every ``interval_s``; the pool's members become exactly the
addresses found, so scaling the vLLM StatefulSet adds and removes engines with no gateway
restart (a new engine gets adapters on demand, on their first request there). A name that
resolves to nothing leaves no engine: requests get 503 ``engine_unavailable`` with
``Retry-After``, as when every engine is down. A change is logged once.
"""

from __future__ import annotations

import asyncio
import contextlib
import ipaddress
import logging
import socket
from collections.abc import Awaitable, Callable

from gateway.fleet.pool import UpstreamPool
from gateway.settings import DiscoverySettings

log = logging.getLogger("loragate.discovery")

Resolver = Callable[[str, int], Awaitable[list[str]]]
"""(host, port) -> the addresses the name resolves to now."""


async def resolve_dns(host: str, port: int) -> list[str]:
    """Every address of ``host`` (IPv4 and IPv6), sorted; none when it does not resolve."""
    loop = asyncio.get_running_loop()
    try:
        infos = await loop.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except socket.gaierror:
        return []
    return sorted({str(info[4][0]) for info in infos})


def base_url(scheme: str, address: str, port: int) -> str:
    host = f"[{address}]" if ipaddress.ip_address(address).version == 6 else address
    return f"{scheme}://{host}:{port}"


class DnsDiscovery:
    """Keeps the pool's members equal to what a DNS name resolves to."""

    def __init__(
        self, pool: UpstreamPool, settings: DiscoverySettings, resolver: Resolver = resolve_dns
    ) -> None:
        assert settings.dns is not None
        host, _, port = settings.dns.rpartition(":")
        if not host or not port.isdigit():
            raise ValueError(f"discovery.dns must be host:port, not {settings.dns!r}")
        self.host, self.port = host, int(port)
        self.pool = pool
        self.settings = settings
        self.resolver = resolver
        self._last: list[str] | None = None
        self._task: asyncio.Task[None] | None = None

    async def start(self) -> None:
        await self.refresh()
        self._task = asyncio.create_task(self._run(), name="dns-discovery")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task

    async def refresh(self) -> None:
        addresses = await self.resolver(self.host, self.port)
        urls = [base_url(self.settings.scheme, a, self.port) for a in addresses]
        if urls == self._last:
            return
        if not urls:
            log.warning("%s resolves to no address: no engine", self.host)
        else:
            log.warning("%s resolves to %d engine(s)", self.host, len(urls))
        self._last = urls
        self.pool.set_members(urls)
        await self.pool.probe_all()

    async def _run(self) -> None:
        while True:
            await asyncio.sleep(self.settings.interval_s)
            try:
                await self.refresh()
            except Exception as exc:  # keep the members we have; try again
                log.warning("could not resolve %s: %r", self.host, exc)
