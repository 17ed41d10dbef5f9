"""Time to first token through the gateway against straight to the engine, under
``loragate up`` on this machine: does the engine starve the gateway of CPU?

    python bench/ttft_under_up.py [--concurrency 16] [--rounds 3] [--bursts 4]
        [--prompts 480] [--probe-s 60] [--variants old,new] [--loads burst,sustained,probe]
        [--json OUT]

Compares settings of the stack side by side (``VARIANTS``): "old" is niceness 10 on the
engine's processes only (``LORAGATE_ENGINE__NICE_AUTOGROUP=false``), "new" the default,
niceness 10 on the engine's session (its autogroup) as well; "new-2w" adds a second gateway
worker, "new-poll5" reads the engines' state every 5 s instead of 0.25 s, and "new-nice5"
gives the engine niceness 5 instead of ``--nice``. Each round
starts one ``loragate up`` with the default model per variant, one after the other (the
order alternates between rounds), and measures three loads, through the gateway and straight
to the engine (which goes first alternates too):

- burst: ``--bursts`` bursts of ``--concurrency`` streamed chats sent at once. Beside each
  target, the engine's own TTFT (vLLM's ``vllm:time_to_first_token_seconds``, from its
  arrival at the engine) over the same bursts: when it is the same for both targets, what
  the gateway adds lies in front of the engine (its own work and the extra process hop);
- sustained: vLLM's own benchmark client (``vllm_load.py``), ``--prompts`` requests at most
  ``--concurrency`` at a time;
- probe: the issue's own comparison (``ttft_probe.py``): vLLM's client keeps
  ``--concurrency`` - 1 streams going through the gateway while a probe sends one streamed
  chat at a time for ``--probe-s`` seconds, alternately through the gateway and straight to
  the engine, so both see the same load; each pair's difference is what the gateway adds.

Reports the median and p99 time to the first token of each variant, load and target, the
gateway's added median (overall and per round), and the 1-minute load average at the start
of each round.
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
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

from engine_stack import EngineStack
from ttft_probe import TARGETS, chat_targets, probe_under_load, round_of, warm_up
from vllm_load import sustained

VARIANTS: dict[str, dict[str, str]] = {
    "old": {"LORAGATE_ENGINE__NICE_AUTOGROUP": "false"},
    "new": {},
    "new-2w": {"LORAGATE_WORKERS": "2"},
    "new-poll5": {"LORAGATE_ROUTING__POLL_INTERVAL_S": "5"},
    "new-nice5": {"LORAGATE_ENGINE__NICE": "5"},
}
LOADS = ("burst", "sustained", "probe")
SERIES = (*TARGETS, *(f"{target} (engine)" for target in TARGETS))
ENGINE_TTFT = "vllm:time_to_first_token_seconds"
CONCURRENCY_NOTE = "C-1 streams of vLLM's client through the gateway"
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


def summary(values: list[float]) -> dict[str, float]:
    ordered = sorted(values)
    p99 = ordered[min(len(ordered) - 1, round(0.99 * (len(ordered) - 1)))]
    return {"median_ms": statistics.median(ordered) * 1000, "p99_ms": p99 * 1000, "n": len(values)}


def burst_load(
    stack: EngineStack, concurrency: int, bursts: int, gateway_first: bool
) -> dict[str, list[float]]:
    """Bursts of ``concurrency`` requests sent at once: {series: TTFTs in seconds}."""
    seen: dict[str, list[float]] = {f"burst {key}": [] for key in SERIES}
    urls = chat_targets(stack)
    for url, headers in urls.values():  # warm-up
        warm_up(url, headers, concurrency)
    engine_metrics = f"http://127.0.0.1:{stack.engine_port}/metrics"
    for burst in range(bursts):
        order = TARGETS if (burst % 2 == 0) == gateway_first else TARGETS[::-1]
        for target in order:
            url, headers = urls[target]
            before = engine_ttft(engine_metrics)
            seen[f"burst {target}"] += asyncio.run(round_of(url, headers, concurrency))
            seen[f"burst {target} (engine)"].append(burst_mean(before, engine_metrics))
    return seen


def sustained_load(
    stack: EngineStack, concurrency: int, prompts: int, gateway_first: bool
) -> dict[str, list[float]]:
    """vLLM's benchmark client, ``concurrency`` at a time: {series: TTFTs in seconds}, and
    each target's output tokens/s as a one-item series."""
    seen: dict[str, list[float]] = {}
    order = TARGETS if gateway_first else TARGETS[::-1]
    for target in order:
        base_url, key = (
            (stack.base_url, stack.admin_key)
            if target == "gateway"
            else (f"http://127.0.0.1:{stack.engine_port}", None)
        )
        got = sustained(base_url, key, "loragate-tiny", stack.base_model_dir, prompts, concurrency)
        if got.failed:
            raise RuntimeError(f"sustained load on {target}: {got.failed} requests failed")
        seen[f"sustained {target}"] = got.ttfts_s
        seen[f"sustained {target} tok/s"] = [got.output_tokens_per_s]
    return seen


