"""Many adapters at once, through the gateway with the real engine, in one run.

    python bench/multi_lora.py [--requests 256] [--concurrency 32] [--max-tokens 64]

1. Throughput: the same completion requests served by the base model, by one adapter, and
   spread round-robin over 8 adapters (all loaded beforehand); output tokens/s of each.
   Target: 8 mixed >= 0.95 x one adapter (vLLM batches different adapters together; the
   gateway must not serialise them).
2. Cold loads: a steady stream of base-model requests; then 8 never-loaded adapters are
   first requested at once. Target: base p99 during the loads <= 2 x its steady p99.
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import aiohttp

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from engine_stack import EngineStack
from loadgen import percentile_ms
from procs import log_tail

from tests.lora_fixtures import publish_random_adapter

BASE = "loragate-tiny"
AUTH: dict[str, str] = {}
"""Sent with every request: the stack's admin key (the engine ignores it)."""


@dataclass
class Throughput:
    name: str
    requests: int
    tokens: int
    seconds: float

    @property
    def tokens_per_s(self) -> float:
        return self.tokens / self.seconds


async def complete(session: aiohttp.ClientSession, url: str, model: str, max_tokens: int) -> int:
    body = {
        "model": model,
        "prompt": "外卖评价：",
        "max_tokens": max_tokens,
        "ignore_eos": True,
        "temperature": 0,
    }
    async with session.post(f"{url}/v1/completions", json=body) as resp:
        payload = await resp.json()
        if resp.status != 200:
            raise RuntimeError(f"{model}: {resp.status} {payload}")
    return int(payload["usage"]["completion_tokens"])


async def throughput(
    url: str, name: str, models: list[str], requests: int, concurrency: int, max_tokens: int
) -> Throughput:
    cycle = itertools.cycle(models)
    queue = [next(cycle) for _ in range(requests)]
    tokens = 0

    async def worker(session: aiohttp.ClientSession) -> None:
        nonlocal tokens
        while queue:
            got = await complete(session, url, queue.pop(), max_tokens)
            tokens += got  # not `tokens += await ...`: that reads tokens before awaiting

    async with aiohttp.ClientSession(headers=AUTH) as session:
        await asyncio.gather(*(complete(session, url, m, 4) for m in models))  # warm
        started = time.perf_counter()
        await asyncio.gather(*(worker(session) for _ in range(concurrency)))
        elapsed = time.perf_counter() - started
    return Throughput(name, requests, tokens, elapsed)


async def base_latencies(url: str, stop: asyncio.Event, concurrency: int) -> list[float]:
    latencies: list[float] = []

    async def worker(session: aiohttp.ClientSession) -> None:
        while not stop.is_set():
            started = time.perf_counter()
            await complete(session, url, BASE, 16)
            latencies.append(time.perf_counter() - started)

    async with aiohttp.ClientSession(headers=AUTH) as session:
        await asyncio.gather(*(worker(session) for _ in range(concurrency)))
    return latencies


async def cold_loads(
    url: str, cold: list[str], concurrency: int, steady_s: float
) -> dict[str, float]:
    stop = asyncio.Event()
    steady_task = asyncio.create_task(base_latencies(url, stop, concurrency))
    await asyncio.sleep(steady_s)
    stop.set()
    steady = await steady_task

    stop = asyncio.Event()
    during_task = asyncio.create_task(base_latencies(url, stop, concurrency))
    await asyncio.sleep(0.2)
    started = time.perf_counter()
    async with aiohttp.ClientSession(headers=AUTH) as session:
        await asyncio.gather(*(complete(session, url, name, 16) for name in cold))
    load_s = time.perf_counter() - started
    await asyncio.sleep(0.5)
    stop.set()
    during = await during_task
    return {
        "steady_p99_ms": percentile_ms(steady, 0.99),
        "during_p99_ms": percentile_ms(during, 0.99),
        "steady_p50_ms": percentile_ms(steady, 0.5),
        "during_p50_ms": percentile_ms(during, 0.5),
        "cold_burst_s": load_s,
        "samples_during": float(len(during)),
    }


