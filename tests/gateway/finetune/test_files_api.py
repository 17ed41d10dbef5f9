"""The Files API: upload (validated), list, get, content, delete, and refusals."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from fastapi.testclient import TestClient

from gateway.settings import Settings
from tests.trainer.jobs.helpers import write_reviews

GOOD = {"messages": [{"role": "user", "content": "hi"}, {"role": "assistant", "content": "yo"}]}


def upload(client: TestClient, name: str, content: bytes, purpose: str = "fine-tune") -> Any:
    return client.post("/v1/files", files={"file": (name, content)}, data={"purpose": purpose})


def test_upload_list_get_content_delete(client: TestClient, tmp_path: Path) -> None:
    data = write_reviews(tmp_path / "reviews.jsonl", 20).read_bytes()
    response = client.post(
        "/v1/files", files={"file": ("reviews.jsonl", data)}, data={"purpose": "fine-tune"}
    )
    assert response.status_code == 200, response.text
    file = response.json()
    assert file["id"].startswith("file-")
    assert file["object"] == "file"
    assert (file["bytes"], file["filename"], file["purpose"]) == (
        len(data),
        "reviews.jsonl",
        "fine-tune",
    )
    assert file["status"] == "processed"
    assert file["examples"] == 20
    assert file["tokens"] > 0  # counted with the base model's tokenizer
    assert client.get(f"/v1/files/{file['id']}").json() == file
    listing = client.get("/v1/files").json()
    assert listing["object"] == "list"
    assert [f["id"] for f in listing["data"]] == [file["id"]]
    assert client.get(f"/v1/files/{file['id']}/content").content == data
    deleted = client.delete(f"/v1/files/{file['id']}").json()
    assert deleted == {"id": file["id"], "object": "file", "deleted": True}
    missing = client.get(f"/v1/files/{file['id']}")
    assert missing.status_code == 404
    assert missing.json()["error"]["code"] == "file_not_found"


def test_a_bad_dataset_is_refused_with_every_line_numbered(
    client: TestClient, settings: Settings
) -> None:
    lines = [
        json.dumps(GOOD),
        "{not json",
        json.dumps(
            {"messages": [{"role": "bot", "content": "x"}, {"role": "assistant", "content": "y"}]}
        ),
        json.dumps({"messages": [{"role": "user", "content": "only a question"}]}),
    ]
    response = upload(client, "bad.jsonl", "\n".join(lines).encode())
    assert response.status_code == 400
    error = response.json()["error"]
    assert error["code"] == "invalid_file"
    assert error["param"] == "file"
    assert error["type"] == "invalid_request_error"
    message = error["message"]
    assert "'bad.jsonl'" in message
    assert "3 problems" in message
    for line in (2, 3, 4):
        assert f"bad.jsonl:{line}:" in message
    assert "bad.jsonl:1:" not in message
    assert client.get("/v1/files").json()["data"] == []
    assert [p.name for p in (settings.data_dir / "files").iterdir()] == []


def test_wrong_purpose_empty_and_oversized_files(client: TestClient, settings: Settings) -> None:
    good = (json.dumps(GOOD) + "\n").encode()
    wrong = upload(client, "a.jsonl", good, purpose="assistants")
    assert wrong.status_code == 400
    assert wrong.json()["error"]["param"] == "purpose"
    empty = upload(client, "a.jsonl", b"")
    assert empty.status_code == 400
    settings.finetune.max_file_bytes = 10
    large = upload(client, "a.jsonl", good)
    assert large.status_code == 413
    assert large.json()["error"]["code"] == "file_too_large"
    assert client.get("/v1/files").json()["data"] == []


def test_an_over_long_conversation_is_refused(client: TestClient, settings: Settings) -> None:
    settings.engine.max_model_len = 16
    long = {
        "messages": [
            {"role": "user", "content": "很长 " * 50},
            {"role": "assistant", "content": "好"},
        ]
    }
    response = upload(client, "long.jsonl", (json.dumps(GOOD) + "\n" + json.dumps(long)).encode())
    assert response.status_code == 400
    assert "long.jsonl:2:" in response.json()["error"]["message"]
    assert "too long" in response.json()["error"]["message"]


def test_file_names_that_no_column_holds_are_400(client: TestClient) -> None:
    content = json.dumps(GOOD).encode()
    response = upload(client, "x" * 250 + ".jsonl", content)
    assert response.status_code == 400, response.text
    assert response.json()["error"]["param"] == "file"
    # httpx escapes control characters in a file name; a raw client may not
    boundary = "b0undary"
    raw = (
        f'--{boundary}\r\nContent-Disposition: form-data; name="purpose"\r\n\r\nfine-tune\r\n'
        f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="a\x01b.jsonl"'
        f"\r\n\r\n{content.decode()}\r\n--{boundary}--\r\n"
    ).encode()
    headers = {"content-type": f"multipart/form-data; boundary={boundary}"}
    response = client.post("/v1/files", content=raw, headers=headers)
    assert response.status_code == 400, response.text
    assert "control characters" in response.json()["error"]["message"]
    assert client.get("/v1/files").json()["data"] == []


def test_ids_with_control_characters_are_400_not_a_database_error(client: TestClient) -> None:
    for path in ("/v1/files/file-%00x", "/v1/files?after=a%00b", "/v1/files/" + "f" * 65):
        response = client.get(path)
        assert response.status_code == 400, (path, response.text)
        assert response.json()["error"]["type"] == "invalid_request_error"


def test_a_wrong_method_is_405_with_allow(client: TestClient) -> None:
    response = client.put("/v1/files")
    assert response.status_code == 405
    assert response.json()["error"]["code"] == "method_not_allowed"
    assert set(response.headers["allow"].split(", ")) == {"GET", "POST"}


def test_the_openapi_document_says_400_not_422(client: TestClient) -> None:
    document = client.get("/openapi.json").json()
    for path, item in document["paths"].items():
        for method, operation in item.items():
            assert "422" not in operation["responses"], (method, path)
    create = document["paths"]["/v1/fine_tuning/jobs"]["post"]["responses"]
    assert create["400"]["content"]["application/json"]["schema"]["$ref"].endswith("OpenAIError")
