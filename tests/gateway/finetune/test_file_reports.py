"""``GET /v1/files/{id}/report``: made at upload, stored beside the file, the owner's only."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from gateway.auth.caller import USER
from gateway.auth.keys import KeyStore
from tests.gateway.finetune.conftest import bearer
from tests.trainer.datasets import crafted
from trainer.datasets.quality import report_path

Headers = dict[str, str]


@pytest.fixture
def alice(keys: KeyStore) -> Headers:
    return bearer(keys.create("alice", USER)[1])


@pytest.fixture
def bob(keys: KeyStore) -> Headers:
    return bearer(keys.create("bob", USER)[1])


def upload(client: TestClient, headers: Headers, path: Path) -> dict[str, object]:
    response = client.post(
        "/v1/files",
        files={"file": (path.name, path.read_bytes())},
        data={"purpose": "fine-tune"},
        headers=headers,
    )
    assert response.status_code == 200, response.text
    return dict(response.json())


def lines(report: dict[str, object]) -> dict[str, list[int]]:
    findings = report["findings"]
    assert isinstance(findings, list)
    return {item["code"]: item["lines"] for item in findings}


def test_the_report_is_made_at_upload_and_shown_to_the_owner(
    client: TestClient, alice: Headers, bob: Headers, tmp_path: Path
) -> None:
    path = crafted.write_flawed(tmp_path / "flawed.jsonl", invalid=False)
    file = upload(client, alice, path)
    stored = client.app.state.job_serving.store.files.get(file["id"])  # type: ignore[attr-defined]
    assert report_path(stored.path).is_file()  # made at upload, beside the bytes
    response = client.get(f"/v1/files/{file['id']}/report", headers=alice)
    assert response.status_code == 200, response.text
    report = response.json()
    assert (report["object"], report["file_id"], report["filename"]) == (
        "file.report", file["id"], "flawed.jsonl",
    )  # fmt: skip
    assert "path" not in report  # the server's folders are not the user's business
    assert report["examples"] == 18
    assert report["stats"]["lengths"]["unit"] == "tokens"  # the base model's tokenizer
    assert report["stats"]["lengths"]["max_seq_len"] == 1024
    assert lines(report) == {
        "exact_duplicates": [crafted.EXACT_COPY],
        "near_duplicates": [crafted.NEAR_COPY],
        "conflicting_answers": list(crafted.CONFLICT),
        "no_user_turn": [crafted.NO_USER],
        "cut_off_answers": [crafted.CUT_OFF],
        "over_max_seq_len": [crafted.OVER_LONG],
    }
    assert report["counts"] == {"error": 0, "warning": 6, "info": 0}
    assert client.get(f"/v1/files/{file['id']}/report").json() == report  # an admin
    refused = client.get(f"/v1/files/{file['id']}/report", headers=bob)
    assert refused.status_code == 404
    assert refused.json()["error"]["code"] == "file_not_found"
    assert client.get("/v1/files/file-nope/report", headers=alice).status_code == 404


def test_a_file_stored_before_reports_gets_one_when_asked(
    client: TestClient, alice: Headers, tmp_path: Path
) -> None:
    file = upload(client, alice, crafted.write_labels(tmp_path / "l.jsonl", {"a": 20, "b": 2}))
    stored = client.app.state.job_serving.store.files.get(file["id"])  # type: ignore[attr-defined]
    sidecar = report_path(stored.path)
    sidecar.unlink()  # as if uploaded by an older loragate
    report = client.get(f"/v1/files/{file['id']}/report", headers=alice).json()
    assert report["stats"]["answers"]["distribution"] == {"a": 20, "b": 2}
    assert "label_imbalance" in lines(report)
    assert sidecar.is_file()  # kept for the next time
    assert client.delete(f"/v1/files/{file['id']}", headers=alice).status_code == 200
    assert not sidecar.exists()


def test_a_large_file_is_checked_and_reported_after_the_answer(
    client: TestClient, alice: Headers, bob: Headers, tmp_path: Path
) -> None:
    client.app.state.file_serving.settings.finetune.check_at_upload_max_bytes = 100  # type: ignore[attr-defined]
    file = upload(client, alice, crafted.write_labels(tmp_path / "l.jsonl", {"a": 9, "b": 9}))
    assert file["status"] == "uploaded"  # answered before the check
    assert client.get(f"/v1/files/{file['id']}/report", headers=bob).status_code == 404
    processed = wait_for_status(client, alice, str(file["id"]))
    assert processed["status"] == "processed", processed
    assert processed["examples"] == 18
    report = client.get(f"/v1/files/{file['id']}/report", headers=alice).json()
    assert report["stats"]["answers"]["distribution"] == {"a": 9, "b": 9}
    stored = client.app.state.job_serving.store.files.get(file["id"])  # type: ignore[attr-defined]
    assert report_path(stored.path).is_file()


def wait_for_status(
    client: TestClient, headers: Headers, file_id: str, timeout_s: float = 120
) -> dict[str, object]:
    """The file once it is no longer ``uploaded``."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        file = dict(client.get(f"/v1/files/{file_id}", headers=headers).json())
        if file["status"] != "uploaded":
            return file
        time.sleep(0.2)
    raise AssertionError(f"{file_id} was still uploaded after {timeout_s} s")
