"""Engine restarts: the supervisor's starts are counted in a file every worker reads."""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path

from prometheus_client import CollectorRegistry, generate_latest

from gateway.engine.supervisor import ProcessSpec, SupervisedProcess
from gateway.observability.restarts import (
    EngineRestartsCollector,
    count_starts,
    reset_starts,
    starts_file,
)


def restarts_exported(run_dir: Path) -> float:
    registry = CollectorRegistry()
    registry.register(EngineRestartsCollector(run_dir))
    value = registry.get_sample_value("loragate_engine_restarts_total")
    assert value is not None
    assert b"loragate_engine_restarts_total" in generate_latest(registry)
    return value


async def test_a_crashing_child_is_counted(tmp_path: Path) -> None:
    run_dir = tmp_path / "run"
    assert restarts_exported(run_dir) == 0  # no supervisor (external engines): 0
    events: list[str] = []
    spec = ProcessSpec(
        name="engine",
        argv=[sys.executable, "-c", "raise SystemExit(3)"],
        env={},
        log_path=tmp_path / "engine.log",
        pid_path=run_dir / "engine.pid",
        backoff_initial_s=0.05,
        backoff_max_s=0.05,
    )
    child = SupervisedProcess(
        spec, count_starts(run_dir, lambda _, message: events.append(message))
    )
    child.start()
    path = starts_file(run_dir, "engine")
    for _ in range(200):
        if path.exists() and int(path.read_text()) >= 4:
            break
        await asyncio.sleep(0.05)
    await child.stop()
    starts = int(path.read_text())
    assert starts >= 4
    assert restarts_exported(run_dir) == starts - 1
    assert sum(message.startswith("started") for message in events) == starts
    reset_starts(run_dir)
    assert restarts_exported(run_dir) == 0
