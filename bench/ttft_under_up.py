"""Time to first token through the gateway against straight to the engine, under
``loragate up`` on this machine: does the engine starve the gateway of CPU?

    python bench/ttft_under_up.py [--concurrency 16] [--rounds 3] [--bursts 4]
        [--variants old,new] [--json OUT]

Compares the engine's old and new CPU priority side by side (``VARIANTS``): "old" is
niceness 10 on the engine's processes only (``LORAGATE_ENGINE__NICE_AUTOGROUP=false``),
"new" the default, niceness 10 on the engine's session (its autogroup) as well. Each round
starts one ``loragate up`` with the default model per variant, one after the other (the
order alternates between rounds), and sends ``--bursts`` bursts of ``--concurrency``
streamed chat requests at once through the gateway and as many straight to the engine
(which goes first alternates too). Reports the median and p99 time to the first content
byte of each variant and target, the gateway's added median (overall and per round), and
the 1-minute load average seen at the start of each round. Beside each target, the engine's
own TTFT (vLLM's ``vllm:time_to_first_token_seconds``, from its arrival at the engine) over
the same bursts: when it is the same for both targets, what the gateway adds lies in front
of the engine (its own work and the extra process hop), not in the engine's batching.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import sys
import tempfile
import time
import urllib.request
from pathlib import Path
from typing import Any

import aiohttp
from engine_stack import EngineStack

BODY = {
    "model": "loragate-tiny",
    "messages": [{"role": "user", "content": "外卖送得很快，味道也不错"}],
    "max_tokens": 32,
    "stream": True,
    "ignore_eos": True,
}
VARIANTS: dict[str, dict[str, str]] = {
    "old": {"LORAGATE_ENGINE__NICE_AUTOGROUP": "false"},
    "new": {},
}
TARGETS = ("gateway", "direct")
SERIES = (*TARGETS, *(f"{target} (engine)" for target in TARGETS))
ENGINE_TTFT = "vllm:time_to_first_token_seconds"
SETTLE_S = 0.3  # vLLM updates its histograms in steps: let the burst's last ones land


def engine_ttft(metrics_url: str) -> tuple[float, float]:
    """(sum, count) of vLLM's own time-to-first-token histogram."""
    total = count = 0.0
    with urllib.request.urlopen(metrics_url, timeout=10) as resp:
        for line in resp.read().decode().splitlines():
            if line.startswith(f"{ENGINE_TTFT}_sum"):
                total += float(line.rsplit(" ", 1)[1])
            elif line.startswith(f"{ENGINE_TTFT}_count"):
                count += float(line.rsplit(" ", 1)[1])
    return total, count


def burst_mean(before: tuple[float, float], metrics_url: str) -> float:
    """The engine's mean TTFT (seconds) over the requests since ``before``."""
    time.sleep(SETTLE_S)
    total, count = engine_ttft(metrics_url)
    return (total - before[0]) / max(count - before[1], 1.0)


async def first_token_s(session: aiohttp.ClientSession, url: str, headers: dict[str, str]) -> float:
    started = time.perf_counter()
    async with session.post(url, json=BODY, headers=headers) as resp:
        resp.raise_for_status()
        async for line in resp.content:
            if line.startswith(b"data: {") and b'"content"' in line:
                elapsed = time.perf_counter() - started
                async for _ in resp.content:  # read the rest: the stream's full cost counts
                    pass
                return elapsed
    raise RuntimeError(f"{url}: the stream had no content")


async def round_of(url: str, headers: dict[str, str], concurrency: int) -> list[float]:
    async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=300)) as session:
        return list(
            await asyncio.gather(
                *(first_token_s(session, url, headers) for _ in range(concurrency))
            )
        )


def summary(values: list[float]) -> dict[str, float]:
    ordered = sorted(values)
    p99 = ordered[min(len(ordered) - 1, round(0.99 * (len(ordered) - 1)))]
    return {"median_ms": statistics.median(ordered) * 1000, "p99_ms": p99 * 1000, "n": len(values)}


