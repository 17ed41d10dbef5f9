"""A job created with "auto" (or omitted) hyperparameters shows the values they resolved to."""

from __future__ import annotations

from pathlib import Path

from fastapi.testclient import TestClient

from tests.trainer.jobs.helpers import write_reviews
from trainer.jobs.auto import auto_epochs


def test_auto_hyperparameters_are_resolved_and_shown(client: TestClient, tmp_path: Path) -> None:
    data = write_reviews(tmp_path / "reviews.jsonl", 20).read_bytes()
    uploaded = client.post(
        "/v1/files", files={"file": ("r.jsonl", data)}, data={"purpose": "fine-tune"}
    )
    file_id = uploaded.json()["id"]
    body = {
        "model": "loragate-tiny",
        "training_file": file_id,
        "hyperparameters": {"n_epochs": "auto", "batch_size": 4},
    }
    response = client.post("/v1/fine_tuning/jobs", json=body)
    assert response.status_code == 200, response.text
    job = response.json()
    train = 16  # 20 examples, less the 20% held out
    assert job["hyperparameters"]["n_epochs"] == auto_epochs(train) == 7  # a small set
    assert job["hyperparameters"]["batch_size"] == 4  # given: kept
    assert job["hyperparameters"]["learning_rate"] == 1e-3  # the tiny model's rate
    assert job["hyperparameters"]["learning_rate_multiplier"] == 1.0
    auto = job["auto_hyperparameters"]
    assert auto["resolved"] == ["n_epochs", "learning_rate", "learning_rate_multiplier"]
    assert auto["train_examples"] == train
    assert 500_000 < auto["base_model_parameters"] < 2_000_000
    assert job["method"]["supervised"]["hyperparameters"]["n_epochs"] == 7
    assert client.get(f"/v1/fine_tuning/jobs/{job['id']}").json() == job
