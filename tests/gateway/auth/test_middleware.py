"""The auth middleware on its own: who gets in, the 401s, public paths and the cache."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from gateway.auth.cache import KeyCache
from gateway.auth.caller import ADMIN, USER, Caller, caller_of
from gateway.auth.keys import KeyStore
from gateway.auth.middleware import AuthMiddleware
from gateway.state.db import StateDatabase


class CountingStore(KeyStore):
    """A real key store that counts how often the database is asked."""

    lookups = 0

    def lookup_hash(self, secret_hash: str) -> Caller | None:
        self.lookups += 1
        return super().lookup_hash(secret_hash)


async def whoami(request: Request) -> JSONResponse:
    caller = caller_of(request.scope.get("state", {}))
    return JSONResponse({"owner": caller.owner, "role": caller.role, "key": caller.key_id})


def build(keys: KeyStore | None, ttl_s: float = 60.0) -> TestClient:
    routes = [Route(path, whoami) for path in ("/v1/models", "/health/live", "/metrics")]
    app = Starlette(routes=routes)
    app.add_middleware(AuthMiddleware, keys=keys, cache=KeyCache(ttl_s))
    return TestClient(app)


@pytest.fixture
def keys(tmp_path: Path) -> Iterator[CountingStore]:
    store = CountingStore(StateDatabase(f"sqlite:///{tmp_path / 'state.db'}"))
    yield store
    store.close()


def bearer(secret: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {secret}"}


def assert_401(response: object, words: str) -> None:
    assert getattr(response, "status_code", None) == 401
    error = response.json()["error"]  # type: ignore[attr-defined]
    assert error["type"] == "invalid_request_error"
    assert error["code"] == "invalid_api_key"
    assert error["param"] is None
    assert words in error["message"]
    assert response.headers["www-authenticate"] == "Bearer"  # type: ignore[attr-defined]


def test_a_valid_key_makes_its_owner_the_caller(keys: CountingStore) -> None:
    key, secret = keys.create("team-a", USER)
    response = build(keys).get("/v1/models", headers=bearer(secret))
    assert response.status_code == 200
    assert response.json() == {"owner": "team-a", "role": USER, "key": key.id}
    scheme_in_any_case = build(keys).get(
        "/v1/models", headers={"authorization": f"bearer {secret}"}
    )
    assert scheme_in_any_case.json()["owner"] == "team-a"


def test_no_key_or_a_bad_key_is_refused_with_openai_s_401(keys: CountingStore) -> None:
    client = build(keys)
    assert_401(client.get("/v1/models"), "You didn't provide an API key")
    assert_401(client.get("/v1/models", headers={"Authorization": "Bearer "}), "didn't provide")
    assert_401(client.get("/v1/models", headers={"Authorization": "Basic abc"}), "didn't provide")
    assert_401(client.get("/v1/models", headers=bearer("lg-nonsense")), "Incorrect API key")


def test_a_revoked_key_is_refused_once_the_cache_expires(keys: CountingStore) -> None:
    key, secret = keys.create("team-a", ADMIN)
    client = build(keys, ttl_s=0)  # no caching: every request asks the store
    assert client.get("/v1/models", headers=bearer(secret)).status_code == 200
    keys.revoke(key.id)
    assert_401(client.get("/v1/models", headers=bearer(secret)), "Incorrect API key")


def test_public_paths_need_no_key(keys: CountingStore) -> None:
    client = build(keys)
    assert client.get("/health/live").status_code == 200
    assert client.get("/metrics").status_code == 200
    assert keys.lookups == 0


def test_with_auth_off_everyone_is_the_anonymous_admin() -> None:
    response = build(None).get("/v1/models")
    assert response.status_code == 200
    assert response.json() == {"owner": None, "role": ADMIN, "key": "anonymous"}


def test_a_known_key_is_looked_up_once_per_cache_period(keys: CountingStore) -> None:
    _, secret = keys.create("team-a", USER)
    client = build(keys, ttl_s=60)
    for _ in range(5):
        assert client.get("/v1/models", headers=bearer(secret)).status_code == 200
    for _ in range(3):
        assert client.get("/v1/models", headers=bearer("lg-wrong")).status_code == 401
    assert keys.lookups == 2  # one per distinct key, unknown ones included


def test_the_cache_expires_and_stays_bounded(monkeypatch: pytest.MonkeyPatch) -> None:
    clock = [100.0]
    monkeypatch.setattr("gateway.auth.cache.time.monotonic", lambda: clock[0])
    cache = KeyCache(ttl_s=5, max_entries=3)
    caller = Caller(key_id="key-1", owner="a", role=USER)
    cache.put("h1", caller)
    assert cache.get("h1") == (True, caller)
    clock[0] += 5
    assert cache.get("h1") == (False, None)
    for name in ("h2", "h3", "h4", "h5"):
        cache.put(name, None)
    assert len(cache) <= 3
    assert cache.get("h5") == (True, None)


def test_keys_are_never_logged(keys: CountingStore, caplog: pytest.LogCaptureFixture) -> None:
    _, secret = keys.create("team-a", USER)
    caplog.set_level(logging.DEBUG)
    client = build(keys)
    client.get("/v1/models", headers=bearer(secret))
    client.get("/v1/models", headers=bearer(secret + "typo"))
    assert secret not in caplog.text
