"""DNS discovery under test control: engines added, removed, and a name that resolves to
nothing; public names stay the same across re-resolution."""

from __future__ import annotations

from pathlib import Path

from gateway.fleet.discovery import DnsDiscovery, base_url, engine_names
from gateway.fleet.pool import UpstreamPool
from gateway.fleet.upstream import hashed_name
from gateway.settings import Settings


class Resolver:
    def __init__(self) -> None:
        self.addresses: list[str] = []
        self.asked: list[tuple[str, int]] = []

    async def __call__(self, host: str, port: int) -> list[str]:
        self.asked.append((host, port))
        return list(self.addresses)


async def test_members_follow_the_name(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path, discovery={"dns": "vllm.svc.local:9"})
    assert not settings.uses_embedded_engine
    pool = UpstreamPool(settings)
    assert pool.upstreams == []
    resolver = Resolver()

    async def no_ptr(address: str, port: int) -> str | None:
        return None

    discovery = DnsDiscovery(pool, settings.discovery, resolver, no_ptr)
    await pool.start()
    try:
        resolver.addresses = ["127.0.0.5", "127.0.0.6"]
        await discovery.refresh()
        assert resolver.asked[-1] == ("vllm.svc.local", 9)
        urls = [up.url for up in pool.upstreams]
        assert urls == ["http://127.0.0.5:9", "http://127.0.0.6:9"]
        names = {up.url: up.name for up in pool.upstreams}
        assert all(name.startswith("engine-") and "127.0" not in name for name in names.values())
        kept = pool.upstreams[0]
        kept.add_adapter("ft:a")

        resolver.addresses = ["127.0.0.5", "127.0.0.7"]  # one left, one joined
        await discovery.refresh()
        assert [up.url for up in pool.upstreams] == ["http://127.0.0.5:9", "http://127.0.0.7:9"]
        assert pool.upstreams[0] is kept  # its state (adapters, breaker) survives
        assert pool.upstreams[0].name == names["http://127.0.0.5:9"]

        resolver.addresses = []
        await discovery.refresh()
        assert pool.upstreams == []
        assert not pool.any_healthy
        assert pool.ranked("ft:a") == []  # -> 503 engine_unavailable with Retry-After
    finally:
        await pool.stop()


def test_statefulset_pods_are_named_by_their_ptr_records() -> None:
    pods = {
        "http://127.0.0.5:9": "vllm-0.vllm.loragate.svc.cluster.local",
        "http://127.0.0.6:9": "vllm-1.vllm.loragate.svc.cluster.local",
    }
    assert engine_names(dict(pods)) == {
        "http://127.0.0.5:9": "vllm-0",
        "http://127.0.0.6:9": "vllm-1",
    }
    clashing = {"http://127.0.0.5:9": "localhost", "http://127.0.0.6:9": "localhost"}
    assert set(engine_names(dict(clashing)).values()) == {
        hashed_name("http://127.0.0.5:9"),
        hashed_name("http://127.0.0.6:9"),
    }
    some_unnamed: dict[str, str | None] = {
        "http://127.0.0.5:9": "vllm-0.x",
        "http://127.0.0.6:9": None,
    }
    assert engine_names(some_unnamed)["http://127.0.0.5:9"] == hashed_name("http://127.0.0.5:9")


def test_ipv6_addresses_are_bracketed() -> None:
    assert base_url("http", "::1", 8000) == "http://[::1]:8000"
    assert base_url("https", "127.1.2.3", 443) == "https://127.1.2.3:443"
