"""The routes the console needs, for any client: a file's preview and statistics, a job's
decimated loss curves, who a key is; each only for the owner (and admins)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from gateway.auth.caller import USER
from gateway.auth.keys import KeyStore
from gateway.finetune.jobs import JobServing
from tests.gateway.finetune.conftest import bearer
from tests.gateway.finetune.test_ownership import create_job, upload
from tests.trainer.jobs.helpers import write_reviews

Headers = dict[str, str]


@pytest.fixture
def alice(keys: KeyStore) -> Headers:
    return bearer(keys.create("alice", USER)[1])


@pytest.fixture
def bob(keys: KeyStore) -> Headers:
    return bearer(keys.create("bob", USER)[1])


def alpaca_file(path: Path) -> Path:
    rows = [
        {"instruction": "Classify: 好吃", "input": "", "output": "positive", "system": "Be brief."},
        {"instruction": "Classify: too slow", "input": "", "output": "negative"},
        {"instruction": "Say hi", "input": "politely", "output": "Hello there, how are you?"},
    ]
    path.write_text("".join(json.dumps(row, ensure_ascii=False) + "\n" for row in rows))
    return path


def test_preview_normalises_any_format_to_chats(
    client: TestClient, alice: Headers, bob: Headers, tmp_path: Path
) -> None:
    file_id = upload(client, alice, alpaca_file(tmp_path / "alpaca.jsonl"))
    preview = client.get(f"/v1/files/{file_id}/preview?limit=2", headers=alice)
    assert preview.status_code == 200, preview.text
    body = preview.json()
    assert (body["format"], body["total_examples"], len(body["data"])) == ("alpaca", 3, 2)
    first = body["data"][0]
    assert first["line"] == 1
    assert first["messages"] == [
        {"role": "system", "content": "Be brief."},
        {"role": "user", "content": "Classify: 好吃"},
        {"role": "assistant", "content": "positive"},
    ]
    assert body["data"][1]["line"] == 2
    assert client.get(f"/v1/files/{file_id}/preview", headers=bob).status_code == 404
    assert client.get(f"/v1/files/{file_id}/preview").status_code == 200  # the admin


def test_preview_limit_is_checked(client: TestClient, alice: Headers, tmp_path: Path) -> None:
    file_id = upload(client, alice, alpaca_file(tmp_path / "alpaca.jsonl"))
    refused = client.get(f"/v1/files/{file_id}/preview?limit=0", headers=alice)
    assert refused.status_code == 400
    assert refused.json()["error"]["param"] == "limit"


def test_stats_count_tokens_with_the_model_s_template(
    client: TestClient, alice: Headers, bob: Headers, tmp_path: Path
) -> None:
    file_id = upload(client, alice, write_reviews(tmp_path / "reviews.jsonl", 40))
    stats = client.get(f"/v1/files/{file_id}/stats", headers=alice)
    assert stats.status_code == 200, stats.text
    body = stats.json()
    stored = client.get(f"/v1/files/{file_id}", headers=alice).json()
    assert (body["examples"], body["unit"]) == (40, "tokens")
    length = body["length"]
    assert length["total"] == stored["tokens"]  # the same count the upload made
    assert length["min"] <= length["p50"] <= length["p90"] <= length["max"]
    assert sum(b["count"] for b in body["histogram"]) == 40
    assert body["histogram"][0]["start"] == length["min"]
    assert body["histogram"][-1]["end"] > length["max"]
    assert client.get(f"/v1/files/{file_id}/stats", headers=bob).status_code == 404


def test_job_metrics_decimate_the_loss_curves(
    client: TestClient, alice: Headers, bob: Headers, tmp_path: Path
) -> None:
    file_id = upload(client, alice, write_reviews(tmp_path / "reviews.jsonl", 20))
    job_id = create_job(client, alice, file_id)
    serving: JobServing = client.app.state.job_serving  # type: ignore[attr-defined]
    for step in range(1, 1001):
        data = {"step": step, "total_steps": 1000, "train_loss": 5.0 / step, "eval_loss": None}
        serving.store.log.event(job_id, f"Step {step}", type="metrics", data=data)
        if step % 100 == 0:
            data = {**data, "eval_loss": 4.0 / step}
            serving.store.log.event(job_id, f"Step {step}: eval", type="metrics", data=data)
    reply = client.get(f"/v1/fine_tunes/{job_id}/metrics?max_points=50", headers=alice)
    assert reply.status_code == 200, reply.text
    body = reply.json()
    train, evals = body["curves"]["train_loss"], body["curves"]["eval_loss"]
    assert (train["total_points"], len(train["points"])) == (1000, 50)
    assert train["points"][0] == [1, 5.0]
    assert train["points"][-1] == [1000, 0.005]
    steps = [step for step, _ in train["points"]]
    assert steps == sorted(steps)
    assert (evals["total_points"], len(evals["points"])) == (10, 10)
    assert evals["points"][0] == [100, 0.04]
    assert body["job"]["id"] == job_id
    assert body["latest"]["step"] == 1000
    assert body["recent_events"][0]["message"] == "Step 1000: eval"  # newest first
    assert client.get(f"/v1/fine_tunes/{job_id}/metrics", headers=bob).status_code == 404
    refused = client.get(f"/v1/fine_tunes/{job_id}/metrics?max_points=1", headers=alice)
    assert refused.status_code == 400


def test_me_says_who_the_key_is(client: TestClient, alice: Headers) -> None:
    mine = client.get("/v1/me", headers=alice).json()
    assert (mine["owner"], mine["role"]) == ("alice", "user")
    assert client.get("/v1/me").json()["role"] == "admin"
    assert client.get("/v1/me", headers=bearer("lg-wrong")).status_code == 401


def test_a_csv_upload_needs_a_column_mapping(
    client: TestClient, alice: Headers, tmp_path: Path
) -> None:
    path = tmp_path / "pairs.csv"
    path.write_text("question,answer\n外卖好吃吗,好评\nwas it late,negative\n")

    def send(**fields: str) -> Any:
        files = {"file": (path.name, path.read_bytes())}
        data = {"purpose": "fine-tune", **fields}
        return client.post("/v1/files", files=files, data=data, headers=alice)

    unmapped = send()
    assert unmapped.status_code == 400
    assert unmapped.json()["error"]["param"] == "prompt_column"
    half = send(prompt_column="question")
    assert half.json()["error"]["param"] == "completion_column"
    wrong = send(prompt_column="question", completion_column="reply")
    assert wrong.status_code == 400
    assert "pairs.csv:1: reply: no such column" in wrong.json()["error"]["message"]
    stored = send(prompt_column="question", completion_column="answer", system="Classify.")
    assert stored.status_code == 200, stored.text
    body = stored.json()
    assert (body["filename"], body["format"], body["examples"]) == ("pairs.csv", "openai", 2)
    preview = client.get(f"/v1/files/{body['id']}/preview", headers=alice).json()
    assert preview["data"][0]["messages"] == [
        {"role": "system", "content": "Classify."},
        {"role": "user", "content": "外卖好吃吗"},
        {"role": "assistant", "content": "好评"},
    ]
