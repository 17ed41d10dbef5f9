"""Gateway-overhead benchmark: the same load sent straight to a stub upstream and through
the gateway in front of it, non-streaming and streaming, at each concurrency.

    python bench/gateway_overhead.py [--requests 2000] [--json out.json]
        [--gateway-env LORAGATE_X=1 ...] [--gateway-cmd 'python -m ... --port {port}']
        [--fleet-engines 64 --fleet-adapters 1000]

The stub and the gateway run as subprocesses; the load generator runs in this process.
Exit status 0 when every target is met, 1 when one is missed, 2 when the run failed.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import shlex
import signal
import sys
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from types import FrameType
from typing import Any

import fleet_setup
from loadgen import LoadResult, chat_body, run_fast, run_load
from procs import MIB, ServerProcess, free_port, log_tail
from report import (
    DIRECT,
    GATEWAY,
    NON_STREAM,
    STREAM,
    Check,
    ScenarioRun,
    evaluate,
    format_checks,
    format_rss,
    format_table,
)

BENCH_DIR = Path(__file__).resolve().parent
REPO_ROOT = BENCH_DIR.parent
CHAT_PATH = "/v1/chat/completions"
MODEL = "stub-model"


@dataclass(frozen=True)
class Options:
    requests: int
    warmup: int
    concurrencies: list[int]
    chunks: int
    stub_interval_ms: float
    max_duration_s: float
    ready_timeout_s: float
    gateway_cmd: str | None
    gateway_ready_path: str
    gateway_env: dict[str, str]
    json_path: Path | None
    api_key: str | None = None
    """Sent as Authorization: Bearer to both targets (the stub ignores it)."""
    fleet_engines: int = 1
    fleet_adapters: int = 0


def build_gateway_cmd(port: int, template: str | None = None) -> list[str]:
    """The gateway's command line; `template` (with {port} and {python}) replaces it."""
    if template:
        return shlex.split(template.format(port=port, python=sys.executable))
    return [
        *(sys.executable, "-m", "uvicorn", "gateway.app:create_app", "--factory"),
        *("--host", "127.0.0.1", "--port", str(port), "--workers", "1"),
        *("--loop", "uvloop", "--http", "httptools", "--no-access-log", "--log-level", "warning"),
    ]


def gateway_env(
    stub_port: int, data_dir: Path, overrides: dict[str, str], engines: int = 1
) -> dict[str, str]:
    """The gateway's LORAGATE_* settings; `overrides` (from --gateway-env) win."""
    env = {
        "LORAGATE_UPSTREAMS": fleet_setup.upstreams(stub_port, engines),
        "LORAGATE_SERVED_MODEL_NAME": MODEL,
        "LORAGATE_DATA_DIR": str(data_dir),
    }
    env.update(overrides)
    return env


def create_api_key(data_dir: Path, overrides: dict[str, str]) -> str:
    """A user key (no limits of its own) in the gateway's database: auth is on by default."""
    from gateway.auth.keys import open_key_store
    from gateway.settings import Settings

    settings = Settings(data_dir=data_dir, database_url=overrides.get("LORAGATE_DATABASE_URL"))
    store = open_key_store(settings)
    try:
        return store.create("bench", "user", created_by="bench")[1]
    finally:
        store.close()


