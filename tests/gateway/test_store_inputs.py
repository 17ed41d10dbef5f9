"""Every user-supplied string or number that reaches a column of the product database, sent
at its worst through the real app, on SQLite and on PostgreSQL. PostgreSQL enforces
``String(n)`` lengths, integer ranges and refuses NUL bytes where SQLite stores anything, so
what is not validated first becomes a 500 there. Each answer is a 400 naming the field (a
bad value) or a 404 (an id that cannot exist); never a 500, and the app keeps working."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from gateway.app import create_app
from gateway.auth.caller import ADMIN
from gateway.auth.keys import open_key_store
from gateway.settings import Settings
from tests.trainer.jobs.helpers import MODEL_NAME, build_tiny_model

NUL = "a\x00b"
INT32_OVER = 2**31
INT64_OVER = 2**63


@pytest.fixture(scope="module")
def tiny_model(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_tiny_model(tmp_path_factory.mktemp("inputs-model"))


@pytest.fixture
def client(tmp_path: Path, tiny_model: Path, database_url: str) -> Iterator[TestClient]:
    settings = Settings(
        data_dir=tmp_path / "data",
        database_url=database_url,
        base_model=str(tiny_model),
        served_model_name=MODEL_NAME,
        upstreams=["http://127.0.0.1:9"],
    )
    keys = open_key_store(settings)
    _, secret = keys.create("root", ADMIN)
    keys.close()
    with TestClient(create_app(settings), headers={"Authorization": f"Bearer {secret}"}) as app:
        yield app


def _refused(resp: Any, param: str) -> None:
    assert resp.status_code == 400, resp.text
    error = resp.json()["error"]
    assert error["type"] == "invalid_request_error"
    assert param in str(error["param"]), error


KEY_FIELDS = [
    ({"name": "n" * 65}, "name"),
    ({"name": NUL}, "name"),
    ({"name": "ok", "rpm": INT32_OVER}, "rpm"),
    ({"name": "ok", "tpm": INT64_OVER}, "tpm"),
]


@pytest.mark.parametrize(("body", "param"), KEY_FIELDS)
def test_api_key_fields(client: TestClient, body: dict[str, Any], param: str) -> None:
    _refused(client.post("/admin/keys", json=body), param)
    assert client.get("/admin/keys").status_code == 200


FILENAMES = [("f" * 250 + ".jsonl", "file"), ("a\x00b.jsonl", "file")]


@pytest.mark.parametrize(("filename", "param"), FILENAMES)
def test_upload_filenames(client: TestClient, filename: str, param: str) -> None:
    line = (
        b'{"messages": [{"role": "user", "content": "hi"}, {"role": "assistant", "content": "yo"}]}'
    )
    files = {"file": (filename, line * 20 + b"\n", "application/jsonl")}
    _refused(client.post("/v1/files", files=files, data={"purpose": "fine-tune"}), param)
    assert client.get("/v1/files").status_code == 200


JOB_FIELDS = [
    ({"suffix": "s" * 65}, "suffix"),
    ({"suffix": NUL}, "suffix"),
    ({"seed": INT64_OVER}, "seed"),
    ({"model": "m" * 600}, "model"),
    ({"model": NUL}, "model"),
    ({"training_file": "file-" + "0" * 100}, "training_file"),
    ({"training_file": NUL}, "training_file"),
    ({"validation_file": NUL}, "validation_file"),
]


@pytest.mark.parametrize(("fields", "param"), JOB_FIELDS)
def test_job_fields(client: TestClient, fields: dict[str, Any], param: str) -> None:
    body = {"model": MODEL_NAME, "training_file": "file-000"} | fields
    resp = client.post("/v1/fine_tuning/jobs", json=body)
    assert resp.status_code in (400, 404), resp.text  # a name that cannot exist may be 404
    assert param in str(resp.json()["error"]["param"])
    assert client.get("/v1/fine_tuning/jobs").status_code == 200


LOOKUPS = [
    "/v1/files/file-a%00b",
    "/v1/files/" + "f" * 300,
    "/v1/files?after=a%00b",
    "/v1/fine_tuning/jobs/ftjob-a%00b",
    "/v1/fine_tuning/jobs?after=a%00b",
    "/v1/fine_tuning/jobs/ftjob-a%00b/events",
    "/v1/fine_tuning/jobs/ftjob-a%00b/checkpoints",
    "/admin/keys/key-a%00b",
]


@pytest.mark.parametrize("path", LOOKUPS)
def test_ids_that_cannot_exist(client: TestClient, path: str) -> None:
    resp = client.get(path)
    assert resp.status_code in (400, 404), resp.text
    assert client.get("/v1/files").status_code == 200


def test_degradation_reason_with_a_nul(client: TestClient) -> None:
    resp = client.put("/admin/degradation", json={"mode": "base-only", "reason": NUL})
    _refused(resp, "reason")
    assert client.get("/admin/degradation").json()["current"]["mode"] == "normal"
