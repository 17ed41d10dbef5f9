"""The engines: how the embedded ones are started, how one is chosen, how they are found."""

from __future__ import annotations

from pathlib import Path

from pydantic import BaseModel, Field, field_validator

from adapters.lora_rules import max_rank_problem


class EngineSettings(BaseModel):
    """How the embedded vLLM server is started."""

    host: str = "127.0.0.1"
    port: int = Field(8001, ge=1, le=65535, description="The first engine's port.")
    count: int = Field(
        1, ge=1, le=64, description="Engines `loragate up` starts, on consecutive ports."
    )
    nice: int = Field(
        10,
        ge=0,
        le=19,
        description="CPU niceness of the embedded engines: their busy-waiting threads then "
        "leave the gateway and the worker their share of the CPU.",
    )
    nice_autogroup: bool = Field(
        True,
        description="Apply `nice` to the engine's session (its autogroup) too: under "
        "kernel.sched_autogroup_enabled sessions share the CPU equally whatever their "
        "processes' niceness, so without it `nice` does nothing against the gateway.",
    )
    cpu_binds: list[str] = Field(
        default_factory=list,
        description="VLLM_CPU_OMP_THREADS_BIND of each engine (CPU hosts); unset: the cores "
        "split evenly between the engines when there are several.",
    )
    adapter_dir: Path | None = Field(
        None,
        description="The adapter registry's folder as the engines see it (a shared volume "
        "mounted elsewhere); unset: the gateway's own path.",
    )
    max_lora_rank: int = Field(16, description="Largest LoRA rank the engine accepts.")
    max_loras: int = Field(4, ge=1, description="Adapters batched together at once.")
    memory_share: float = Field(
        0.1, gt=0, le=1, description="vLLM --gpu-memory-utilization on the CPU (share of RAM)."
    )
    gpu_memory_share: float = Field(
        0.9,
        gt=0,
        le=1,
        description="vLLM --gpu-memory-utilization of an engine alone on its GPU (lowered "
        "when the trainer shares the card: see finetune.gpu_budget_gib).",
    )
    max_model_len: int = Field(2048, ge=16)
    dtype: str = Field("auto", description="vLLM --dtype; the default model is float32.")
    extra_args: list[str] = Field(default_factory=list, description="Appended to vLLM's argv.")
    startup_timeout_s: float = Field(600, gt=0)
    restart_backoff_initial_s: float = Field(1.0, gt=0)
    restart_backoff_max_s: float = Field(30.0, gt=0)

    @field_validator("max_lora_rank")
    @classmethod
    def _legal_rank(cls, value: int) -> int:
        problem = max_rank_problem(value)
        if problem:
            raise ValueError(problem)
        return value


class RoutingSettings(BaseModel):
    """How a request's engine is chosen among several (see :mod:`gateway.fleet.policy`).

    Loads are in requests per unit of an engine's static capacity; the defaults come from
    bench/fleet_sim.py (README, "Routing across engines").
    """

    busy_load: float = Field(
        16.0, gt=0, description="Load at which an engine counts as busy: a loaded adapter spills."
    )
    balance: float = Field(
        0.5,
        ge=0,
        description="Busy also needs a load past (1 + balance) x the fleet's mean load.",
    )
    slot_penalty: float = Field(
        8.0,
        ge=0,
        description="Added to the load of an engine whose LoRA slots are all taken "
        "by other adapters.",
    )
    waiting_weight: float = Field(
        1.0, ge=0, description="Extra load per request waiting in the engine's queue."
    )
    kv_weight: float = Field(
        2.0, ge=0, description="Extra load at a full KV cache (scaled by its use, 0..1)."
    )
    poll_interval_s: float = Field(
        0.25, gt=0, description="How often each engine's /metrics and /v1/models are read."
    )
    share_dir: Path | None = Field(
        None,
        description="Folder the workers of one host share engine state through (one scrape "
        "per engine per interval for the host); unset: <data dir>/run/engine-state. Must "
        "not be shared between hosts or pods.",
    )


class DiscoverySettings(BaseModel):
    """Engines found by DNS: every address a name resolves to (a Kubernetes headless
    service) is an engine, re-resolved every ``interval_s``."""

    dns: str | None = Field(
        None, description="host:port, e.g. vllm.loragate.svc.cluster.local:8000; unset: off."
    )
    interval_s: float = Field(5.0, gt=0, description="How often the name is resolved again.")
    scheme: str = Field("http", pattern="^https?$")
