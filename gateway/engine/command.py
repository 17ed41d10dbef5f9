"""The command line and environment that start the embedded vLLM OpenAI server."""

from __future__ import annotations

import os
import sys
from pathlib import Path

from gateway.engine.placement import EnginePlacement
from gateway.settings import Settings


def engine_command(settings: Settings, placement: EnginePlacement | None = None) -> list[str]:
    """argv for vLLM's own OpenAI server with LoRA and runtime LoRA loading enabled.

    ``python -m`` rather than the ``vllm`` script: the CPU wheel's script does not start.
    ``placement`` (default: the first engine on the CPU) gives its port and memory share.
    """
    engine = settings.engine
    placement = placement or EnginePlacement(0, engine.port, engine.memory_share)
    name = settings.base_model_name or settings.base_model_path
    argv = [
        sys.executable,
        "-m",
        "vllm.entrypoints.openai.api_server",
        "--model",
        settings.base_model_path,
        "--served-model-name",
        name,
        "--host",
        engine.host,
        "--port",
        str(placement.port),
        "--enable-lora",
        "--max-lora-rank",
        str(engine.max_lora_rank),
        "--max-loras",
        str(engine.max_loras),
        "--gpu-memory-utilization",
        str(placement.memory_share),
        "--max-model-len",
        str(engine.max_model_len),
        "--dtype",
        _dtype(settings),
        "--disable-uvicorn-access-log",
    ]
    return argv + list(engine.extra_args)


def engine_environment(
    settings: Settings, placement: EnginePlacement | None = None
) -> dict[str, str]:
    env = dict(os.environ)
    if placement is not None and placement.cpu_bind is not None:
        env["VLLM_CPU_OMP_THREADS_BIND"] = placement.cpu_bind
    if placement is not None and placement.cuda_devices is not None:
        env["CUDA_VISIBLE_DEVICES"] = placement.cuda_devices
    env["VLLM_ALLOW_RUNTIME_LORA_UPDATING"] = "True"
    # Keep idle connections open longer than the gateway does, so it never reuses one the
    # engine has just closed.
    env.setdefault("VLLM_HTTP_TIMEOUT_KEEP_ALIVE", "60")
    if Path(settings.base_model_path).is_dir():
        # Everything is local: never let a look-up of a hub stall the engine.
        env.setdefault("HF_HUB_OFFLINE", "1")
    env.pop("PROMETHEUS_MULTIPROC_DIR", None)  # the gateway's; vLLM manages its own
    env.setdefault("VLLM_LOGGING_LEVEL", "WARNING" if settings.log_level != "debug" else "DEBUG")
    return env


def _dtype(settings: Settings) -> str:
    """The embedded default model is float32 (exact parity with HF on the CPU)."""
    if settings.engine.dtype == "auto" and settings.base_model is None:
        return "float32"
    return settings.engine.dtype
