"""A job created with "auto" (or omitted) hyperparameters shows the values they resolved to."""

from __future__ import annotations

from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from gateway.settings import Settings
from tests.trainer.jobs.helpers import write_reviews
from trainer.jobs.auto import auto_batch_size, auto_epochs, settle_auto


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


def test_an_auto_batch_size_is_capped_at_what_fits_the_trainers_memory(
    client: TestClient, settings: Settings, tmp_path: Path
) -> None:
    data = write_reviews(tmp_path / "reviews.jsonl", 200).read_bytes()
    uploaded = client.post(
        "/v1/files", files={"file": ("r.jsonl", data)}, data={"purpose": "fine-tune"}
    )
    body = {
        "model": "loragate-tiny",
        "training_file": uploaded.json()["id"],
        "hyperparameters": {"max_seq_len": 1024},
    }
    need_at = {}
    for batch in (8, 16, 32, 64):  # what the explicit sizes would need, from the refusals
        settings.finetune.memory_limit_gib = 1e-6
        refused = client.post(
            "/v1/fine_tuning/jobs",
            json=body | {"hyperparameters": {"batch_size": batch, "max_seq_len": 1024}},
        ).json()["error"]["message"]
        need_at[batch] = float(refused.split("about ")[1].split(" GiB")[0])
    # A budget between batch 16's and batch 32's needs: auto takes 16 where it would take
    # more (a 200-example set alone resolves to 8, so ask for the rule's largest: 64).
    settings.finetune.memory_limit_gib = (need_at[16] + need_at[32]) / 2
    monkeypatched = body | {"hyperparameters": {"max_seq_len": 1024, "batch_size": "auto"}}
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr("trainer.jobs.auto.BATCH_SHARE", 1.0)
        job = client.post("/v1/fine_tuning/jobs", json=monkeypatched).json()
    assert job["hyperparameters"]["batch_size"] == 16, job
    assert job["auto_hyperparameters"]["max_batch_size"] == 16


def test_a_provisional_auto_batch_size_stays_within_the_cap_when_settled() -> None:
    provisional = {
        "batch_size": 8,
        "auto": {"resolved": ["batch_size"], "train_examples": None, "max_batch_size": 16},
    }
    settled = settle_auto(provisional, train_examples=100_000)  # alone: 64
    assert settled is not None
    assert settled["batch_size"] == 16
    assert auto_batch_size(100_000) == 64
