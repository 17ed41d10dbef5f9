"""Where each embedded engine runs, and what is left for the fine-tuning worker.

``loragate up --engines N`` starts N vLLM servers on consecutive ports. On a CPU host each
gets its own cores (``VLLM_CPU_OMP_THREADS_BIND``): two engines left to themselves would
both bind their busy-waiting thread to core 0. On a GPU host each engine gets its own GPU
(``CUDA_VISIBLE_DEVICES``), and the trainer gets GPUs of its own when there are enough:

- ``finetune.devices`` set: the trainer has those GPUs; the engines take the others.
- unset, more GPUs than engines: the trainer takes the last GPU alone.
- unset, no GPU to spare: the trainer shares the first engine's GPU, and that engine's
  memory share is lowered to leave the trainer ``finetune.gpu_budget_gib`` of it
  (vLLM reserves its ``--gpu-memory-utilization`` share of the card up front).

An engine alone on its GPU takes ``engine.gpu_memory_share`` (0.9) of it; on the CPU the
share is ``engine.memory_share`` of RAM (0.1 by default), as before.
"""

from __future__ import annotations

import shutil
import subprocess
from dataclasses import dataclass

from gateway.settings import Settings

MIN_ENGINE_SHARE = 0.3
"""Below this an engine would hold too little KV cache to be worth starting."""


@dataclass(frozen=True, slots=True)
class Gpu:
    index: int
    memory_gib: float


@dataclass(frozen=True, slots=True)
class EnginePlacement:
    index: int
    port: int
    memory_share: float
    cpu_bind: str | None = None
    """VLLM_CPU_OMP_THREADS_BIND; None: vLLM's own choice."""
    cuda_devices: str | None = None
    """CUDA_VISIBLE_DEVICES; None on a CPU host."""


@dataclass(frozen=True, slots=True)
class Plan:
    engines: list[EnginePlacement]
    trainer_devices: str | None
    """CUDA_VISIBLE_DEVICES of the fine-tuning worker; None on a CPU host."""
    trainer_memory_gib: float | None = None
    """GPU memory one job may use: its own GPU's (less 5%), or the budget on a shared one."""


class PlacementError(ValueError):
    """The engines asked for cannot be placed on this host."""


def detect_gpus() -> list[Gpu]:
    """This host's NVIDIA GPUs (none when nvidia-smi is missing or fails)."""
    if shutil.which("nvidia-smi") is None:
        return []
    query = ["nvidia-smi", "--query-gpu=index,memory.total", "--format=csv,noheader,nounits"]
    try:
        out = subprocess.run(query, capture_output=True, text=True, timeout=10, check=True)
    except (OSError, subprocess.SubprocessError):
        return []
    gpus = []
    for line in out.stdout.splitlines():
        index, _, mib = line.partition(",")
        if index.strip().isdigit():
            gpus.append(Gpu(int(index), float(mib.strip() or 0) / 1024))
    return gpus


def plan(settings: Settings, cores: list[int], gpus: list[Gpu]) -> Plan:
    """The placement of ``settings.engine.count`` engines on these cores and GPUs."""
    if not gpus:
        return Plan(_cpu_engines(settings, cores), None)
    return _gpu_plan(settings, gpus)


def _cpu_engines(settings: Settings, cores: list[int]) -> list[EnginePlacement]:
    engine, count = settings.engine, settings.engine.count
    binds: list[str | None]
    if engine.cpu_binds:
        if len(engine.cpu_binds) != count:
            raise PlacementError(
                f"engine.cpu_binds names {len(engine.cpu_binds)} engines, not {count}"
            )
        binds = list(engine.cpu_binds)
    elif count == 1:
        binds = [None]
    else:
        binds = [_core_list(part) for part in _split(cores, count)]
    return [
        EnginePlacement(i, engine.port + i, engine.memory_share, cpu_bind=binds[i])
        for i in range(count)
    ]


def _split(cores: list[int], count: int) -> list[list[int]]:
    """``count`` groups of cores; with fewer cores than engines, engines share cores."""
    if len(cores) < count:
        return [[cores[i % len(cores)]] for i in range(count)]
    size = len(cores) // count
    return [cores[i * size : (i + 1) * size] for i in range(count)]


def _core_list(cores: list[int]) -> str:
    return ",".join(str(core) for core in cores)


def _gpu_plan(settings: Settings, gpus: list[Gpu]) -> Plan:
    engine, count = settings.engine, settings.engine.count
    reserved = [g for g in gpus if g.index in set(settings.finetune.devices)]
    free = [g for g in gpus if g not in reserved]
    if not settings.finetune.devices and len(gpus) > count:
        reserved, free = gpus[-1:], gpus[:-1]
    if len(free) < count:
        raise PlacementError(
            f"{count} engine(s) need {count} GPU(s); {len(free)} of {len(gpus)} are free "
            "for engines (see finetune.devices)"
        )
    shared = not reserved  # the trainer shares the first engine's GPU
    engines = []
    for i, gpu in enumerate(free[:count]):
        share = engine.gpu_memory_share
        if shared and i == 0:
            share = min(share, 1 - settings.finetune.gpu_budget_gib / gpu.memory_gib)
            if share < MIN_ENGINE_SHARE:
                raise PlacementError(
                    f"GPU {gpu.index} has {gpu.memory_gib:.0f} GiB: too little for an engine "
                    f"and the trainer's {settings.finetune.gpu_budget_gib:g} GiB budget"
                )
        engines.append(
            EnginePlacement(i, engine.port + i, round(share, 3), cuda_devices=str(gpu.index))
        )
    trainer = _core_list([g.index for g in reserved]) if reserved else str(free[0].index)
    if reserved:
        memory = round(min(g.memory_gib for g in reserved) * 0.95, 1)
    else:
        memory = settings.finetune.gpu_budget_gib
    return Plan(engines, trainer, memory)
