"""The official ``openai`` client against a real gateway (uvicorn on a free port) and a real
worker: upload, create, follow, list, checkpoints, cancel. The engine is not needed here."""

from __future__ import annotations

import re
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import openai
import pytest
import uvicorn
from openai import OpenAI
from typer.testing import CliRunner

from gateway.app import create_app
from gateway.auth.bootstrap import ensure_admin_key
from gateway.cli.main import app
from gateway.settings import Settings
from tests.helpers import free_port, wait_for
from tests.trainer.jobs.helpers import (
    MODEL_NAME,
    build_tiny_model,
    wait_until,
    worker_config,
    write_reviews,
)
from trainer.jobs.worker import Worker

runner = CliRunner()


@pytest.fixture(scope="module")
def data_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("ft-client") / "data"


@pytest.fixture(scope="module")
def tiny_model(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_tiny_model(tmp_path_factory.mktemp("ft-client-model"))


@pytest.fixture(scope="module")
def client(data_dir: Path, tiny_model: Path) -> Iterator[OpenAI]:
    settings = Settings(
        data_dir=data_dir,
        base_model=str(tiny_model),
        served_model_name=MODEL_NAME,
        upstreams=["http://127.0.0.1:9"],
    )
    port = free_port()
    server = uvicorn.Server(
        uvicorn.Config(create_app(settings), host="127.0.0.1", port=port, log_level="warning")
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    wait_for(f"http://127.0.0.1:{port}/health/live", timeout_s=30)
    key_file = ensure_admin_key(settings)  # auth is on, as by default
    assert key_file is not None
    api_key = key_file.read_text().strip()
    yield OpenAI(base_url=f"http://127.0.0.1:{port}/v1", api_key=api_key, max_retries=0)
    server.should_exit = True
    thread.join(timeout=10)


@pytest.fixture(scope="module")
def worker(data_dir: Path, tiny_model: Path) -> Iterator[Worker]:
    running = Worker(worker_config(data_dir, tiny_model))
    thread = threading.Thread(target=running.run_forever, daemon=True)
    thread.start()
    yield running
    running.stop()
    thread.join(timeout=60)


def test_files_with_the_openai_client(client: OpenAI, tmp_path: Path) -> None:
    path = write_reviews(tmp_path / "reviews.jsonl", 20)
    with path.open("rb") as handle:
        file = client.files.create(file=handle, purpose="fine-tune")
    assert file.id.startswith("file-")
    assert file.status == "processed"
    assert file.bytes == path.stat().st_size
    assert client.files.retrieve(file.id).filename == "reviews.jsonl"
    assert file.id in [f.id for f in client.files.list()]
    assert client.files.content(file.id).read() == path.read_bytes()
    assert client.files.delete(file.id).deleted
    with pytest.raises(openai.NotFoundError):
        client.files.retrieve(file.id)
    with pytest.raises(openai.BadRequestError, match=r"bad\.jsonl:1:"):
        client.files.create(file=("bad.jsonl", b'{"messages": []}\n'), purpose="fine-tune")


def test_a_fine_tune_with_the_openai_client(client: OpenAI, worker: Worker, tmp_path: Path) -> None:
    with write_reviews(tmp_path / "reviews.jsonl", 40).open("rb") as handle:
        file = client.files.create(file=handle, purpose="fine-tune")
    with pytest.raises(openai.BadRequestError, match="max LoRA rank"):
        client.fine_tuning.jobs.create(
            model=MODEL_NAME, training_file=file.id, extra_body={"lora": {"r": 64}}
        )
    job = client.fine_tuning.jobs.create(
        model=MODEL_NAME,
        training_file=file.id,
        suffix="reviews",
        hyperparameters={"n_epochs": 2, "batch_size": 4, "learning_rate_multiplier": 2.0},
        extra_body={"lora": {"r": 8}},
    )
    assert job.status == "queued"
    done = wait_until(
        lambda: (
            (j := client.fine_tuning.jobs.retrieve(job.id)).status in ("succeeded", "failed") and j
        ),
        300,
        "the job finished",
    )
    assert done.status == "succeeded", done.error
    assert done.fine_tuned_model == f"ft:{MODEL_NAME}:reviews:{job.id}"
    assert done.trained_tokens
    assert done.hyperparameters.n_epochs == 2
    assert job.id in [j.id for j in client.fine_tuning.jobs.list(limit=10)]
    events = client.fine_tuning.jobs.list_events(job.id, limit=100).data
    assert events[0].message == "The job has successfully completed"
    metrics: list[dict[str, Any]] = [e.data for e in events if e.type == "metrics"]  # type: ignore[misc]
    losses = [data["train_loss"] for data in metrics if data.get("train_loss")]
    assert losses
    checkpoints = client.fine_tuning.jobs.checkpoints.list(job.id).data
    assert checkpoints
    assert checkpoints[0].metrics.valid_loss is not None
    result = (done.model_extra or {})["result"]
    assert set(result["adapter"]) >= {"exact_match", "mean_loss"}


def test_cancel_with_the_openai_client(client: OpenAI, tmp_path: Path) -> None:
    with write_reviews(tmp_path / "reviews.jsonl", 20).open("rb") as handle:
        file = client.files.create(file=handle, purpose="fine-tune")
    job = client.fine_tuning.jobs.create(
        model=MODEL_NAME, training_file=file.id, hyperparameters={"n_epochs": 50}
    )
    cancelled = client.fine_tuning.jobs.cancel(job.id)
    assert cancelled.status == "cancelled"
    with pytest.raises(openai.BadRequestError, match="already cancelled"):
        client.fine_tuning.jobs.cancel(job.id)


def test_the_finetune_cli(client: OpenAI, worker: Worker, tmp_path: Path, data_dir: Path) -> None:
    url = str(client.base_url)
    path = write_reviews(tmp_path / "cli.jsonl", 24)
    args = ["finetune", "create", str(path), "--model", MODEL_NAME, "--suffix", "cli"]
    options = ["--epochs", "1", "--batch-size", "4", "--follow", "--url", url]
    result = runner.invoke(app, [*args, *options, "--api-key", client.api_key])
    assert result.exit_code == 0, result.output
    assert "succeeded" in result.output
    assert f"ft:{MODEL_NAME}:cli:" in result.output
    assert "exact match" in result.output
    found = re.search(r"ftjob-[0-9a-f]+", result.output)
    assert found is not None
    key_env = {"LORAGATE_API_KEY": client.api_key}
    show = runner.invoke(app, ["finetune", "show", found.group(0), "--url", url], env=key_env)
    assert show.exit_code == 0, show.output
    assert "The job has successfully completed" in show.output
    key_file_env = {"LORAGATE_DATA_DIR": str(data_dir)}  # the admin key file is the default
    listed = runner.invoke(app, ["finetune", "list", "--url", url], env=key_file_env)
    assert listed.exit_code == 0, listed.output
    assert "succeeded" in listed.output  # (the table is too narrow here for whole ids)
    refused = runner.invoke(app, ["finetune", "list", "--url", url, "--api-key", "lg-wrong"])
    assert refused.exit_code == 1
    assert "error 401" in refused.output
    cancel = runner.invoke(app, ["finetune", "cancel", found.group(0), "--url", url], env=key_env)
    assert cancel.exit_code == 1
    assert "already succeeded" in cancel.output
