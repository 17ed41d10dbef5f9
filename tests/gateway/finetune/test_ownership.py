"""One user's files and jobs are invisible to another user's keys; admins see all."""

from __future__ import annotations

from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from gateway.auth.caller import USER
from gateway.auth.keys import KeyStore
from tests.gateway.finetune.conftest import bearer
from tests.trainer.jobs.helpers import write_reviews

Headers = dict[str, str]


@pytest.fixture
def alice(keys: KeyStore) -> Headers:
    return bearer(keys.create("alice", USER)[1])


@pytest.fixture
def alice_again(keys: KeyStore) -> Headers:
    """A second key of the same user: the same owner."""
    return bearer(keys.create("alice", USER)[1])


@pytest.fixture
def bob(keys: KeyStore) -> Headers:
    return bearer(keys.create("bob", USER)[1])


def upload(client: TestClient, headers: Headers, path: Path) -> str:
    response = client.post(
        "/v1/files",
        files={"file": (path.name, path.read_bytes())},
        data={"purpose": "fine-tune"},
        headers=headers,
    )
    assert response.status_code == 200, response.text
    return str(response.json()["id"])


def create_job(client: TestClient, headers: Headers, file_id: str) -> str:
    body = {"model": "loragate-tiny", "training_file": file_id, "suffix": "mine"}
    response = client.post("/v1/fine_tuning/jobs", json=body, headers=headers)
    assert response.status_code == 200, response.text
    return str(response.json()["id"])


def ids(client: TestClient, path: str, headers: Headers | None = None) -> list[str]:
    response = client.get(path, headers=headers)
    assert response.status_code == 200, response.text
    return [item["id"] for item in response.json()["data"]]


def test_files_are_their_owner_s(
    client: TestClient, alice: Headers, alice_again: Headers, bob: Headers, tmp_path: Path
) -> None:
    file_id = upload(client, alice, write_reviews(tmp_path / "a.jsonl", 12))
    bob_file = upload(client, bob, write_reviews(tmp_path / "b.jsonl", 12, seed=1))
    assert ids(client, "/v1/files", alice) == [file_id]
    assert ids(client, "/v1/files", alice_again) == [file_id]
    assert ids(client, "/v1/files", bob) == [bob_file]
    assert ids(client, "/v1/files") == [bob_file, file_id]  # the client's own key: admin
    for method, path in [
        ("GET", f"/v1/files/{file_id}"),
        ("GET", f"/v1/files/{file_id}/content"),
        ("DELETE", f"/v1/files/{file_id}"),
    ]:
        response = client.request(method, path, headers=bob)
        assert response.status_code == 404, (method, path)
        assert response.json()["error"]["code"] == "file_not_found"
    assert client.get(f"/v1/files/{file_id}/content", headers=alice_again).status_code == 200
    assert client.delete(f"/v1/files/{file_id}", headers=alice).status_code == 200


def test_another_user_s_file_cannot_be_trained_on(
    client: TestClient, alice: Headers, bob: Headers, tmp_path: Path
) -> None:
    file_id = upload(client, alice, write_reviews(tmp_path / "a.jsonl", 12))
    body = {"model": "loragate-tiny", "training_file": file_id}
    refused = client.post("/v1/fine_tuning/jobs", json=body, headers=bob)
    assert refused.status_code == 400
    error = refused.json()["error"]
    assert (error["param"], error["code"]) == ("training_file", "file_not_found")
    assert "does not exist" in error["message"]
    assert ids(client, "/v1/fine_tuning/jobs") == []


def test_jobs_are_their_owner_s(
    client: TestClient, alice: Headers, alice_again: Headers, bob: Headers, tmp_path: Path
) -> None:
    job_id = create_job(
        client, alice, upload(client, alice, write_reviews(tmp_path / "a.jsonl", 12))
    )
    for prefix in ("/v1/fine_tuning/jobs", "/v1/fine_tunes"):
        assert ids(client, prefix, alice_again) == [job_id]
        assert ids(client, prefix, bob) == []
        assert ids(client, prefix) == [job_id]
        for method, suffix in [
            ("GET", ""),
            ("GET", "/events"),
            ("GET", "/events?stream=true"),
            ("GET", "/checkpoints"),
            ("POST", "/cancel"),
        ]:
            response = client.request(method, f"{prefix}/{job_id}{suffix}", headers=bob)
            assert response.status_code == 404, (method, suffix)
            assert response.json()["error"]["code"] == "job_not_found"
    assert client.get(f"/v1/fine_tuning/jobs/{job_id}/events", headers=alice).status_code == 200
    cancelled = client.post(f"/v1/fine_tuning/jobs/{job_id}/cancel", headers=alice_again)
    assert cancelled.json()["status"] == "cancelled"


def test_the_owner_is_stored_with_files_and_jobs(
    client: TestClient, alice: Headers, tmp_path: Path
) -> None:
    job_id = create_job(
        client, alice, upload(client, alice, write_reviews(tmp_path / "a.jsonl", 12))
    )
    store = client.app.state.job_serving.store  # type: ignore[attr-defined]
    job = store.jobs.get(job_id)
    assert job.owner == "alice"
    assert store.files.get(job.training_file).owner == "alice"
