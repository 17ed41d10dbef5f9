"""What ``loragate up`` starts: the worker can be left out (jobs then stay queued)."""

from __future__ import annotations

from pathlib import Path

from gateway.cli.stack import process_specs
from gateway.settings import Settings


def names(settings: Settings) -> list[str]:
    return [spec.name for spec in process_specs(settings)]


def test_up_starts_the_engine_the_gateway_and_a_worker(tmp_path: Path) -> None:
    assert names(Settings(data_dir=tmp_path)) == ["engine", "gateway", "worker"]


def test_the_worker_can_be_left_out(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path, finetune={"worker": False})
    assert names(settings) == ["engine", "gateway"]
    external = Settings(
        data_dir=tmp_path, upstreams=["http://127.0.0.1:9"], finetune={"worker": False}
    )
    assert names(external) == ["gateway"]
