"""A fleet of vLLM engines under many adapters, simulated, with the REAL routing policy.

    python bench/fleet_sim.py [--profile cpu|gpu] [--json OUT] [--seconds 90] [--sweep]

16 engines modelled by a profile (bench/fleet_engine.py; bench/results/engine_profile.json
measured here, gpu_profile.json from published numbers), 500 adapters with Zipf(1.0)
popularity, max_loras 8, Poisson arrivals at 50/70/90% of the fleet's capacity (the sum over
engines of the profile's throughput with one adapter per batch). The same arrivals go through
three policies:

- round_robin: the next engine, whatever the adapter;
- affinity_first: today's ``UpstreamPool.ranked`` (round-robin, engines that have the adapter
  registered first);
- loragate: ``gateway.fleet.policy.choose`` with its default thresholds. It sees engine
  metrics as a 250 ms poller would (running, waiting, KV use one poll old; KV use modelled
  as the running batch's share of ``max_batch``) and this gateway's in-flight requests and
  adapters now.

Per policy: p50/p99 time to first token (requests still waiting at the end count with their
wait so far), adapter loads per second, and utilisation spread (max - min over engines of the
mean running batch / max batch). Then the router's own CPU per decision from 2 to 256 engines
with 1,000 adapters. Seeded and deterministic.
"""

from __future__ import annotations

import argparse
import heapq
import itertools
import json
import random
import sys
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from fleet_engine import Profile, Request, SimEngine
from router_cpu import router_cpu_table

from gateway.fleet.policy import EngineView, RoutingPolicy, choose

RESULTS = Path(__file__).resolve().parent / "results"
PROFILES = {"cpu": RESULTS / "engine_profile.json", "gpu": RESULTS / "gpu_profile.json"}
ENGINES, ADAPTERS, MAX_LORAS = 16, 500, 8
LOADS = (0.5, 0.7, 0.9)
POLL_S = 0.25
WARMUP_SHARE = 0.15
POLICIES = ("round_robin", "affinity_first", "loragate")

Router = Callable[[float, str | None], int]


def adapter_names(count: int) -> list[str]:
    return [f"ft:base:a{i}:ftjob-{i:05d}" for i in range(count)]


def arrivals(rate: float, seconds: float, seed: int) -> list[tuple[float, str | None]]:
    rng = random.Random(seed)
    names = adapter_names(ADAPTERS)
    weights = list(itertools.accumulate(1.0 / rank for rank in range(1, ADAPTERS + 1)))
    out: list[tuple[float, str | None]] = []
    now = rng.expovariate(rate)
    while now < seconds:
        out.append((now, rng.choices(names, cum_weights=weights)[0]))
        now += rng.expovariate(rate)
    return out


class Fleet:
    """The engines, what a poller last saw of them, and the three routers."""

    def __init__(self, profile: Profile, policy: RoutingPolicy) -> None:
        self.engines = [SimEngine(profile) for _ in range(ENGINES)]
        self.names = [f"engine-{i}" for i in range(ENGINES)]
        self.seen = [(0, 0, 0.0)] * ENGINES
        self.counts = [Counter[str]() for _ in range(ENGINES)]
        self.policy = policy
        self.turn = 0

    def poll(self) -> None:
        self.seen = [
            (len(e.running), len(e.waiting), len(e.running) / e.profile.max_batch)
            for e in self.engines
        ]

    def round_robin(self, _now: float, _adapter: str | None) -> int:
        self.turn += 1
        return (self.turn - 1) % ENGINES

    def affinity_first(self, _now: float, adapter: str | None) -> int:
        start = self.turn % ENGINES
        self.turn += 1
        order = [(start + k) % ENGINES for k in range(ENGINES)]
        if adapter is not None:
            order.sort(key=lambda i: adapter not in self.engines[i].registered)
        return order[0]

    def loragate(self, _now: float, adapter: str | None) -> int:
        views = tuple(
            EngineView(
                name=self.names[i],
                healthy=True,
                running=self.seen[i][0],
                waiting=self.seen[i][1],
                kv_cache_usage=self.seen[i][2],
                registered=frozenset(engine.registered),
                active_adapters=frozenset(self.counts[i]),
                max_loras=engine.profile.max_loras,
                in_flight=engine.queued,
            )
            for i, engine in enumerate(self.engines)
        )
        return choose(views, adapter, self.policy).order[0]


