"""The console's files under /ui (no key needed, security headers), adapter details for
their owner only, and the admin traffic summary."""

from __future__ import annotations

from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from adapters.record import AdapterRecord, adapter_name
from adapters.registry import AdapterRegistry
from gateway.app import create_app
from gateway.auth.caller import ADMIN, USER
from gateway.auth.keys import KeyStore
from gateway.console import mount
from gateway.observability import recent
from gateway.settings import Settings
from tests.gateway.auth.conftest import bearer


def publish(settings: Settings, work: Path, suffix: str, owner: str) -> str:
    """A registry entry with placeholder files (enough for the catalog, no engine here)."""
    source = work / suffix
    source.mkdir(parents=True)
    (source / "adapter_config.json").write_text('{"r": 8}')
    (source / "adapter_model.safetensors").write_bytes(b"")
    record = AdapterRecord(
        name=adapter_name("loragate-tiny", suffix, f"ftjob-{suffix}"), base_model="loragate-tiny",
        job_id=f"ftjob-{suffix}", owner=owner, rank=8, alpha=16, target_modules=["q_proj"],
    )  # fmt: skip
    return AdapterRegistry(settings.adapters_dir).publish(source, record).name


@pytest.fixture
def built(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    static = tmp_path / "static"
    static.mkdir()
    (static / "index.html").write_text("<!doctype html><title>console</title>")
    (static / "app.js").write_text("console.log('hi')")
    monkeypatch.setattr(mount, "STATIC_DIR", static)
    return static


def test_ui_is_served_without_a_key(settings: Settings, built: Path) -> None:
    settings.console.grafana_url = "http://grafana.example/d/loragate"
    with TestClient(create_app(settings)) as client:
        page = client.get("/ui/")
        assert page.status_code == 200
        assert "<title>console</title>" in page.text
        assert "default-src 'self'" in page.headers["content-security-policy"]
        assert client.get("/ui/app.js").status_code == 200
        assert client.get("/ui", follow_redirects=False).headers["location"] == "/ui/"
        config = client.get("/ui/config.json").json()
        assert config == {"grafana_url": "http://grafana.example/d/loragate"}
        assert client.get("/v1/models").status_code == 401  # the API still needs a key


def test_an_unbuilt_console_says_how_to_build_it(
    settings: Settings, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(mount, "STATIC_DIR", tmp_path / "nothing")
    with TestClient(create_app(settings)) as client:
        page = client.get("/ui/")
        assert page.status_code == 503
        assert "scripts/install.sh" in page.text


def test_adapter_details_are_the_owner_s(
    settings: Settings, keys: KeyStore, client: TestClient, tmp_path: Path
) -> None:
    alices = publish(settings, tmp_path / "src", "alices", "alice")
    bobs = publish(settings, tmp_path / "src", "bobs", "bob")
    alice = bearer(keys.create("alice", USER)[1])
    admin = bearer(keys.create("root", ADMIN)[1])
    listed = client.get("/v1/adapters", headers=alice).json()["data"]
    assert [a["id"] for a in listed] == [alices]
    one = client.get(f"/v1/adapters/{alices}", headers=alice).json()
    assert (one["owner"], one["rank"], one["job_id"], one["base_model"]) == (
        "alice",
        8,
        "ftjob-alices",
        "loragate-tiny",
    )
    assert one["engines"] == []  # registered in no engine yet (there is none here)
    assert client.get(f"/v1/adapters/{bobs}", headers=alice).status_code == 404
    every = {a["id"] for a in client.get("/v1/adapters", headers=admin).json()["data"]}
    assert every == {alices, bobs}


def test_admin_summary_counts_recent_requests(keys: KeyStore, client: TestClient) -> None:
    recent.RECENT.clear()
    recent.remember("chat", "loragate-tiny", "none", "200", 0.05)
    recent.remember("chat", "loragate-tiny", "ft:x", "503", 0.01)
    recent.remember("completions", "loragate-tiny", "none", "interrupted", 0.2)
    admin = bearer(keys.create("root", ADMIN)[1])
    user = bearer(keys.create("alice", USER)[1])
    body = client.get("/admin/summary?window_s=60", headers=admin).json()
    assert (body["requests"], body["errors"]) == (3, 2)
    assert body["by_status"] == {"200": 1, "503": 1, "interrupted": 1}
    assert body["by_model"] == {"loragate-tiny": 2, "ft:x": 1}
    assert [e["status"] for e in body["recent_errors"]] == ["interrupted", "503"]
    assert body["p50_seconds"] == 0.05
    assert client.get("/admin/summary", headers=user).status_code == 403