def child_env(settings: dict[str, str]) -> dict[str, str]:
    """This process's environment without inherited LORAGATE_* settings, plus `settings`."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("LORAGATE_")}
    env.update(settings)
    return env


def start_stub(opts: Options, tmp: Path) -> tuple[ServerProcess, int]:
    port = fleet_setup.free_ports(opts.fleet_engines)
    cmd = [sys.executable, str(BENCH_DIR / "stub_upstream.py"), "--port", str(port)]
    cmd += ["--chunks", str(opts.chunks), "--interval-ms", str(opts.stub_interval_ms)]
    cmd += fleet_setup.stub_args(opts.fleet_engines, opts.fleet_adapters)
    stub = ServerProcess("stub upstream", cmd, child_env({}), tmp / "stub.log", REPO_ROOT)
    return stub, port


def start_gateway(opts: Options, tmp: Path, stub_port: int) -> tuple[ServerProcess, int]:
    port = free_port()
    data_dir = tmp / "data"
    data_dir.mkdir(exist_ok=True)
    fleet_setup.publish_adapters(data_dir, opts.fleet_adapters, MODEL)
    env = child_env(gateway_env(stub_port, data_dir, opts.gateway_env, opts.fleet_engines))
    cmd = build_gateway_cmd(port, opts.gateway_cmd)
    return ServerProcess("gateway", cmd, env, tmp / "gateway.log", REPO_ROOT), port


def load(
    opts: Options,
    url: str,
    concurrency: int,
    requests: int,
    stream: bool,
    warmup: int = 0,
    before_measure: Callable[[], object] | None = None,
) -> LoadResult:
    coro = run_load(
        url,
        chat_body(stream, MODEL),
        concurrency=concurrency,
        requests=requests,
        stream=stream,
        warmup=warmup,
        max_duration_s=opts.max_duration_s,
        headers={"Authorization": f"Bearer {opts.api_key}"} if opts.api_key else None,
        before_measure=before_measure,
    )
    return run_fast(coro)


def mib(gateway: ServerProcess) -> float:
    return gateway.rss_bytes() / MIB


def run_scenario(
    opts: Options, mode: str, target: str, concurrency: int, url: str, gateway: ServerProcess
) -> ScenarioRun:
    """Warm-up, then the measured run on the same connections; the gateway's CPU time per
    measured request is given for its rows."""
    cpu_before: list[float] = []
    stream = mode == STREAM
    result = load(
        opts,
        url,
        concurrency,
        opts.requests,
        stream,
        warmup=opts.warmup,
        before_measure=lambda: cpu_before.append(gateway.cpu_seconds()),
    )
    cpu_ms = (gateway.cpu_seconds() - cpu_before[0]) * 1000 / max(result.count, 1)
    return ScenarioRun(
        mode=mode,
        target=target,
        concurrency=concurrency,
        result=result,
        gateway_rss_mib=mib(gateway),
        gateway_cpu_ms_per_req=cpu_ms if target == GATEWAY else None,
    )


def progress(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def measure(
    opts: Options, urls: dict[str, str], gateway: ServerProcess
) -> tuple[list[ScenarioRun], dict[str, float]]:
    """Every scenario in turn, with the gateway's RSS before, after warm-up and after each."""
    rss = {"before load": mib(gateway)}
    for mode in (NON_STREAM, STREAM):
        for concurrency in opts.concurrencies:
            load(opts, urls[GATEWAY], concurrency, opts.warmup, mode == STREAM)
    rss["after warm-up"] = mib(gateway)
    runs: list[ScenarioRun] = []
    for mode in (NON_STREAM, STREAM):
        for concurrency in opts.concurrencies:
            for target in (DIRECT, GATEWAY):
                run = run_scenario(opts, mode, target, concurrency, urls[target], gateway)
                runs.append(run)
                rss[f"after {mode} {target} c={concurrency}"] = run.gateway_rss_mib or 0.0
                r = run.result
                progress(
                    f"{mode:>10} {target:>7} c={concurrency:<3} {r.rps:8.0f} req/s  "
                    f"p50 {r.p50_ms:.3f} ms  errors {r.errors} {r.error_kinds or ''}"
                )
    return runs, rss


def run_benchmark(opts: Options, tmp: Path, servers: list[ServerProcess]) -> dict[str, Any]:
    """Starts both servers (appending them to `servers` for the caller to stop) and measures."""
    opts = dataclasses.replace(opts, api_key=create_api_key(tmp / "data", opts.gateway_env))
    stub, stub_port = start_stub(opts, tmp)
    servers.append(stub)
    stub.wait_ready(stub_port, "/health", opts.ready_timeout_s)
    gateway, gateway_port = start_gateway(opts, tmp, stub_port)
    servers.append(gateway)
    gateway.wait_ready(gateway_port, opts.gateway_ready_path, opts.ready_timeout_s)
    progress(f"stub pid {stub.pid} port {stub_port}; gateway pid {gateway.pid} port {gateway_port}")
    urls = {
        DIRECT: f"http://127.0.0.1:{stub_port}{CHAT_PATH}",
        GATEWAY: f"http://127.0.0.1:{gateway_port}{CHAT_PATH}",
    }
    runs, rss = measure(opts, urls, gateway)
    rss["end"] = mib(gateway)
    checks = evaluate(runs, rss["after warm-up"], rss["end"])
    if any(run.result.errors for run in runs):
        progress(f"gateway log tail:\n{log_tail(gateway.log_path)}")
    return summarize(opts, runs, rss, checks)


