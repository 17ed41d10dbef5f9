"""``loragate up``: the engine, the gateway and the fine-tuning worker, supervised together."""

from __future__ import annotations

import asyncio
import os
import signal
import sys
import time

import aiohttp
from rich.console import Console

from gateway.engine.command import engine_command, engine_environment
from gateway.engine.placement import Plan, detect_gpus, plan
from gateway.engine.supervisor import ProcessSpec, SupervisedProcess
from gateway.observability.multiproc import metrics_environment, prepare_metrics_dir
from gateway.observability.restarts import count_starts, reset_starts
from gateway.settings import Settings

console = Console(stderr=True)


def gateway_command(settings: Settings) -> list[str]:
    return [
        sys.executable,
        "-m",
        "uvicorn",
        "gateway.app:create_app",
        "--factory",
        "--host",
        settings.host,
        "--port",
        str(settings.port),
        "--workers",
        str(settings.workers),
        "--loop",
        "uvloop",
        "--http",
        "httptools",
        "--no-access-log",
        "--log-level",
        settings.log_level,
    ]


def worker_command() -> list[str]:
    return [sys.executable, "-m", "gateway.cli.main", "worker"]


def child_environment(settings: Settings) -> dict[str, str]:
    """The children read the same settings: pass the resolved ones through the environment."""
    env = dict(os.environ)
    env["LORAGATE_DATA_DIR"] = str(settings.data_dir)
    env["LORAGATE_HOST"] = settings.host
    env["LORAGATE_PORT"] = str(settings.port)
    if settings.base_model:
        env["LORAGATE_BASE_MODEL"] = settings.base_model
    if settings.served_model_name:
        env["LORAGATE_SERVED_MODEL_NAME"] = settings.served_model_name
    if settings.database_url:
        env["LORAGATE_DATABASE_URL"] = settings.database_url
    env["LORAGATE_ENGINE__PORT"] = str(settings.engine.port)
    env["LORAGATE_ENGINE__COUNT"] = str(settings.engine.count)
    return env


def _spec(
    settings: Settings, name: str, argv: list[str], env: dict[str, str], niceness: int = 0
) -> ProcessSpec:
    return ProcessSpec(
        niceness=niceness,
        nice_autogroup=settings.engine.nice_autogroup,
        name=name,
        argv=argv,
        env=env,
        log_path=settings.data_dir / "logs" / f"{name}.log",
        pid_path=settings.run_dir / f"{name}.pid",
        backoff_initial_s=settings.engine.restart_backoff_initial_s,
        backoff_max_s=settings.engine.restart_backoff_max_s,
    )


def engine_process_name(index: int, count: int) -> str:
    """``engine`` for a single engine (as before), ``engine-<i>`` for several."""
    return "engine" if count == 1 else f"engine-{index}"


def process_specs(settings: Settings, placement: Plan | None = None) -> list[ProcessSpec]:
    """The children of ``loragate up``; ``placement`` defaults to this host's cores and GPUs."""
    env = child_environment(settings)
    specs = []
    worker_env = dict(env)
    if settings.uses_embedded_engine:
        placement = placement or plan(settings, sorted(os.sched_getaffinity(0)), detect_gpus())
        if placement.trainer_devices is not None:
            worker_env["CUDA_VISIBLE_DEVICES"] = placement.trainer_devices
        if placement.trainer_memory_gib is not None and settings.finetune.memory_limit_gib is None:
            # the gateway refuses jobs that would not fit in what the worker gets
            budget = {"LORAGATE_FINETUNE__MEMORY_LIMIT_GIB": str(placement.trainer_memory_gib)}
            env |= budget
            worker_env |= budget
        for where in placement.engines:
            engine_env = engine_environment(settings, where)
            engine_env["LORAGATE_DATA_DIR"] = str(settings.data_dir)
            name = engine_process_name(where.index, settings.engine.count)
            argv = engine_command(settings, where)
            specs.append(_spec(settings, name, argv, engine_env, settings.engine.nice))
    gateway_env = env | metrics_environment(settings)
    specs.append(_spec(settings, "gateway", gateway_command(settings), gateway_env))
    if settings.finetune.worker:
        specs.append(_spec(settings, "worker", worker_command(), worker_env))
    return specs


def _report(name: str, message: str) -> None:
    console.print(f"[bold cyan]{name:>8}[/] {message}")


async def _wait_ready(settings: Settings, stop: asyncio.Event) -> bool:
    url = f"http://{settings.host}:{settings.port}/health/ready"
    deadline = time.monotonic() + settings.engine.startup_timeout_s
    async with aiohttp.ClientSession() as session:
        while time.monotonic() < deadline and not stop.is_set():
            try:
                async with session.get(url, timeout=aiohttp.ClientTimeout(total=2)) as resp:
                    if resp.status == 200:
                        return True
            except (aiohttp.ClientError, TimeoutError):
                pass
            await asyncio.sleep(0.5)
    return False


async def run_stack(settings: Settings) -> int:
    """Run until SIGINT/SIGTERM; then stop every child. Returns the exit code."""
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    prepare_metrics_dir(settings)
    reset_starts(settings.run_dir)
    report = count_starts(settings.run_dir, _report)
    children = [SupervisedProcess(spec, report) for spec in process_specs(settings)]
    for child in children:
        child.start()
    started = time.monotonic()
    with console.status("waiting for the engine and the gateway to be ready..."):
        ready = await _wait_ready(settings, stop)
    if ready:
        _print_ready(settings, time.monotonic() - started)
    elif not stop.is_set():
        console.print(f"[red]not ready in time[/]; see the logs in {settings.data_dir / 'logs'}")
    await stop.wait()
    console.print("stopping...")
    for child in reversed(children):
        await child.stop()
    return 0


def _print_ready(settings: Settings, seconds: float) -> None:
    base = f"http://{settings.host}:{settings.port}/v1"
    console.print(
        f"[bold green]ready[/] in {seconds:.1f} s: {base}  model: "
        f"[bold]{settings.base_model_name}[/]"
    )
    if settings.auth.enabled:
        console.print(
            f'  curl -H "Authorization: Bearer $(cat {settings.admin_key_path})" {base}/models'
        )
    else:
        console.print(f"  curl {base}/models")
    if settings.console.enabled:
        key_hint = (
            f" (sign in with the key in {settings.admin_key_path})" if settings.auth.enabled else ""
        )
        console.print(f"  console: http://{settings.host}:{settings.port}/ui/{key_hint}")
    console.print("  press Ctrl-C to stop everything")
