"""Where ``loragate up --engines N`` puts each engine and the trainer: cores, GPUs, shares."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest

from gateway.cli.stack import process_specs
from gateway.engine.placement import Gpu, PlacementError, plan
from gateway.settings import Settings


def settings(tmp_path: Path, count: int = 1, **finetune: Any) -> Settings:
    return Settings(data_dir=tmp_path, engine={"count": count, "port": 9100}, finetune=finetune)


def gpus(count: int, gib: float = 80) -> list[Gpu]:
    return [Gpu(i, gib) for i in range(count)]


def test_one_engine_on_the_cpu_is_left_to_vllm(tmp_path: Path) -> None:
    placed = plan(settings(tmp_path), [0, 1], [])
    assert [(e.port, e.cpu_bind, e.cuda_devices, e.memory_share) for e in placed.engines] == [
        (9100, None, None, 0.1)
    ]
    assert placed.trainer_devices is None


def test_several_engines_on_the_cpu_get_their_own_cores(tmp_path: Path) -> None:
    two = plan(settings(tmp_path, 2), [0, 1], [])
    assert [(e.port, e.cpu_bind) for e in two.engines] == [(9100, "0"), (9101, "1")]
    four_cores = plan(settings(tmp_path, 2), [0, 1, 2, 3], [])
    assert [e.cpu_bind for e in four_cores.engines] == ["0,1", "2,3"]
    crowded = plan(settings(tmp_path, 3), [0, 1], [])
    assert [e.cpu_bind for e in crowded.engines] == ["0", "1", "0"]


def test_one_gpu_is_shared_with_the_trainer_within_its_budget(tmp_path: Path) -> None:
    placed = plan(settings(tmp_path, gpu_budget_gib=24), [0, 1], gpus(1))
    (engine,) = placed.engines
    assert (engine.cuda_devices, engine.memory_share) == ("0", 0.7)  # 1 - 24/80
    assert (placed.trainer_devices, placed.trainer_memory_gib) == ("0", 24)


def test_a_spare_gpu_goes_to_the_trainer(tmp_path: Path) -> None:
    placed = plan(settings(tmp_path), [0], gpus(2))
    assert [(e.cuda_devices, e.memory_share) for e in placed.engines] == [("0", 0.9)]
    assert (placed.trainer_devices, placed.trainer_memory_gib) == ("1", 76.0)  # 95% of it


def test_two_engines_on_two_gpus_share_the_first_with_the_trainer(tmp_path: Path) -> None:
    placed = plan(settings(tmp_path, 2), [0], gpus(2))
    assert [(e.port, e.cuda_devices, e.memory_share) for e in placed.engines] == [
        (9100, "0", 0.7),
        (9101, "1", 0.9),
    ]
    assert placed.trainer_devices == "0"


def test_eight_gpus_with_devices_reserved_for_training(tmp_path: Path) -> None:
    placed = plan(settings(tmp_path, 4, devices=[6, 7]), [0], gpus(8))
    assert [e.cuda_devices for e in placed.engines] == ["0", "1", "2", "3"]
    assert {e.memory_share for e in placed.engines} == {0.9}
    assert placed.trainer_devices == "6,7"


@pytest.mark.parametrize(
    ("count", "devices", "available", "gib"),
    [(3, [], 2, 80.0), (2, [1], 2, 80.0), (1, [], 1, 16.0)],
)
def test_what_cannot_be_placed_is_refused_before_anything_starts(
    tmp_path: Path, count: int, devices: list[int], available: int, gib: float
) -> None:
    with pytest.raises(PlacementError):
        plan(settings(tmp_path, count, devices=devices), [0], gpus(available, gib))


def test_the_children_of_up_carry_their_placement(tmp_path: Path) -> None:
    config = settings(tmp_path, 2)
    specs = {spec.name: spec for spec in process_specs(config, plan(config, [0, 1], gpus(2)))}
    assert set(specs) == {"engine-0", "engine-1", "gateway", "worker"}
    for i in (0, 1):
        engine = specs[f"engine-{i}"]
        argv = " ".join(engine.argv)
        assert f"--port {9100 + i}" in argv
        assert engine.env["CUDA_VISIBLE_DEVICES"] == str(i)
        assert engine.niceness == 10  # below the gateway and the worker
        assert engine.nice_autogroup  # its whole session, or niceness would change nothing
    assert "--gpu-memory-utilization 0.7" in " ".join(specs["engine-0"].argv)
    assert specs["worker"].env["CUDA_VISIBLE_DEVICES"] == "0"
    budget = "LORAGATE_FINETUNE__MEMORY_LIMIT_GIB"  # jobs are checked against it at creation
    assert specs["worker"].env[budget] == specs["gateway"].env[budget] == "24.0"
    assert specs["gateway"].niceness == specs["worker"].niceness == 0
    assert specs["gateway"].env["LORAGATE_ENGINE__COUNT"] == "2"


def test_cpu_children_bind_each_engine_to_its_own_core(tmp_path: Path) -> None:
    config = settings(tmp_path, 2)
    specs = {spec.name: spec for spec in process_specs(config, plan(config, [0, 1], []))}
    binds = [specs[f"engine-{i}"].env["VLLM_CPU_OMP_THREADS_BIND"] for i in (0, 1)]
    assert binds == ["0", "1"]
    assert "LORAGATE_FINETUNE__MEMORY_LIMIT_GIB" not in specs["gateway"].env  # no GPU: no check
    assert specs["worker"].env.get("CUDA_VISIBLE_DEVICES") == os.environ.get(
        "CUDA_VISIBLE_DEVICES"
    )  # no GPU to plan: left as it was
    one = Settings(data_dir=tmp_path, engine={"count": 1})
    names = [spec.name for spec in process_specs(one, plan(one, [0, 1], []))]
    assert names == ["engine", "gateway", "worker"]


def test_the_engine_session_keeps_its_share_when_told(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("LORAGATE_ENGINE__NICE_AUTOGROUP", "false")
    config = Settings(data_dir=tmp_path, engine={"count": 1})
    (engine, *_) = process_specs(config, plan(config, [0, 1], []))
    assert (engine.name, engine.niceness, engine.nice_autogroup) == ("engine", 10, False)