def simulate(
    profile: Profile, load: float, seconds: float, name: str, policy: RoutingPolicy, seed: int
) -> dict[str, float]:
    rate = load * ENGINES * profile.requests_per_s
    fleet = Fleet(profile, policy)
    route: Router = getattr(fleet, name)
    requests = [Request(t, a) for t, a in arrivals(rate, seconds, seed)]
    prime(fleet, route, seed)
    steps: list[tuple[float, int]] = []
    warmup = seconds * WARMUP_SHARE
    loads_at_warmup = occupancy_at_warmup = None
    next_poll, at, inf = POLL_S, 0, float("inf")
    while True:
        next_arrival = requests[at].arrival if at < len(requests) else inf
        now = min(next_arrival, steps[0][0] if steps else inf, next_poll)
        if now >= seconds:
            break
        if loads_at_warmup is None and now >= warmup:
            loads_at_warmup = sum(e.loads for e in fleet.engines)
            occupancy_at_warmup = [e.occupancy_s for e in fleet.engines]
        if steps and steps[0][0] == now:
            _, index = heapq.heappop(steps)
            _finish_step(fleet, index, now, steps)
        elif next_poll == now:
            fleet.poll()
            next_poll += POLL_S
        else:
            request = requests[at]
            at += 1
            _dispatch(fleet, route(request.arrival, request.adapter), request, steps)
    assert loads_at_warmup is not None
    assert occupancy_at_warmup is not None
    window = seconds - warmup
    ttfts = sorted(
        ((r.first_token if r.first_token is not None else seconds) - r.arrival)
        for r in requests
        if warmup <= r.arrival < seconds
    )
    utils = [
        (e.occupancy_s - before) / window / profile.max_batch
        for e, before in zip(fleet.engines, occupancy_at_warmup, strict=True)
    ]
    return {
        "p50_ttft_ms": round(_quantile(ttfts, 0.5) * 1000, 1),
        "p99_ttft_ms": round(_quantile(ttfts, 0.99) * 1000, 1),
        "loads_per_s": round((sum(e.loads for e in fleet.engines) - loads_at_warmup) / window, 3),
        "util_spread": round(max(utils) - min(utils), 3),
    }


def prime(fleet: Fleet, route: Router, seed: int) -> None:
    """A fleet that has served every adapter before: each placed once, where the policy says.

    Without it the run would mostly count first loads of rarely used adapters, the same for
    every policy (Zipf's tail is first asked for minutes into a run).
    """
    names = adapter_names(ADAPTERS)
    random.Random(seed + 1).shuffle(names)
    for name in names:
        fleet.engines[route(0.0, name)].prime(name)


def _dispatch(fleet: Fleet, index: int, request: Request, steps: list[tuple[float, int]]) -> None:
    engine = fleet.engines[index]
    request.engine = index
    if request.adapter is not None:
        engine.registered.add(request.adapter)
        fleet.counts[index][request.adapter] += 1
    engine.waiting.append(request)
    if engine.step_end is None:
        heapq.heappush(steps, (engine.start_step(request.arrival), index))


def _finish_step(fleet: Fleet, index: int, now: float, steps: list[tuple[float, int]]) -> None:
    engine = fleet.engines[index]
    counts = fleet.counts[index]
    for request in engine.end_step(now):
        if request.adapter is not None:
            counts[request.adapter] -= 1
            if not counts[request.adapter]:
                del counts[request.adapter]
    if engine.queued:
        heapq.heappush(steps, (engine.start_step(now), index))


