"""Time to first token through the gateway against straight to the engine, under
``loragate up`` on this machine: does the engine starve the gateway of CPU?

    python bench/ttft_under_up.py [--concurrency 16] [--rounds 6] [--nice 10,0] [--json OUT]

For each niceness given (the engines' ``LORAGATE_ENGINE__NICE``; 10 is the default, 0 is
how the engine ran before), one ``loragate up`` with the default model; then ``--rounds``
rounds, each sending ``--concurrency`` streamed chat requests at once through the gateway,
then the same straight to the engine. Reports the median and p99 time to the first content
byte of each, side by side, and the gateway's added median.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import sys
import tempfile
import time
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


def measure(nice: int, concurrency: int, rounds: int) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="loragate-ttft-") as tmp:
        stack = EngineStack(Path(tmp) / "data", {"LORAGATE_ENGINE__NICE": str(nice)})
        try:
            stack.wait_ready()
            gateway = f"{stack.base_url}/v1/chat/completions"
            direct = f"http://127.0.0.1:{stack.engine_port}/v1/chat/completions"
            asyncio.run(round_of(gateway, stack.headers, concurrency))  # warm-up
            seen: dict[str, list[float]] = {"gateway": [], "direct": []}
            for _ in range(rounds):
                seen["gateway"] += asyncio.run(round_of(gateway, stack.headers, concurrency))
                seen["direct"] += asyncio.run(round_of(direct, {}, concurrency))
        finally:
            stack.stop()
    result: dict[str, Any] = {target: summary(values) for target, values in seen.items()}
    result["added_median_ms"] = result["gateway"]["median_ms"] - result["direct"]["median_ms"]
    return result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--rounds", type=int, default=6)
    parser.add_argument("--nice", default="10,0", help="engine niceness values to compare")
    parser.add_argument("--json", type=Path)
    args = parser.parse_args(argv)
    results: dict[str, Any] = {}
    for nice in (int(part) for part in args.nice.split(",")):
        print(f"loragate up with the engine at niceness {nice} ...", file=sys.stderr, flush=True)
        results[f"nice_{nice}"] = measure(nice, args.concurrency, args.rounds)
    print(f"{'engine':>10} {'target':>8} {'median TTFT':>12} {'p99 TTFT':>10}")
    for name, result in results.items():
        for target in ("gateway", "direct"):
            row = result[target]
            print(f"{name:>10} {target:>8} {row['median_ms']:10.1f} ms {row['p99_ms']:7.1f} ms")
        print(f"{name:>10} gateway adds {result['added_median_ms']:+.1f} ms (median)")
    if args.json is not None:
        args.json.write_text(json.dumps(results, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
