"""The adapter registry and the engine-compatibility checks, on real peft adapters."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from adapters.compat import check_adapter_dir
from adapters.lora_rules import modules_to_save_problem, rank_problem, targets_problem
from adapters.record import AdapterRecord, check_suffix
from adapters.registry import AdapterNotFound, AdapterRegistry
from tests.lora_fixtures import make_random_adapter
from trainer.default_model import ensure_default_model


@pytest.fixture(scope="module")
def base_model(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return ensure_default_model(tmp_path_factory.mktemp("base") / "m")


@pytest.fixture(scope="module")
def adapter_dir(base_model: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_random_adapter(base_model, tmp_path_factory.mktemp("adapter") / "a")


def record(name: str = "ft:loragate-tiny:demo:ftjob-1") -> AdapterRecord:
    return AdapterRecord(
        name=name, base_model="loragate-tiny", rank=16, alpha=32, target_modules=["all-linear"]
    )


def test_publish_list_get_delete(adapter_dir: Path, tmp_path: Path) -> None:
    registry = AdapterRegistry(tmp_path / "adapters")
    assert registry.list() == []
    published = registry.publish(adapter_dir, record())
    assert Path(published.artifact_dir).is_dir()
    assert [r.name for r in registry.list()] == ["ft:loragate-tiny:demo:ftjob-1"]
    # another process (a second gateway worker) sees the same registry
    assert AdapterRegistry(tmp_path / "adapters").get(published.name) == published
    registry.delete(published.name)
    with pytest.raises(AdapterNotFound):
        registry.get(published.name)
    assert not Path(published.artifact_dir).exists()


def test_publishing_twice_is_refused(adapter_dir: Path, tmp_path: Path) -> None:
    registry = AdapterRegistry(tmp_path)
    registry.publish(adapter_dir, record())
    with pytest.raises(FileExistsError):
        registry.publish(adapter_dir, record())


def test_leftover_staging_folders_are_ignored(adapter_dir: Path, tmp_path: Path) -> None:
    (tmp_path / ".staging-crashed").mkdir()
    registry = AdapterRegistry(tmp_path)
    registry.publish(adapter_dir, record())
    assert len(registry.list()) == 1


def test_a_peft_lora_adapter_is_servable(adapter_dir: Path) -> None:
    assert check_adapter_dir(adapter_dir, max_lora_rank=16) == []


def test_rank_above_the_engine_limit(adapter_dir: Path) -> None:
    problems = check_adapter_dir(adapter_dir, max_lora_rank=8)
    assert any("above the engine's max LoRA rank 8" in p for p in problems)


def test_modules_to_save_are_refused(adapter_dir: Path, tmp_path: Path) -> None:
    copy = tmp_path / "copy"
    copy.mkdir()
    for item in adapter_dir.iterdir():
        (copy / item.name).write_bytes(item.read_bytes())
    config = json.loads((copy / "adapter_config.json").read_text())
    config["modules_to_save"] = ["lm_head"]
    (copy / "adapter_config.json").write_text(json.dumps(config))
    assert any("modules_to_save" in p for p in check_adapter_dir(copy, max_lora_rank=16))


def test_rank_and_target_rules() -> None:
    assert rank_problem(16, 16) is None
    assert rank_problem(12, 16) is None  # vLLM loads any rank up to its maximum
    assert rank_problem(32, 16) is not None
    assert targets_problem(["q_proj", "v_proj"]) is None
    assert targets_problem(["q_proj", "lm_head"]) is not None
    assert modules_to_save_problem(["embed_tokens"]) is not None


def test_suffix_rules() -> None:
    assert check_suffix("reviews-v2") is None
    assert check_suffix("") is not None
    assert check_suffix("has:colon") is not None
    assert check_suffix("x" * 41) is not None
