"""A real `loragate up` (vLLM on the CPU + gateway) for benchmarks that need the engine."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import psutil
from procs import ServerProcess, free_port

REPO_ROOT = Path(__file__).resolve().parent.parent


class EngineStack:
    def __init__(self, data_dir: Path, extra_env: dict[str, str] | None = None) -> None:
        self.data_dir = data_dir
        self.port = free_port()
        self.engine_port = free_port()
        env = {k: v for k, v in os.environ.items() if not k.startswith("LORAGATE_")}
        env.update(
            LORAGATE_DATA_DIR=str(data_dir),
            LORAGATE_PORT=str(self.port),
            LORAGATE_ENGINE__PORT=str(self.engine_port),
            **(extra_env or {}),
        )
        data_dir.mkdir(parents=True, exist_ok=True)
        self.proc = ServerProcess(
            "loragate up",
            [sys.executable, "-m", "gateway.cli.main", "up"],
            env,
            data_dir / "up.log",
            REPO_ROOT,
        )

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def admin_key(self) -> str:
        """The admin key `loragate up` wrote on its first start (auth is on by default)."""
        return (self.data_dir / "admin.key").read_text().strip()

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.admin_key}"}

    @property
    def base_model_dir(self) -> Path:
        return self.data_dir / "models" / "loragate-tiny"

    def wait_ready(self, timeout_s: float = 600) -> None:
        self.proc.wait_ready(self.port, "/health/ready", timeout_s)

    def pin_front_ends(self) -> list[int] | None:
        """Keep the HTTP processes off the engine's compute core (2-core machines).

        vLLM's CPU backend binds its compute thread to core 0 and leaves the other cores to
        everything else; its busy-waiting thread slows down badly when another process is
        scheduled on its core. Pins this process, the gateway and the engine's API server
        to the remaining cores, the same for the direct and the gateway runs.
        """
        cores = sorted(os.sched_getaffinity(0))
        if len(cores) < 2:
            return None
        front = set(cores[1:])
        os.sched_setaffinity(0, front)
        for name in ("gateway", "engine"):
            pid = int((self.data_dir / "run" / f"{name}.pid").read_text())
            psutil.Process(pid).cpu_affinity(sorted(front))
        return sorted(front)

    def stop(self) -> None:
        self.proc.stop()