def summarize(
    opts: Options, runs: list[ScenarioRun], rss: dict[str, float], checks: list[Check]
) -> dict[str, Any]:
    print(format_table(runs))
    print()
    print(format_rss(rss))
    print()
    print(format_checks(checks))
    config = {
        "requests": opts.requests,
        "warmup": opts.warmup,
        "concurrencies": opts.concurrencies,
        "chunks": opts.chunks,
        "stub_interval_ms": opts.stub_interval_ms,
        "gateway_cmd": build_gateway_cmd(0, opts.gateway_cmd),
        "gateway_env": gateway_env(0, Path("<tmp>"), opts.gateway_env),
        "fleet_engines": opts.fleet_engines,
        "fleet_adapters": opts.fleet_adapters,
    }
    return {
        "config": config,
        "scenarios": [run.as_dict() for run in runs],
        "gateway_rss_mib": rss,
        "checks": [check.as_dict() for check in checks],
        "passed": all(check.status != "FAIL" for check in checks),
    }


def key_value(text: str) -> tuple[str, str]:
    key, sep, value = text.partition("=")
    if not sep or not key:
        raise argparse.ArgumentTypeError(f"expected KEY=VALUE, got {text!r}")
    return key, value


def concurrency_list(text: str) -> list[int]:
    try:
        values = [int(part) for part in text.split(",") if part.strip()]
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"expected e.g. 1,32, got {text!r}") from exc
    if not values or min(values) < 1:
        raise argparse.ArgumentTypeError("concurrencies must be positive")
    return values


def parse_args(argv: list[str] | None) -> Options:
    p = argparse.ArgumentParser(description="Measure what the gateway adds over its upstream.")
    p.add_argument("--requests", type=int, default=2000, help="measured requests per scenario")
    p.add_argument("--warmup", type=int, default=200, help="warm-up requests per scenario")
    p.add_argument("--concurrency", type=concurrency_list, default=[1, 32], help="e.g. 1,32")
    p.add_argument("--chunks", type=int, default=16, help="token events per streamed reply")
    p.add_argument(
        "--stub-interval-ms", type=float, default=0.0, help="stub's pause between stream events"
    )
    p.add_argument("--max-duration", type=float, default=120.0, help="seconds per load run")
    p.add_argument("--ready-timeout", type=float, default=60.0)
    p.add_argument("--gateway-cmd", help="replaces the uvicorn command; {port} is filled in")
    p.add_argument("--gateway-ready-path", default="/health/ready")
    p.add_argument(
        "--gateway-env", type=key_value, action="append", default=[], metavar="KEY=VALUE"
    )
    p.add_argument("--json", type=Path, help="also write the results here as JSON")
    p.add_argument("--fleet-engines", type=int, default=1, help="stub engines the gateway polls")
    p.add_argument("--fleet-adapters", type=int, default=0, help="adapters in the registry")
    a = p.parse_args(argv)
    if a.requests < 1 or a.warmup < 1:
        p.error("--requests and --warmup must be at least 1")
    return Options(
        requests=a.requests,
        warmup=a.warmup,
        concurrencies=a.concurrency,
        chunks=a.chunks,
        stub_interval_ms=a.stub_interval_ms,
        max_duration_s=a.max_duration,
        ready_timeout_s=a.ready_timeout,
        gateway_cmd=a.gateway_cmd,
        gateway_ready_path=a.gateway_ready_path,
        gateway_env=dict(a.gateway_env),
        json_path=a.json,
        fleet_engines=max(1, a.fleet_engines),
        fleet_adapters=max(0, a.fleet_adapters),
    )


def _exit_on_sigterm(signum: int, frame: FrameType | None) -> None:
    raise SystemExit(128 + signum)


def main(argv: list[str] | None = None) -> int:
    opts = parse_args(argv)
    signal.signal(signal.SIGTERM, _exit_on_sigterm)
    servers: list[ServerProcess] = []
    with tempfile.TemporaryDirectory(prefix="loragate-bench-") as tmp:
        try:
            results = run_benchmark(opts, Path(tmp), servers)
        except RuntimeError as exc:
            progress(f"benchmark failed: {exc}")
            return 2
        except KeyboardInterrupt:
            progress("interrupted; stopping the servers")
            return 130
        finally:
            for server in reversed(servers):
                server.stop()
    if opts.json_path is not None:
        opts.json_path.parent.mkdir(parents=True, exist_ok=True)
        opts.json_path.write_text(json.dumps(results, indent=2) + "\n")
    return 0 if results["passed"] else 1


if __name__ == "__main__":
    sys.exit(main())
