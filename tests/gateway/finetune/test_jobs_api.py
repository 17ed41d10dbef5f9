"""The Jobs API: creation (refusing what could not be trained or served), listing,
retrieval, cancel, events (listed and streamed) and checkpoints. No worker runs here."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from gateway.settings import Settings
from tests.trainer.jobs.helpers import write_reviews


@pytest.fixture
def file_id(client: TestClient, tmp_path: Path) -> str:
    data = write_reviews(tmp_path / "reviews.jsonl", 20).read_bytes()
    response = client.post(
        "/v1/files", files={"file": ("r.jsonl", data)}, data={"purpose": "fine-tune"}
    )
    return str(response.json()["id"])


def test_create_on_openai_path(client: TestClient, file_id: str) -> None:
    body = {
        "model": "loragate-tiny",
        "training_file": file_id,
        "suffix": "reviews",
        "seed": 42,
        "method": {
            "type": "supervised",
            "supervised": {"hyperparameters": {"n_epochs": 2, "batch_size": "auto"}},
        },
    }
    response = client.post("/v1/fine_tuning/jobs", json=body)
    assert response.status_code == 200, response.text
    job = response.json()
    assert job["id"].startswith("ftjob-")
    assert job["object"] == "fine_tuning.job"
    assert (job["status"], job["model"], job["training_file"], job["seed"]) == (
        "queued",
        "loragate-tiny",
        file_id,
        42,
    )
    assert job["hyperparameters"]["n_epochs"] == 2
    assert job["hyperparameters"]["batch_size"] == 8  # "auto" resolved
    assert job["fine_tuned_model"] is None
    assert job["error"] is None
    assert job["method"]["supervised"]["hyperparameters"]["n_epochs"] == 2
    assert job["lora"]["r"] == 16
    assert client.get(f"/v1/fine_tuning/jobs/{job['id']}").json() == job
    assert client.get(f"/v1/fine_tunes/{job['id']}").json() == job


def test_create_on_design_card_path_with_lora(client: TestClient, file_id: str) -> None:
    body = {
        "model": "loragate-tiny",
        "training_file": file_id,
        "validation_file": file_id,
        "hyperparameters": {"n_epochs": 1, "learning_rate": 5e-4, "early_stopping_patience": 2},
        "lora": {"r": 8, "alpha": 16, "dropout": 0.0, "target_modules": ["q_proj", "v_proj"]},
    }
    job = client.post("/v1/fine_tunes", json=body).json()
    assert job["status"] == "queued"
    assert job["validation_file"] == file_id
    assert job["lora"] == {
        "r": 8,
        "alpha": 16,
        "dropout": 0.0,
        "target_modules": ["q_proj", "v_proj"],
        "modules_to_save": [],
    }
    assert job["hyperparameters"]["learning_rate"] == 5e-4
    assert job["hyperparameters"]["early_stopping_patience"] == 2


REFUSED: list[tuple[str, dict[str, Any], str, str]] = [
    ("rank 0", {"lora": {"r": 0}}, "lora.r", "must be >= 1"),
    ("rank 64", {"lora": {"r": 64}}, "lora.r", "above the engine's max LoRA rank 16"),
    (
        "lm_head",
        {"lora": {"target_modules": ["q_proj", "lm_head"]}},
        "lora.target_modules",
        "LM head",
    ),
    (
        "modules_to_save",
        {"lora": {"modules_to_save": ["embed_tokens"]}},
        "lora.modules_to_save",
        "non-LoRA",
    ),
    ("epochs 0", {"hyperparameters": {"n_epochs": 0}}, "n_epochs", "n_epochs must be"),
    (
        "negative lr",
        {"hyperparameters": {"learning_rate_multiplier": -1}},
        "learning_rate_multiplier",
        "> 0",
    ),
    ("unknown file", {"training_file": "file-nope"}, "training_file", "does not exist"),
    (
        "unknown validation file",
        {"validation_file": "file-nope"},
        "validation_file",
        "does not exist",
    ),
    ("bad suffix", {"suffix": "no spaces allowed"}, "suffix", "suffix must be"),
    ("unknown model", {"model": "gpt-4o"}, "model", "not a base model here"),
    ("adapter as base", {"model": "ft:loragate-tiny:x:ftjob-1"}, "model", "is an adapter"),
    ("dpo", {"method": {"type": "dpo"}}, "method.type", "not supported"),
]


@pytest.mark.parametrize(("case", "change", "param", "words"), REFUSED, ids=[r[0] for r in REFUSED])
def test_refused_before_anything_is_queued(
    client: TestClient, file_id: str, case: str, change: dict[str, Any], param: str, words: str
) -> None:
    body = {"model": "loragate-tiny", "training_file": file_id, "suffix": "ok"} | change
    response = client.post("/v1/fine_tuning/jobs", json=body)
    assert response.status_code == 400, response.text
    error = response.json()["error"]
    assert error["param"] == param
    assert words in error["message"]
    assert client.get("/v1/fine_tuning/jobs").json()["data"] == []


def test_every_problem_is_listed_at_once(client: TestClient, file_id: str) -> None:
    body = {
        "model": "loragate-tiny",
        "training_file": "file-nope",
        "suffix": "a b",
        "lora": {"r": 64},
    }
    message = client.post("/v1/fine_tunes", json=body).json()["error"]["message"]
    for part in ("lora.r", "training_file", "suffix"):
        assert part in message


def test_wrong_types_are_400_naming_the_field(client: TestClient, file_id: str) -> None:
    body = {
        "model": "loragate-tiny",
        "training_file": file_id,
        "hyperparameters": {"n_epochs": "many"},
    }
    response = client.post("/v1/fine_tuning/jobs", json=body)
    assert response.status_code == 400
    error = response.json()["error"]
    assert error["type"] == "invalid_request_error"
    assert error["param"].startswith("hyperparameters.n_epochs")


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("suffix", "s" * 65),
        ("suffix", "nul\u0000byte"),
        ("training_file", "f" * 65),
        ("seed", 2**31),
        ("model", "m" * 513),
    ],
)
def test_values_too_big_for_their_column_are_400(
    client: TestClient, file_id: str, field: str, value: object
) -> None:
    body = {"model": "loragate-tiny", "training_file": file_id, field: value}
    response = client.post("/v1/fine_tuning/jobs", json=body)
    assert response.status_code == 400, response.text
    assert response.json()["error"]["param"] == field
    assert client.get("/v1/fine_tuning/jobs").json()["data"] == []


def test_list_pages_with_after_and_has_more(client: TestClient, file_id: str) -> None:
    ids = [create(client, file_id)["id"] for _ in range(3)]
    first = client.get("/v1/fine_tuning/jobs", params={"limit": 2}).json()
    assert [job["id"] for job in first["data"]] == [ids[2], ids[1]]
    assert first["has_more"] is True
    rest = client.get("/v1/fine_tuning/jobs", params={"limit": 2, "after": ids[1]}).json()
    assert [job["id"] for job in rest["data"]] == [ids[0]]
    assert rest["has_more"] is False


def create(client: TestClient, file_id: str) -> dict[str, Any]:
    body = {"model": "loragate-tiny", "training_file": file_id, "hyperparameters": {"n_epochs": 1}}
    job: dict[str, Any] = client.post("/v1/fine_tuning/jobs", json=body).json()
    return job


def test_cancel_events_and_stream(client: TestClient, file_id: str) -> None:
    job = create(client, file_id)
    cancelled = client.post(f"/v1/fine_tuning/jobs/{job['id']}/cancel").json()
    assert cancelled["status"] == "cancelled"
    assert cancelled["finished_at"] is not None
    again = client.post(f"/v1/fine_tuning/jobs/{job['id']}/cancel")
    assert again.status_code == 400
    assert "already cancelled" in again.json()["error"]["message"]
    events = client.get(f"/v1/fine_tuning/jobs/{job['id']}/events").json()
    assert events["object"] == "list"
    assert next(e["message"] for e in events["data"]) == "Job cancelled by request"
    assert all(e["object"] == "fine_tuning.job.event" for e in events["data"])
    streamed = client.get(f"/v1/fine_tuning/jobs/{job['id']}/events", params={"stream": "true"})
    assert streamed.headers["content-type"].startswith("text/event-stream")
    chunks = [
        line[len("data: ") :] for line in streamed.text.splitlines() if line.startswith("data: ")
    ]
    assert chunks[-1] == "[DONE]"
    assert [json.loads(c)["message"] for c in chunks[:-1]] == [
        e["message"] for e in reversed(events["data"])
    ]
    checkpoints = client.get(f"/v1/fine_tuning/jobs/{job['id']}/checkpoints").json()
    assert checkpoints == {
        "object": "list",
        "data": [],
        "has_more": False,
        "first_id": None,
        "last_id": None,
    }


def test_unknown_job_is_404(client: TestClient) -> None:
    for path in ("", "/events", "/checkpoints"):
        response = client.get(f"/v1/fine_tuning/jobs/ftjob-nope{path}")
        assert response.status_code == 404
        assert response.json()["error"]["code"] == "job_not_found"
    assert client.post("/v1/fine_tuning/jobs/ftjob-nope/cancel").status_code == 404


def test_a_file_in_use_is_not_deleted(client: TestClient, file_id: str) -> None:
    job = create(client, file_id)
    response = client.delete(f"/v1/files/{file_id}")
    assert response.status_code == 409
    assert job["id"] in response.json()["error"]["message"]
    client.post(f"/v1/fine_tuning/jobs/{job['id']}/cancel")
    assert client.delete(f"/v1/files/{file_id}").status_code == 200


def test_a_job_that_would_not_fit_the_trainers_memory_is_refused_with_the_estimate(
    client: TestClient, settings: Settings, file_id: str
) -> None:
    body: dict[str, Any] = {"model": "loragate-tiny", "training_file": file_id}
    body["hyperparameters"] = {"batch_size": 64, "max_seq_len": 1024}
    settings.finetune.memory_limit_gib = 0.5  # what `loragate up` plans for a small GPU
    refused = client.post("/v1/fine_tuning/jobs", json=body)
    assert refused.status_code == 400, refused.text
    error = refused.json()["error"]
    assert error["code"] == "insufficient_memory"
    assert "GiB" in error["message"]
    assert "batch_size 64" in error["message"]
    assert client.get("/v1/fine_tuning/jobs").json()["data"] == []
    settings.finetune.memory_limit_gib = 80.0
    assert client.post("/v1/fine_tuning/jobs", json=body).status_code == 200