def publish(stack: EngineStack, work: Path, prefix: str, count: int) -> list[str]:
    return [
        publish_random_adapter(
            stack.base_model_dir, stack.data_dir / "adapters", work, f"{prefix}{i}", seed=i
        ).name
        for i in range(count)
    ]


async def run(args: argparse.Namespace, stack: EngineStack, work: Path) -> int:
    AUTH.update(stack.headers)
    warm = publish(stack, work, "warm", 8)
    cold = publish(stack, work, "cold", 8)
    url, n, c, t = stack.base_url, args.requests, args.concurrency, args.max_tokens
    engine = f"http://127.0.0.1:{stack.engine_port}"
    for target in (url, engine):  # warm-up: the engine's first batches of a shape are slow
        for models in ([BASE], warm[:1], warm):
            await throughput(target, "warm-up", models, min(n, 64), c, t)
    scenarios = [
        (target, f"{where}: {label}", models)
        for target, where in ((url, "gateway"), (engine, "engine"))
        for label, models in (("base model", [BASE]), ("one adapter", warm[:1]),
                              ("8 adapters mixed", warm))
    ]  # fmt: skip
    # This machine's speed drifts by several times over a minute: run the scenarios in
    # interleaved rounds and add up each one's tokens and seconds.
    totals = {name: Throughput(name, 0, 0, 0.0) for _, name, _ in scenarios}
    for _ in range(args.rounds):
        for target, name, models in scenarios:
            part = await throughput(target, name, models, n // args.rounds, c, t)
            total = totals[name]
            total.requests += part.requests
            total.tokens += part.tokens
            total.seconds += part.seconds
    results = list(totals.values())
    for r in results:
        print(f"{r.name:<28} {r.requests:>5} req {r.tokens:>7} tok {r.tokens_per_s:>8.0f} tok/s")
    ratio = results[2].tokens_per_s / results[1].tokens_per_s
    engine_ratio = results[5].tokens_per_s / results[4].tokens_per_s
    print(f"8 mixed / one adapter: gateway {ratio:.3f}, engine directly {engine_ratio:.3f}")
    cold_stats = await cold_loads(url, cold, args.base_concurrency, args.steady_s)
    print("cold loads of 8 adapters at once:", {k: round(v, 1) for k, v in cold_stats.items()})
    p99_ratio = cold_stats["during_p99_ms"] / cold_stats["steady_p99_ms"]
    ok_mix, ok_cold = ratio >= 0.95, p99_ratio <= 2.0
    print(f"{'PASS' if ok_mix else 'FAIL'}  8 mixed / one adapter = {ratio:.3f} (want >= 0.95)")
    print(
        f"{'PASS' if ok_cold else 'FAIL'}  base p99 during cold loads / steady = "
        f"{p99_ratio:.2f} (want <= 2.0)"
    )
    return 0 if ok_mix and ok_cold else 1


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else "")
    parser.add_argument("--requests", type=int, default=512)
    parser.add_argument("--concurrency", type=int, default=32)
    parser.add_argument("--max-tokens", type=int, default=64)
    parser.add_argument("--rounds", type=int, default=8)
    parser.add_argument("--base-concurrency", type=int, default=4)
    parser.add_argument("--steady-s", type=float, default=8.0)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="multi-lora-") as tmp:
        stack = EngineStack(Path(tmp) / "data", {"LORAGATE_ENGINE__MAX_LORAS": "8"})
        try:
            stack.wait_ready()
            print(f"front ends pinned to cores {stack.pin_front_ends()}")
            return asyncio.run(run(args, stack, Path(tmp) / "work"))
        except Exception:
            for name in ("gateway", "engine"):
                print(f"--- {name} log ---\n{log_tail(stack.data_dir / 'logs' / f'{name}.log')}")
            raise
        finally:
            stack.stop()


if __name__ == "__main__":
    sys.exit(main())
