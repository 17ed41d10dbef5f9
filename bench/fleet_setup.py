"""The fleet variant of the gateway benchmarks: many stub engines and many adapters.

``--fleet-engines N`` makes the stub listen on N consecutive ports, each an engine with a
real vLLM ``/metrics`` page and adapters of its own in ``/v1/models``, and gives the gateway
all N as upstreams, so it polls them at the real interval while the load runs.
``--fleet-adapters M`` publishes M adapters into the gateway's registry.
"""

from __future__ import annotations

import json
import math
import socket
from pathlib import Path

BENCH_DIR = Path(__file__).resolve().parent
METRICS_PAGE = BENCH_DIR.parent / "tests" / "gateway" / "fleet" / "vllm_metrics.txt"
"""A real page from the vLLM CPU engine (the routing tests' fixture)."""


def free_ports(count: int) -> int:
    """The first of ``count`` consecutive ports on 127.0.0.1 that were free a moment ago."""
    for _ in range(200):
        with socket.socket() as sock:
            sock.bind(("127.0.0.1", 0))
            first = int(sock.getsockname()[1])
        if first + count < 65536 and all(_free(first + i) for i in range(1, count)):
            return first
    raise RuntimeError(f"no {count} consecutive free ports")


def _free(port: int) -> bool:
    with socket.socket() as sock:
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            return False
        return True


def stub_args(engines: int, adapters: int) -> list[str]:
    """The stub's extra arguments for a fleet of ``engines`` (none for one engine)."""
    if engines <= 1:
        return []
    per_port = math.ceil(adapters / engines)
    return [
        *("--extra-ports", str(engines - 1), "--metrics-page", str(METRICS_PAGE)),
        *("--adapters-per-port", str(per_port)),
    ]


def upstreams(first_port: int, engines: int) -> str:
    return json.dumps([f"http://127.0.0.1:{first_port + i}" for i in range(engines)])


def publish_adapters(data_dir: Path, count: int, base_model: str) -> None:
    """``count`` adapter records (tiny placeholder files) in the gateway's registry."""
    from adapters.record import AdapterRecord, adapter_name
    from adapters.registry import AdapterRegistry

    if count <= 0:
        return
    source = data_dir / "adapter-source"
    source.mkdir(parents=True, exist_ok=True)
    for name in ("adapter_config.json", "adapter_model.safetensors"):
        (source / name).write_text("{}")
    registry = AdapterRegistry(data_dir / "adapters")
    for i in range(count):
        record = AdapterRecord(
            name=adapter_name(base_model, f"a{i}", "ftjob-bench"),
            base_model=base_model,
            rank=8,
            alpha=16,
            target_modules=["q_proj"],
        )
        registry.publish(source, record)
