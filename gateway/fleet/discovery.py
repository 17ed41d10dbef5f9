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
from gateway.fleet.upstream import hashed_name
from gateway.settings import DiscoverySettings

log = logging.getLogger("loragate.discovery")

Resolver = Callable[[str, int], Awaitable[list[str]]]
"""(host, port) -> the addresses the name resolves to now."""
Namer = Callable[[str, int], Awaitable[str | None]]
"""(address, port) -> the address's own DNS name (its PTR record), or None."""


async def resolve_dns(host: str, port: int) -> list[str]:
    """Every address of ``host`` (IPv4 and IPv6), sorted; none when it does not resolve."""
    loop = asyncio.get_running_loop()
    try:
        infos = await loop.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except socket.gaierror:
        return []
    return sorted({str(info[4][0]) for info in infos})


async def reverse_dns(address: str, port: int) -> str | None:
    """The address's PTR name: a StatefulSet pod behind a headless service answers
    ``vllm-0.vllm.<namespace>.svc...``, which stays the same when the pod restarts."""
    loop = asyncio.get_running_loop()
    try:
        host, _ = await loop.getnameinfo((address, port), socket.NI_NAMEREQD)
    except (socket.gaierror, OSError):
        return None
    return str(host)


def engine_names(named: dict[str, str | None]) -> dict[str, str]:
    """URL -> public name: the first label of each PTR name when those are distinct (pods
    of a StatefulSet: ``vllm-0``, ``vllm-1``), else ``engine-<hash>`` of the URL."""
    labels = {url: name.split(".")[0] for url, name in named.items() if name}
    if len(labels) == len(named) and len(set(labels.values())) == len(labels):
        return labels
    return {url: hashed_name(url) for url in named}


def base_url(scheme: str, address: str, port: int) -> str:
    host = f"[{address}]" if ipaddress.ip_address(address).version == 6 else address
    return f"{scheme}://{host}:{port}"


class DnsDiscovery:
    """Keeps the pool's members equal to what a DNS name resolves to."""

    def __init__(
        self,
        pool: UpstreamPool,
        settings: DiscoverySettings,
        resolver: Resolver = resolve_dns,
        namer: Namer = reverse_dns,
    ) -> None:
        assert settings.dns is not None
        host, _, port = settings.dns.rpartition(":")
        if not host or not port.isdigit():
            raise ValueError(f"discovery.dns must be host:port, not {settings.dns!r}")
        self.host, self.port = host, int(port)
        self.pool = pool
        self.settings = settings
        self.resolver = resolver
        self.namer = namer
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
        found = await asyncio.gather(*(self.namer(a, self.port) for a in addresses))
        self.pool.set_members(urls, engine_names(dict(zip(urls, found, strict=True))))
        await self.pool.probe_all()

    async def _run(self) -> None:
        while True:
            await asyncio.sleep(self.settings.interval_s)
            try:
                await self.refresh()
            except Exception as exc:  # keep the members we have; try again
                log.warning("could not resolve %s: %r", self.host, exc)