def _quantile(values: list[float], q: float) -> float:
    return values[min(int(q * len(values)), len(values) - 1)] if values else 0.0


def load_profile(name: str, output_tokens: int, cpu_loras: int) -> Profile:
    data = json.loads(PROFILES[name].read_text())
    return Profile.from_json(data, int(data.get("sim_max_batch", 16)), output_tokens, cpu_loras)


def run_all(profile: Profile, seconds: float, policy: RoutingPolicy, seed: int) -> dict[str, Any]:
    results: dict[str, Any] = {}
    for load in LOADS:
        row = {name: simulate(profile, load, seconds, name, policy, seed) for name in POLICIES}
        results[f"load_{round(load * 100)}"] = row
    return results


def print_table(results: dict[str, Any]) -> None:
    print(f"{'load':<8}{'policy':<16}{'p50 ms':>10}{'p99 ms':>10}{'loads/s':>10}{'spread':>8}")
    for load, row in results.items():
        for name, m in row.items():
            print(
                f"{load:<8}{name:<16}{m['p50_ttft_ms']:>10}{m['p99_ttft_ms']:>10}"
                f"{m['loads_per_s']:>10}{m['util_spread']:>8}"
            )


def check_targets(results: dict[str, Any]) -> bool:
    row = results["load_70"]
    ours, rr, aff = row["loragate"], row["round_robin"], row["affinity_first"]
    checks = [
        ("p99 <= 0.5 x round_robin", ours["p99_ttft_ms"] <= 0.5 * rr["p99_ttft_ms"]),
        ("p99 <= 0.7 x affinity_first", ours["p99_ttft_ms"] <= 0.7 * aff["p99_ttft_ms"]),
        ("loads/s <= 1/5 round_robin", ours["loads_per_s"] <= rr["loads_per_s"] / 5),
    ]
    for label, ok in checks:
        print(f"{'PASS' if ok else 'FAIL'}  at 70%: loragate {label}")
    return all(ok for _, ok in checks)


def sweep(profile: Profile, seconds: float, seed: int) -> None:
    """p99 TTFT and loads/s of the loragate policy at 70% over a grid of thresholds."""
    grid = itertools.product((8.0, 16.0, 32.0), (0.25, 0.5, 1.0), (8.0, 32.0))
    for busy, balance, penalty in grid:
        policy = RoutingPolicy(busy_load=busy, balance=balance, slot_penalty=penalty)
        m = simulate(profile, 0.7, seconds, "loragate", policy, seed)
        print(f"busy_load {busy:>5} balance {balance:>5} slot_penalty {penalty:>5}: {m}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else "")
    parser.add_argument("--profile", choices=sorted(PROFILES), default="cpu")
    parser.add_argument("--json", type=Path, default=None, help="Write the results here.")
    parser.add_argument("--seconds", type=float, default=90.0, help="Simulated time per run.")
    parser.add_argument("--output-tokens", type=int, default=64)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument(
        "--cpu-loras", type=int, default=64, help="Each engine's --max-cpu-loras (LoRA cache)."
    )
    parser.add_argument("--sweep", action="store_true", help="Try thresholds at 70% instead.")
    parser.add_argument("--no-cpu", action="store_true", help="Skip the router CPU table.")
    args = parser.parse_args()
    profile = load_profile(args.profile, args.output_tokens, args.cpu_loras)
    print(
        f"profile {args.profile}: {profile.requests_per_s:.2f} req/s per engine, "
        f"fleet capacity {ENGINES * profile.requests_per_s:.1f} req/s"
    )
    if args.sweep:
        sweep(profile, args.seconds, args.seed)
        return 0
    started = time.perf_counter()
    results = run_all(profile, args.seconds, RoutingPolicy(), args.seed)
    print_table(results)
    print(f"simulated in {time.perf_counter() - started:.1f} s")
    ok = check_targets(results)
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(results, indent=2) + "\n")
    if not args.no_cpu:
        router_cpu_table()
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