def measure(
    env: dict[str, str], concurrency: int, bursts: int, gateway_first: bool
) -> dict[str, list[float]]:
    """TTFTs (seconds) of one ``loragate up`` with ``env``: {target: [...]}."""
    seen: dict[str, list[float]] = {key: [] for key in SERIES}
    with tempfile.TemporaryDirectory(prefix="loragate-ttft-") as tmp:
        stack = EngineStack(Path(tmp) / "data", env)
        try:
            stack.wait_ready()
            urls = {
                "gateway": (f"{stack.base_url}/v1/chat/completions", stack.headers),
                "direct": (f"http://127.0.0.1:{stack.engine_port}/v1/chat/completions", {}),
            }
            for url, headers in urls.values():  # warm-up
                asyncio.run(round_of(url, headers, concurrency))
            engine_metrics = f"http://127.0.0.1:{stack.engine_port}/metrics"
            for burst in range(bursts):
                order = TARGETS if (burst % 2 == 0) == gateway_first else TARGETS[::-1]
                for target in order:
                    url, headers = urls[target]
                    before = engine_ttft(engine_metrics)
                    seen[target] += asyncio.run(round_of(url, headers, concurrency))
                    seen[f"{target} (engine)"].append(burst_mean(before, engine_metrics))
        finally:
            stack.stop()
    return seen


def run(args: argparse.Namespace) -> dict[str, Any]:
    names = args.variants
    seen: dict[str, dict[str, list[float]]] = {n: {t: [] for t in SERIES} for n in names}
    added: dict[str, list[float]] = {name: [] for name in names}
    loads: list[float] = []
    for round_no in range(args.rounds):
        loads.append(round(os.getloadavg()[0], 2))
        order = names if round_no % 2 == 0 else names[::-1]
        for name in order:
            print(
                f"round {round_no + 1}/{args.rounds}: loragate up, {name} priority "
                f"(load average {os.getloadavg()[0]:.2f}) ...",
                file=sys.stderr,
                flush=True,
            )
            env = VARIANTS[name] | {"LORAGATE_ENGINE__NICE": str(args.nice)}
            got = measure(env, args.concurrency, args.bursts, round_no % 2 == 0)
            for series in SERIES:
                seen[name][series] += got[series]
            medians = [statistics.median(got[target]) * 1000 for target in TARGETS]
            added[name].append(round(medians[0] - medians[1], 1))
    results: dict[str, Any] = {"load_average_1min": loads}
    for name in names:
        result = {series: summary(seen[name][series]) for series in SERIES}
        overall = result["gateway"]["median_ms"] - result["direct"]["median_ms"]
        results[name] = result | {"added_median_ms": overall, "added_by_round_ms": added[name]}
    return results


def report(results: dict[str, Any]) -> None:
    print(f"{'priority':>8} {'target':>8} {'median TTFT':>12} {'p99 TTFT':>10}")
    for name in VARIANTS:
        if name not in results:
            continue
        result = results[name]
        for target in TARGETS:
            row = result[target]
            engine = result[f"{target} (engine)"]["median_ms"]
            print(
                f"{name:>8} {target:>8} {row['median_ms']:9.1f} ms {row['p99_ms']:7.1f} ms"
                f"   (the engine's own TTFT, median of burst means: {engine:.1f} ms)"
            )
        by_round = ", ".join(f"{ms:+.1f}" for ms in result["added_by_round_ms"])
        print(
            f"{name:>8} gateway adds {result['added_median_ms']:+.1f} ms "
            f"(median; by round {by_round})"
        )
    print(f"load average (1 min) at each round's start: {results['load_average_1min']}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--rounds", type=int, default=3, help="loragate up starts per variant")
    parser.add_argument("--bursts", type=int, default=4, help="bursts per target per start")
    parser.add_argument("--nice", type=int, default=10, help="the engine's niceness (both)")
    parser.add_argument(
        "--variants",
        type=lambda text: text.split(","),
        default=list(VARIANTS),
        help="which priorities to start, e.g. new (default: old,new)",
    )
    parser.add_argument("--json", type=Path)
    args = parser.parse_args(argv)
    if not args.variants or set(args.variants) - set(VARIANTS):
        parser.error(f"--variants takes a comma-separated list of {', '.join(VARIANTS)}")
    results = run(args)
    report(results)
    if args.json is not None:
        args.json.write_text(json.dumps(results, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