def measure(
    env: dict[str, str], args: argparse.Namespace, gateway_first: bool
) -> dict[str, list[float]]:
    """What one ``loragate up`` with ``env`` gave, by series (see ``burst_load``)."""
    seen: dict[str, list[float]] = {}
    with tempfile.TemporaryDirectory(prefix="loragate-ttft-") as tmp:
        stack = EngineStack(Path(tmp) / "data", env)
        try:
            stack.wait_ready()
            if "burst" in args.loads:
                seen |= burst_load(stack, args.concurrency, args.bursts, gateway_first)
            if "sustained" in args.loads:
                seen |= sustained_load(stack, args.concurrency, args.prompts, gateway_first)
            if "probe" in args.loads:
                seen |= probe_under_load(stack, args.concurrency, args.probe_s, gateway_first)
        finally:
            stack.stop()
    return seen


def run(args: argparse.Namespace) -> dict[str, Any]:
    names = args.variants
    seen: dict[str, dict[str, list[float]]] = {name: {} for name in names}
    added: dict[str, dict[str, list[float]]] = {name: {} for name in names}
    loads: list[float] = []
    for round_no in range(args.rounds):
        loads.append(round(os.getloadavg()[0], 2))
        order = names if round_no % 2 == 0 else names[::-1]
        for name in order:
            print(
                f"round {round_no + 1}/{args.rounds}: loragate up, {name} "
                f"(load average {os.getloadavg()[0]:.2f}) ...",
                file=sys.stderr,
                flush=True,
            )
            env = {"LORAGATE_ENGINE__NICE": str(args.nice)} | VARIANTS[name]
            got = measure(env, args, round_no % 2 == 0)
            for series, values in got.items():
                seen[name].setdefault(series, []).extend(values)
            for load in args.loads:
                gateway, direct = (statistics.median(got[f"{load} {t}"]) * 1000 for t in TARGETS)
                added[name].setdefault(load, []).append(round(gateway - direct, 1))
    results: dict[str, Any] = {"load_average_1min": loads}
    for name in names:
        result: dict[str, Any] = {}
        for series, values in seen[name].items():
            is_rate = series.endswith("tok/s")
            result[series] = {"mean": statistics.mean(values)} if is_rate else summary(values)
        for load in args.loads:
            gateway, direct = (result[f"{load} {t}"]["median_ms"] for t in TARGETS)
            result[f"{load} added_median_ms"] = gateway - direct
            result[f"{load} added_by_round_ms"] = added[name][load]
        results[name] = result
    return results


def report(results: dict[str, Any], loads: list[str]) -> None:
    print(f"{'variant':>8} {'load':>9} {'target':>8} {'median TTFT':>12} {'p99 TTFT':>10}")
    for name in VARIANTS:
        if name not in results:
            continue
        result = results[name]
        for load in loads:
            for target in TARGETS:
                row = result[f"{load} {target}"]
                if load == "burst":
                    engine = result[f"burst {target} (engine)"]["median_ms"]
                    extra = f"the engine's own TTFT, median of burst means: {engine:.1f} ms"
                elif load == "sustained":
                    extra = f"output {result[f'sustained {target} tok/s']['mean']:.0f} tokens/s"
                else:
                    extra = f"{row['n']} probes beside {CONCURRENCY_NOTE}"
                print(
                    f"{name:>8} {load:>9} {target:>8} {row['median_ms']:9.1f} ms "
                    f"{row['p99_ms']:7.1f} ms   ({extra})"
                )
            by_round = ", ".join(f"{ms:+.1f}" for ms in result[f"{load} added_by_round_ms"])
            print(
                f"{name:>8} {load:>9} gateway adds {result[f'{load} added_median_ms']:+.1f} ms "
                f"to the median (by round {by_round})"
            )
            if load == "probe":
                print(
                    f"{name:>8} {load:>9} median of the pairs' differences "
                    f"{result['probe paired']['median_ms']:+.1f} ms"
                )
    print(f"load average (1 min) at each round's start: {results['load_average_1min']}")


def comma_list(choices: Iterable[str]) -> Callable[[str], list[str]]:
    """An argparse type: a comma-separated list of some of ``choices``."""
    known = list(choices)

    def parse(text: str) -> list[str]:
        items = [item for item in text.split(",") if item]
        if not items or set(items) - set(known):
            raise argparse.ArgumentTypeError(f"a comma-separated list of {', '.join(known)}")
        return items

    return parse


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--rounds", type=int, default=3, help="loragate up starts per variant")
    parser.add_argument("--bursts", type=int, default=4, help="bursts per target per start")
    parser.add_argument(
        "--prompts", type=int, default=480, help="sustained load: requests per target per start"
    )
    parser.add_argument(
        "--probe-s", type=float, default=60, help="probe: seconds of probing per start"
    )
    parser.add_argument(
        "--loads",
        type=comma_list(LOADS),
        default=list(LOADS),
        help="burst (C requests at once), sustained (vLLM's client, C at a time), probe (one "
        "request at a time beside C-1 of vLLM's client), comma-separated",
    )
    parser.add_argument(
        "--nice", type=int, default=10, help="the engine's niceness (where the variant sets none)"
    )
    parser.add_argument(
        "--variants",
        type=comma_list(VARIANTS),
        default=["old", "new"],
        help=f"which settings to start, comma-separated, of {', '.join(VARIANTS)}",
    )
    parser.add_argument("--json", type=Path)
    args = parser.parse_args(argv)
    results = run(args)
    report(results, args.loads)
    if args.json is not None:
        args.json.write_text(json.dumps(results, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
