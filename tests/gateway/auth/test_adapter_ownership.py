"""A user's adapters are listed for, described to and served to that user's keys only."""

from __future__ import annotations

from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from adapters.record import AdapterRecord, adapter_name
from adapters.registry import AdapterRegistry
from gateway.auth.caller import USER
from gateway.auth.keys import KeyStore
from gateway.settings import Settings
from tests.gateway.auth.conftest import bearer

Headers = dict[str, str]


def publish(settings: Settings, work: Path, suffix: str, owner: str | None) -> str:
    """A registry entry with placeholder files (enough for the catalog, no engine here)."""
    source = work / suffix
    source.mkdir(parents=True)
    (source / "adapter_config.json").write_text('{"r": 8}')
    (source / "adapter_model.safetensors").write_bytes(b"")
    record = AdapterRecord(
        name=adapter_name("loragate-tiny", suffix, f"ftjob-{suffix}"), base_model="loragate-tiny",
        owner=owner, rank=8, alpha=16, target_modules=["q_proj"],
    )  # fmt: skip
    return AdapterRegistry(settings.adapters_dir).publish(source, record).name


@pytest.fixture
def adapters(settings: Settings, tmp_path: Path) -> dict[str, str]:
    return {
        owner or "nobody": publish(settings, tmp_path / "src", owner or "legacy", owner)
        for owner in ("alice", "bob", None)
    }


def model_ids(client: TestClient, headers: Headers) -> list[str]:
    response = client.get("/v1/models", headers=headers)
    assert response.status_code == 200, response.text
    return [model["id"] for model in response.json()["data"]]


def chat(client: TestClient, headers: Headers, model: str) -> tuple[int, str | None]:
    body = {"model": model, "messages": [{"role": "user", "content": "hi"}], "max_tokens": 1}
    response = client.post("/v1/chat/completions", json=body, headers=headers)
    return response.status_code, response.json()["error"]["code"]


def test_listing_shows_base_models_and_one_s_own_adapters(
    client: TestClient, keys: KeyStore, admin: Headers, adapters: dict[str, str]
) -> None:
    alice = bearer(keys.create("alice", USER)[1])
    assert model_ids(client, alice) == ["loragate-tiny", adapters["alice"]]
    assert model_ids(client, admin) == ["loragate-tiny", *adapters.values()]


def test_another_user_s_adapter_is_not_found_anywhere(
    client: TestClient, keys: KeyStore, adapters: dict[str, str]
) -> None:
    alice = bearer(keys.create("alice", USER)[1])
    bob = bearer(keys.create("bob", USER)[1])
    theirs = adapters["bob"]
    card = client.get(f"/v1/models/{theirs}", headers=alice)
    assert card.status_code == 404
    assert card.json()["error"]["code"] == "model_not_found"
    assert client.get(f"/v1/models/{theirs}", headers=bob).status_code == 200
    assert chat(client, alice, theirs) == (404, "model_not_found")
    status, code = chat(client, bob, theirs)  # the owner gets past the catalog (no engine here)
    assert status >= 500
    assert code != "model_not_found"
    assert chat(client, alice, adapters["nobody"]) == (404, "model_not_found")
