"""The routing policy's own CPU per decision, from 2 to 256 engines with 1,000 adapters.

Engines are given as the gateway would hold them: one snapshot tuple per poll and this
gateway's live in-flight counts beside it. Reported: an adapter request (Zipf popularity,
adapters registered where the policy placed them, a fifth on a second engine too), a
base-model request, and building the snapshot's derived state once per poll.
"""

from __future__ import annotations

import itertools
import random
import time
from collections import deque

from gateway.fleet.policy import EngineView, RoutingPolicy, choose

SIZES = (2, 4, 8, 16, 32, 64, 128, 256)
ADAPTERS = 1000
DECISIONS = 20000


def fleet_views(size: int, rng: random.Random) -> tuple[tuple[EngineView, ...], list[str]]:
    names = [f"ft:base:a{i}:ftjob-{i:05d}" for i in range(ADAPTERS)]
    bare = tuple(EngineView(f"engine-{i}", True, max_loras=8) for i in range(size))
    policy = RoutingPolicy()
    registered: list[set[str]] = [set() for _ in range(size)]
    for name in names:
        order = choose(bare, name, policy).order
        registered[order[0]].add(name)
        if size > 1 and rng.random() < 0.2:
            registered[order[1]].add(name)
    views = tuple(
        EngineView(
            f"engine-{i}",
            True,
            running=rng.randint(0, 12),
            waiting=rng.randint(0, 3),
            kv_cache_usage=rng.random() * 0.6,
            registered=frozenset(registered[i]),
            active_adapters=frozenset(
                rng.sample(sorted(registered[i]), min(8, len(registered[i])))
            ),
            max_loras=8,
        )
        for i in range(size)
    )
    return views, names


def per_decision_us(size: int, seed: int = 5) -> tuple[float, float, float]:
    """(adapter request, base request, new snapshot) CPU microseconds at ``size`` engines."""
    rng = random.Random(seed)
    views, names = fleet_views(size, rng)
    weights = list(itertools.accumulate(1.0 / r for r in range(1, ADAPTERS + 1)))
    asked = rng.choices(names, cum_weights=weights, k=DECISIONS)
    policy = RoutingPolicy()
    in_flight = [0] * size
    for name in names:  # rendezvous orders are cached per membership: measure steady state
        choose(views, name, policy, in_flight)
    # Requests finish as new ones come: each decision adds one in flight where it goes and
    # the decision 8 x size ago finishes (about 8 in flight per engine, as under load).
    recent: deque[int] = deque(rng.randrange(size) for _ in range(8 * size))
    started = time.process_time()
    for name in asked:
        chosen = choose(views, name, policy, in_flight).order[0]
        in_flight[chosen] += 1
        recent.append(chosen)
        done = recent.popleft()
        in_flight[done] = max(0, in_flight[done] - 1)
    adapter_us = (time.process_time() - started) / DECISIONS * 1e6
    started = time.process_time()
    for _ in range(DECISIONS // 4):
        chosen = choose(views, None, policy, in_flight).order[0]
        in_flight[chosen] += 1
        recent.append(chosen)
        done = recent.popleft()
        in_flight[done] = max(0, in_flight[done] - 1)
    base_us = (time.process_time() - started) / (DECISIONS // 4) * 1e6
    snapshots = 50
    started = time.process_time()
    for _ in range(snapshots):
        choose(tuple(list(views)), names[0], policy, in_flight)  # a new tuple
    snapshot_us = (time.process_time() - started) / snapshots * 1e6
    return adapter_us, base_us, snapshot_us


def router_cpu_table() -> dict[int, tuple[float, float, float]]:
    print("router CPU per decision (1,000 adapters; snapshot = once per poll):")
    print(f"{'engines':>8}{'adapter us':>12}{'base us':>10}{'snapshot us':>13}")
    table = {}
    for size in SIZES:
        table[size] = per_decision_us(size)
        adapter_us, base_us, snapshot_us = table[size]
        print(f"{size:>8}{adapter_us:>12.1f}{base_us:>10.1f}{snapshot_us:>13.0f}")
    adapter_256, base_256, _ = table[SIZES[-1]]
    for kind, cost in (("adapter", adapter_256), ("base", base_256)):
        verdict = "PASS" if cost <= 20 else "FAIL"
        print(f"{verdict}  {kind} decision at 256 engines: {cost:.1f} us (want <= 20)")
    return table
