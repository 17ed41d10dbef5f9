"""Each degradation mode does what it says, set through the admin API (who, when, why kept),
and the public status tells a front end what to do."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import httpx

from gateway.auth.caller import ADMIN, USER
from gateway.auth.keys import open_key_store
from gateway.settings import Settings
from tests.gateway.protection.conftest import BASE, Gateway, chat
from tests.gateway.protection.fake_upstream import FakeUpstream

UPSTREAM = "x-loragate-upstream"
DEGRADED = "x-loragate-degraded"


async def set_mode(client: httpx.AsyncClient, mode: str, reason: str = "") -> httpx.Response:
    return await client.put("/admin/degradation", json={"mode": mode, "reason": reason})


async def test_every_mode_through_the_admin_api(
    engine: FakeUpstream,
    backup: FakeUpstream,
    make_settings: Callable[..., Settings],
    gateway: Gateway,
    publish_adapter: Callable[[Settings], str],
) -> None:
    settings = make_settings()
    adapter = publish_adapter(settings)
    async with gateway(settings) as (_, client):
        changed = await set_mode(client, "base-only", "adapters misbehave")
        assert changed.status_code == 200, changed.text
        assert changed.json()["mode"] == "base-only"
        assert changed.json()["actor"] == "anonymous"  # auth is off in this gateway
        response = await client.post("/v1/chat/completions", json=chat(adapter))
        assert response.status_code == 200
        assert response.headers[DEGRADED] == "base-only"
        assert engine.seen[-1].model == BASE
        plain = await client.post("/v1/chat/completions", json=chat())
        assert DEGRADED not in plain.headers
        assert (await client.get("/v1/status")).json()["status"] == "degraded"

        await set_mode(client, "maintenance", "Upgrading the model servers until 14:00 UTC.")
        asked = len(engine.seen)
        for body in (chat(), chat(adapter), chat(stream=True)):
            response = await client.post("/v1/chat/completions", json=body)
            assert response.status_code == 503
            error = response.json()["error"]
            assert error["code"] == "maintenance"
            assert error["message"] == "Upgrading the model servers until 14:00 UTC."
            assert int(response.headers["retry-after"]) > 0
        assert len(engine.seen) == asked
        shown = (await client.get("/v1/status")).json()
        assert (shown["status"], shown["assistant"], shown["mode"]) == (
            "maintenance",
            "hide",
            "maintenance",
        )
        assert shown["message"] == "Upgrading the model servers until 14:00 UTC."
        assert shown["since"].endswith("+00:00")

        await set_mode(client, "fallback", "engine upgrade")
        for body in (chat(), chat(adapter), chat(stream=True)):
            response = await client.post("/v1/chat/completions", json=body)
            assert response.status_code == 200
            assert response.headers[UPSTREAM] == "fallback-0"
        assert len(engine.seen) == asked
        assert (await client.get("/v1/status")).json()["status"] == "degraded"

        await set_mode(client, "normal")
        response = await client.post("/v1/chat/completions", json=chat())
        assert response.headers[UPSTREAM] == engine.public_name
        assert (await client.get("/v1/status")).json()["status"] == "ok"

        view = (await client.get("/admin/degradation")).json()
        assert view["current"]["mode"] == "normal"
        modes = [entry["mode"] for entry in view["history"]]
        assert modes == ["normal", "fallback", "maintenance", "base-only"]
        assert view["history"][2]["reason"].startswith("Upgrading")
        assert (await client.get("/admin/degradation?limit=1")).json()["history"][0]["mode"] == (
            "normal"
        )


async def test_fallback_mode_without_fallbacks_refuses_with_retry_after(
    engine: FakeUpstream, make_settings: Callable[..., Settings], gateway: Gateway
) -> None:
    async with gateway(make_settings(fallbacks=False)) as (_, client):
        await set_mode(client, "fallback", "engine upgrade")
        response = await client.post("/v1/chat/completions", json=chat())
        assert response.status_code == 503
        assert response.json()["error"]["code"] == "engine_unavailable"
        assert response.headers["retry-after"] == "2"
        assert engine.seen == []
        shown = (await client.get("/v1/status")).json()
        assert (shown["status"], shown["assistant"]) == ("unavailable", "pause")


async def test_bad_changes_are_refused_in_the_openai_format(
    make_settings: Callable[..., Settings], gateway: Gateway
) -> None:
    async with gateway(make_settings()) as (_, client):
        for body in (
            {"mode": "panic", "reason": "x"},
            {"mode": "maintenance"},
            {"mode": "maintenance", "reason": "   "},
            {"reason": "no mode"},
            {"mode": "maintenance", "reason": "nul\u0000byte"},
        ):
            response = await client.put("/admin/degradation", json=body)
            assert response.status_code == 400, body
            error = response.json()["error"]
            assert error["code"] == "invalid_value"
            assert error["message"]
        assert (await client.get("/admin/degradation")).json()["history"] == []


async def test_admin_only_and_status_public(
    tmp_path: Path, engine: FakeUpstream, gateway: Gateway
) -> None:
    settings = Settings(data_dir=tmp_path / "auth", upstreams=[engine.url], served_model_name=BASE)
    store = open_key_store(settings)
    admin = {"Authorization": f"Bearer {store.create('ops', ADMIN)[1]}"}
    user = {"Authorization": f"Bearer {store.create('team-a', USER)[1]}"}
    store.close()
    body = {"mode": "base-only", "reason": "test"}
    async with gateway(settings) as (_, client):
        assert (await client.put("/admin/degradation", json=body)).status_code == 401
        refused = await client.put("/admin/degradation", json=body, headers=user)
        assert refused.status_code == 403
        assert (await client.get("/admin/degradation", headers=user)).status_code == 403
        accepted = await client.put("/admin/degradation", json=body, headers=admin)
        assert accepted.status_code == 200
        assert accepted.json()["actor"] == "ops"
        shown = await client.get("/v1/status")  # no key needed
        assert shown.status_code == 200
        assert shown.json()["mode"] == "base-only"
