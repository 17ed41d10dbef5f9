"""Admin-only routes (keys, adapter load and delete): 403 for user keys; the key API."""

from __future__ import annotations

from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from gateway.auth.caller import ADMIN
from gateway.auth.keys import KeyStore, hash_secret
from gateway.settings import Settings
from tests.gateway.auth.conftest import bearer

ADMIN_ROUTES = [
    ("POST", "/admin/keys", {"name": "x"}),
    ("GET", "/admin/keys", None),
    ("GET", "/admin/keys/key-1", None),
    ("DELETE", "/admin/keys/key-1", None),
    ("POST", "/admin/adapters/load", {"model": "ft:loragate-tiny:x:ftjob-1"}),
    ("DELETE", "/v1/models/ft:loragate-tiny:x:ftjob-1", None),
]


@pytest.mark.parametrize(("method", "path", "body"), ADMIN_ROUTES)
def test_a_user_key_gets_403_on_admin_routes(
    client: TestClient, user: dict[str, str], method: str, path: str, body: object
) -> None:
    response = client.request(method, path, json=body, headers=user)
    assert response.status_code == 403, response.text
    error = response.json()["error"]
    assert (error["type"], error["code"]) == ("permission_error", "insufficient_permissions")


@pytest.mark.parametrize(("method", "path", "body"), ADMIN_ROUTES)
def test_no_key_gets_401_on_admin_routes(
    client: TestClient, method: str, path: str, body: object
) -> None:
    response = client.request(method, path, json=body)
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "invalid_api_key"
    assert response.headers["x-request-id"]


def test_admin_creates_lists_reads_and_revokes_keys(
    client: TestClient, admin: dict[str, str]
) -> None:
    created = client.post(
        "/admin/keys", json={"name": "team-b", "rpm": 60, "tpm": 20000}, headers=admin
    )
    assert created.status_code == 200, created.text
    key = created.json()
    secret = key.pop("key")
    assert secret.startswith("lg-")
    assert key["hint"] == f"lg-...{secret[-4:]}"
    assert key["object"] == "api_key"
    assert key["role"] == "user"
    assert (key["name"], key["rpm"], key["tpm"], key["created_by"]) == ("team-b", 60, 20000, "root")
    listed = client.get("/admin/keys", headers=admin).json()
    assert listed["object"] == "list"
    assert [k["name"] for k in listed["data"]] == ["root", "team-b"]
    assert secret not in str(listed)
    assert hash_secret(secret) not in str(listed)
    assert client.get(f"/admin/keys/{key['id']}", headers=admin).json() == key
    assert client.get("/v1/models", headers=bearer(secret)).status_code == 200
    revoked = client.delete(f"/admin/keys/{key['id']}", headers=admin)
    assert revoked.status_code == 200
    assert revoked.json()["revoked_at"] is not None
    # refused at once by this worker, although its cache would trust the key for 60 s
    assert client.get("/v1/models", headers=bearer(secret)).status_code == 401


def test_a_new_admin_key_can_manage_keys(client: TestClient, admin: dict[str, str]) -> None:
    created = client.post("/admin/keys", json={"name": "ops", "role": "admin"}, headers=admin)
    other_admin = bearer(created.json()["key"])
    assert client.get("/admin/keys", headers=other_admin).status_code == 200


@pytest.mark.parametrize(
    ("body", "status", "param"),
    [
        ({"name": "bad name"}, 400, "name"),
        ({"name": "ok", "role": "owner"}, 400, "role"),
        ({"name": "ok", "rpm": 0}, 400, "rpm"),
        ({"name": "ok", "rpm": "many"}, 400, "rpm"),
        ({}, 400, "name"),
        ({"name": "ok", "rpm": 2.4e29}, 400, "rpm"),
        ({"name": "ok", "tpm": 2**31}, 400, "tpm"),
        ({"name": "n" * 65}, 400, "name"),
        ({"name": "tab\there"}, 400, "name"),
    ],
)
def test_bad_key_requests_are_refused(
    client: TestClient, admin: dict[str, str], body: object, status: int, param: str
) -> None:
    response = client.post("/admin/keys", json=body, headers=admin)
    assert response.status_code == status, response.text
    assert response.json()["error"]["param"] == param
    assert len(client.get("/admin/keys", headers=admin).json()["data"]) == 1


def test_unknown_key_ids_are_404(client: TestClient, admin: dict[str, str]) -> None:
    for method in ("GET", "DELETE"):
        response = client.request(method, "/admin/keys/key-nope", headers=admin)
        assert response.status_code == 404
        assert response.json()["error"]["code"] == "key_not_found"


def test_loading_an_adapter_needs_a_known_adapter_and_an_engine(
    client: TestClient, admin: dict[str, str]
) -> None:
    unknown = client.post(
        "/admin/adapters/load", json={"model": "ft:loragate-tiny:x:ftjob-1"}, headers=admin
    )
    assert unknown.status_code == 404
    assert unknown.json()["error"]["code"] == "model_not_found"
    base = client.post("/admin/adapters/load", json={"model": "loragate-tiny"}, headers=admin)
    assert base.status_code == 400


def test_with_auth_off_every_route_is_open(tmp_path: Path) -> None:
    from gateway.app import create_app

    settings = Settings(
        data_dir=tmp_path, upstreams=["http://127.0.0.1:9"], auth={"enabled": False}
    )
    with TestClient(create_app(settings)) as client:
        assert client.get("/admin/keys").status_code == 200
        assert client.get("/v1/models").status_code == 200


def test_health_metrics_and_docs_need_no_key(client: TestClient) -> None:
    for path in ("/health/live", "/metrics", "/openapi.json", "/docs"):
        assert client.get(path).status_code == 200, path
    assert client.get("/health/ready").status_code == 503  # answered, not refused
    assert client.get("/v1/models").status_code == 401


def test_a_key_cannot_revoke_itself(client: TestClient, keys: KeyStore) -> None:
    key, secret = keys.create("ops", ADMIN)
    refused = client.delete(f"/admin/keys/{key.id}", headers=bearer(secret))
    assert refused.status_code == 409, refused.text
    assert refused.json()["error"]["code"] == "own_key"
    assert client.get("/admin/keys", headers=bearer(secret)).status_code == 200  # still valid
    _, other = keys.create("root", ADMIN)
    revoked = client.delete(f"/admin/keys/{key.id}", headers=bearer(other))
    assert revoked.status_code == 200, revoked.text
    assert revoked.json()["revoked_at"] is not None
