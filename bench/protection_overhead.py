"""Cost of the protection: the same load through a gateway with API keys and Redis rate
limiting on, and through one with both off, side by side in one run.

    python bench/protection_overhead.py [--requests 2000] [--rounds 3] [--json out.json]

Both gateways (one uvicorn worker each) sit in front of one stub upstream. "on" checks a
user key (cached), counts requests and tokens per key and per model in a real Redis
(redis-server), and takes an in-flight slot in Redis for every request; "off" runs with
auth off and in-memory counters with no limits set (only the in-flight cap). Rounds
alternate which goes first, and the medians over rounds are compared, so the drift of a
noisy machine falls on both alike. Exit status 0 when the added p50 at concurrency 1 is
within the target, 1 when not, 2 when the run failed.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from loadgen import LoadResult, chat_body, run_fast, run_load
from procs import ServerProcess, free_port
from redis import Redis
from redis.exceptions import RedisError

BENCH_DIR = Path(__file__).resolve().parent
REPO_ROOT = BENCH_DIR.parent
sys.path.insert(0, str(REPO_ROOT))

from gateway.auth.keys import open_key_store  # noqa: E402
from gateway.settings import Settings  # noqa: E402

MODEL = "stub-model"
CHAT = "/v1/chat/completions"
TARGET_ADDED_P50_MS = 1.0
PLENTY = 10**9


@dataclass(frozen=True)
class Options:
    requests: int
    warmup: int
    rounds: int
    concurrencies: list[int]
    json_path: Path | None
    on_env: dict[str, str]


def child_env(settings: dict[str, str]) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("LORAGATE_")}
    return env | settings


def start_redis(tmp: Path) -> tuple[ServerProcess, str]:
    binary = shutil.which("redis-server")
    if binary is None:
        raise RuntimeError("redis-server is not installed (scripts/system-deps.sh installs it)")
    port = free_port()
    cmd = [binary, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly"]
    cmd += ["no", "--dir", str(tmp)]
    return ServerProcess("redis", cmd, child_env({}), tmp / "redis.log", REPO_ROOT), (
        f"redis://127.0.0.1:{port}/0"
    )


def start_gateway(
    name: str, tmp: Path, stub_port: int, extra: dict[str, str]
) -> tuple[ServerProcess, int]:
    port = free_port()
    env = {
        "LORAGATE_UPSTREAMS": json.dumps([f"http://127.0.0.1:{stub_port}"]),
        "LORAGATE_SERVED_MODEL_NAME": MODEL,
        "LORAGATE_DATA_DIR": str(tmp / name),
        **extra,
    }
    cmd = [sys.executable, "-m", "uvicorn", "gateway.app:create_app", "--factory"]
    cmd += ["--host", "127.0.0.1", "--port", str(port), "--workers", "1", "--loop", "uvloop"]
    cmd += ["--http", "httptools", "--no-access-log", "--log-level", "warning"]
    log = tmp / f"{name}.log"
    return ServerProcess(f"gateway ({name})", cmd, child_env(env), log, REPO_ROOT), port


def wait_for_redis(url: str, timeout_s: float = 20) -> None:
    client = Redis.from_url(url)
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        try:
            client.ping()
            return
        except RedisError:
            time.sleep(0.05)
    raise RuntimeError(f"redis-server at {url} did not answer")


def user_key(data_dir: Path) -> str:
    """A user key with limits too high to be reached, so every request is counted, none refused."""
    store = open_key_store(Settings(data_dir=data_dir))
    try:
        _, secret = store.create("bench", rpm=PLENTY, tpm=PLENTY)
    finally:
        store.close()
    return secret


def one_load(opts: Options, url: str, c: int, stream: bool, key: str | None) -> LoadResult:
    headers = {"Authorization": f"Bearer {key}"} if key else None
    coro = run_load(
        url,
        chat_body(stream, MODEL),
        concurrency=c,
        requests=opts.requests,
        stream=stream,
        warmup=opts.warmup,
        headers=headers,
    )
    return run_fast(coro)


def compare(opts: Options, urls: dict[str, str], key: str) -> list[dict[str, Any]]:
    rows = []
    for stream in (False, True):
        for c in opts.concurrencies:
            runs: dict[str, list[LoadResult]] = {"off": [], "on": []}
            for round_no in range(opts.rounds):
                order = ("off", "on") if round_no % 2 == 0 else ("on", "off")
                for which in order:
                    result = one_load(opts, urls[which], c, stream, key if which == "on" else None)
                    runs[which].append(result)
            rows.append(summarize_pair(stream, c, runs))
            print_row(rows[-1])
    return rows


def summarize_pair(stream: bool, c: int, runs: dict[str, list[LoadResult]]) -> dict[str, Any]:
    def med(which: str, attr: str) -> float:
        return float(statistics.median(getattr(r, attr) for r in runs[which]))

    errors = {which: sum(r.errors for r in rs) for which, rs in runs.items()}
    return {
        "mode": "stream" if stream else "non-stream",
        "concurrency": c,
        "p50_off_ms": med("off", "p50_ms"),
        "p50_on_ms": med("on", "p50_ms"),
        "added_p50_ms": med("on", "p50_ms") - med("off", "p50_ms"),
        "p99_off_ms": med("off", "p99_ms"),
        "p99_on_ms": med("on", "p99_ms"),
        "rps_off": med("off", "rps"),
        "rps_on": med("on", "rps"),
        "rps_ratio": med("on", "rps") / max(med("off", "rps"), 1e-9),
        "errors": errors,
    }


def print_row(row: dict[str, Any]) -> None:
    print(
        f"{row['mode']:>10} c={row['concurrency']:<3} "
        f"p50 off {row['p50_off_ms']:.3f} ms  on {row['p50_on_ms']:.3f} ms  "
        f"added {row['added_p50_ms']:+.3f} ms | p99 off {row['p99_off_ms']:.2f} on "
        f"{row['p99_on_ms']:.2f} | req/s off {row['rps_off']:.0f} on {row['rps_on']:.0f} "
        f"(x{row['rps_ratio']:.2f}) | errors {row['errors']}",
        flush=True,
    )


def verdict(rows: list[dict[str, Any]]) -> bool:
    at_one = [r for r in rows if r["concurrency"] == 1]
    worst = max((r["added_p50_ms"] for r in at_one), default=0.0)
    errors = sum(sum(r["errors"].values()) for r in rows)
    ok = worst <= TARGET_ADDED_P50_MS and errors == 0
    status = "PASS" if ok else "FAIL"
    print(
        f"{status}: protection adds at most {worst:.3f} ms at p50, concurrency 1 "
        f"(target <= {TARGET_ADDED_P50_MS} ms); {errors} errors"
    )
    return ok


def run(opts: Options, tmp: Path, servers: list[ServerProcess]) -> dict[str, Any]:
    stub_port = free_port()
    stub_cmd = [sys.executable, str(BENCH_DIR / "stub_upstream.py"), "--port", str(stub_port)]
    stub = ServerProcess("stub", stub_cmd, child_env({}), tmp / "stub.log", REPO_ROOT)
    servers.append(stub)
    redis, redis_url = start_redis(tmp)
    servers.append(redis)
    key = user_key(tmp / "on")
    off, off_port = start_gateway("off", tmp, stub_port, {"LORAGATE_AUTH__ENABLED": "false"})
    limits = json.dumps({MODEL: {"rpm": PLENTY, "tpm": PLENTY}})
    on_env = {"LORAGATE_LIMITS__REDIS_URL": redis_url, "LORAGATE_LIMITS__MODELS": limits}
    on_env.update(opts.on_env)
    on, on_port = start_gateway("on", tmp, stub_port, on_env)
    servers += [off, on]
    stub.wait_ready(stub_port, "/health", 60)
    wait_for_redis(redis_url)
    for server, port in ((off, off_port), (on, on_port)):
        server.wait_ready(port, "/health/ready", 60)
    urls = {
        which: f"http://127.0.0.1:{port}{CHAT}"
        for which, port in (("off", off_port), ("on", on_port))
    }
    rows = compare(opts, urls, key)
    return {"rows": rows, "passed": verdict(rows), "requests": opts.requests, "rounds": opts.rounds}


def parse_args(argv: list[str] | None) -> Options:
    p = argparse.ArgumentParser(description="What API keys + Redis rate limiting cost.")
    p.add_argument("--requests", type=int, default=2000, help="measured requests per run")
    p.add_argument("--warmup", type=int, default=200)
    p.add_argument("--rounds", type=int, default=3, help="off/on pairs per scenario")
    p.add_argument("--concurrency", default="1,32", help="e.g. 1,32")
    p.add_argument("--json", type=Path)
    p.add_argument(
        "--on-env",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="a setting of the 'on' gateway (e.g. LORAGATE_LIMITS__REDIS_URL= for memory)",
    )
    a = p.parse_args(argv)
    concurrencies = [int(part) for part in a.concurrency.split(",")]
    on_env = dict(item.split("=", 1) for item in a.on_env)
    return Options(a.requests, a.warmup, a.rounds, concurrencies, a.json, on_env)


def main(argv: list[str] | None = None) -> int:
    opts = parse_args(argv)
    servers: list[ServerProcess] = []
    with tempfile.TemporaryDirectory(prefix="loragate-protection-") as tmp:
        try:
            results = run(opts, Path(tmp), servers)
        except RuntimeError as exc:
            print(f"benchmark failed: {exc}", file=sys.stderr)
            return 2
        finally:
            for server in reversed(servers):
                server.stop()
    if opts.json_path is not None:
        opts.json_path.write_text(json.dumps(results, indent=2) + "\n")
    return 0 if results["passed"] else 1


if __name__ == "__main__":
    sys.exit(main())
