"""Engines seen from outside: /v1/status shows each engine's load (no adapter names, no URL);
/admin/engines adds the adapters on it and its breaker."""

from __future__ import annotations

from collections.abc import Callable

from gateway.settings import Settings
from tests.gateway.protection.conftest import Gateway, chat
from tests.gateway.protection.fake_upstream import FakeUpstream


async def test_engines_in_status_and_admin_route(
    engine: FakeUpstream,
    publish_adapter: Callable[[Settings], str],
    make_settings: Callable[..., Settings],
    gateway: Gateway,
) -> None:
    settings = make_settings()
    adapter = publish_adapter(settings)
    async with gateway(settings) as (_, client):
        served = await client.post("/v1/chat/completions", json=chat(adapter))
        assert served.status_code == 200, served.text
        status = (await client.get("/v1/status")).json()
        (shown,) = status["engines"]
        assert shown["name"] == engine.public_name
        assert shown["healthy"] is True
        assert shown["adapters_registered"] == 1
        assert shown["in_flight"] == 0
        assert adapter not in str(status)
        assert engine.url not in str(status)

        listed = (await client.get("/admin/engines")).json()["data"]
        assert [e["name"] for e in listed] == [engine.public_name]
        assert listed[0]["registered"] == [adapter]
        assert listed[0]["breaker"] == "closed"
        assert engine.url not in str(listed)
