"""API keys on the real stack: 401 without a good key, 403 for a user key on admin routes,
secrets hashed at rest, and one user's adapter invisible and unusable with another's key."""

from __future__ import annotations

from pathlib import Path

import httpx
import openai
import pytest
from openai import OpenAI
from openai.types.chat import ChatCompletionMessageParam

from adapters.record import AdapterRecord
from gateway.auth.keys import hash_secret
from tests.helpers import Stack
from tests.lora_fixtures import publish_random_adapter

pytestmark = pytest.mark.engine

HI: list[ChatCompletionMessageParam] = [{"role": "user", "content": "hi"}]


def new_key(stack: Stack, name: str, role: str = "user") -> dict[str, str]:
    """A key made through the admin API: its object, secret included (under "key")."""
    reply = httpx.post(
        f"{stack.base_url}/admin/keys",
        json={"name": name, "role": role},
        headers=stack.headers,
        timeout=30,
    )
    assert reply.status_code == 200, reply.text
    key: dict[str, str] = reply.json()
    return key


def client(stack: Stack, api_key: str) -> OpenAI:
    return OpenAI(base_url=f"{stack.base_url}/v1", api_key=api_key, max_retries=0)


def bearer(secret: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {secret}"}


@pytest.fixture(scope="module")
def alice(stack: Stack) -> dict[str, str]:
    return new_key(stack, "alice")


@pytest.fixture(scope="module")
def bob(stack: Stack) -> dict[str, str]:
    return new_key(stack, "bob")


@pytest.fixture(scope="module")
def alices_adapter(stack: Stack, tmp_path_factory: pytest.TempPathFactory) -> AdapterRecord:
    return publish_random_adapter(
        stack.data_dir / "models" / stack.model,
        stack.data_dir / "adapters",
        tmp_path_factory.mktemp("alice-adapter"),
        suffix="alices",
        seed=7,
        owner="alice",
    )


def test_no_key_or_a_wrong_key_is_401_for_the_sdk(stack: Stack) -> None:
    for api_key in ("lg-not-a-key", stack.admin_key + "x"):  # (the SDK needs some key)
        with pytest.raises(openai.AuthenticationError) as refused:
            client(stack, api_key).chat.completions.create(model=stack.model, messages=HI)
        assert refused.value.status_code == 401
        assert refused.value.code == "invalid_api_key"
    bare = httpx.get(f"{stack.base_url}/v1/models")
    assert bare.status_code == 401
    assert "You didn't provide an API key" in bare.json()["error"]["message"]


def test_health_and_metrics_need_no_key(stack: Stack) -> None:
    for path in ("/health/live", "/health/ready", "/metrics"):
        assert httpx.get(f"{stack.base_url}{path}", timeout=10).status_code == 200, path


def test_a_user_key_is_refused_admin_routes(
    stack: Stack, alice: dict[str, str], alices_adapter: AdapterRecord
) -> None:
    user = bearer(alice["key"])
    for method, path, body in [
        ("GET", "/admin/keys", None),
        ("POST", "/admin/keys", {"name": "mallory", "role": "admin"}),
        ("DELETE", f"/admin/keys/{alice['id']}", None),
        ("POST", "/admin/adapters/load", {"model": alices_adapter.name}),
        ("DELETE", f"/v1/models/{alices_adapter.name}", None),
    ]:
        reply = httpx.request(method, stack.base_url + path, json=body, headers=user, timeout=30)
        assert reply.status_code == 403, (method, path, reply.text)
        assert reply.json()["error"]["code"] == "insufficient_permissions"
    with pytest.raises(openai.PermissionDeniedError):
        client(stack, alice["key"]).models.delete(alices_adapter.name)
    assert alices_adapter.name in [m.id for m in client(stack, stack.admin_key).models.list()]


def test_secrets_are_hashed_at_rest(stack: Stack, alice: dict[str, str]) -> None:
    stored = b"".join(path.read_bytes() for path in stack.data_dir.glob("loragate.db*"))
    for secret in (alice["key"], stack.admin_key):
        assert hash_secret(secret).encode() in stored  # the right bytes were read
        assert secret.encode() not in stored
        assert secret.removeprefix("lg-").encode() not in stored
    gateway_log = stack.log_of("gateway")
    assert alice["key"] not in gateway_log
    assert stack.admin_key not in gateway_log


def test_one_user_s_adapter_is_invisible_and_unusable_to_another(
    stack: Stack, alice: dict[str, str], bob: dict[str, str], alices_adapter: AdapterRecord
) -> None:
    name = alices_adapter.name
    as_alice, as_bob = client(stack, alice["key"]), client(stack, bob["key"])
    assert name in [m.id for m in as_alice.models.list()]
    assert name not in [m.id for m in as_bob.models.list()]
    with pytest.raises(openai.NotFoundError) as hidden:
        as_bob.models.retrieve(name)
    assert hidden.value.code == "model_not_found"
    with pytest.raises(openai.NotFoundError) as unusable:
        as_bob.chat.completions.create(model=name, messages=HI, max_tokens=4)
    assert unusable.value.code == "model_not_found"
    reply = as_alice.chat.completions.create(model=name, messages=HI, max_tokens=4)
    assert reply.model == name
    assert reply.usage is not None
    assert reply.usage.completion_tokens == 4
    # a second key of alice's name is the same user
    second = new_key(stack, "alice")
    assert name in [m.id for m in client(stack, second["key"]).models.list()]


def test_admin_loads_an_adapter_into_the_engines(stack: Stack, tmp_path: Path) -> None:
    record = publish_random_adapter(
        stack.data_dir / "models" / stack.model,
        stack.data_dir / "adapters",
        tmp_path,
        suffix="preloaded",
        seed=8,
    )
    reply = httpx.post(
        f"{stack.base_url}/admin/adapters/load",
        json={"model": record.name},
        headers=stack.headers,
        timeout=120,
    )
    assert reply.status_code == 200, reply.text
    assert reply.json()["loaded"] == ["engine-0"]  # public names, never URLs
    engine_models = httpx.get(f"{stack.engine_url}/v1/models", timeout=30).json()["data"]
    assert record.name in [m["id"] for m in engine_models]


def test_a_revoked_key_is_refused(stack: Stack) -> None:
    key = new_key(stack, "temp")
    assert client(stack, key["key"]).models.list().data
    revoked = httpx.delete(
        f"{stack.base_url}/admin/keys/{key['id']}", headers=stack.headers, timeout=30
    )
    assert revoked.json()["revoked_at"] is not None
    with pytest.raises(openai.AuthenticationError):
        client(stack, key["key"]).models.list()
