"""Which engine serves a request: pure, synchronous, no I/O.

The caller passes what it knows of each engine (:class:`EngineView`, at most one poll old)
and gets the healthy engines' indices best first (:class:`Decision`); the rest of the order
is where a failed request is tried next.

Load of an engine (requests per unit of its static capacity)::

    load = (max(running + waiting, in_flight) + waiting_weight * waiting) / capacity
           + kv_weight * kv_cache_usage

``running + waiting`` (from its /metrics) counts every gateway's requests but is up to one
poll old; ``in_flight`` is this gateway's own count and current, so the larger of the two is
the best estimate of its queue. Waiting requests count again (the engine is saturated) and a
filling KV cache adds up to ``kv_weight`` (vLLM preempts when it is full).

Rules (thresholds in :class:`RoutingPolicy`, from ``LORAGATE_ROUTING__*``):

- base model: the least-loaded healthy engine (``kind="base"``);
- an adapter registered nowhere (cold): the first engine of its rendezvous order
  (``kind="cold"``). The order is highest-random-weight hashing of the adapter's name over the
  healthy engines, weighted by static capacity only (score ``-capacity / ln(u)``, ``u`` from
  blake2b of adapter and engine name), so every gateway replica places it on the same engine
  without talking to the others; an engine joining takes about 1/(n+1) of the adapters, one
  leaving moves only its own;
- an adapter registered somewhere: the least-loaded engine that has it (``kind="affinity"``),
  unless all of them are busy: then the first engine of its rendezvous order that does not
  have it and is not busy (``kind="spill"``). Busy means a load at or past
  ``max(busy_load, (1 + balance) * mean load of the healthy engines)``: past an absolute
  floor (a lightly loaded fleet never spreads an adapter) and well above the fleet's mean
  (when every engine is loaded alike, a spill buys no speed and costs an adapter load).
  A spill looks at the next ``SPILL_SCAN`` engines of the order only.
  Hot adapters spread down their rendezvous order; cold ones stay on one engine. When every
  engine is busy it stays on its least-loaded holder (a spill would only add a load);
- LoRA-slot pressure: an engine whose estimated active adapters fill its ``max_loras`` slots
  and do not include this adapter gets ``slot_penalty`` added to its load for this request.

Cost: the rendezvous order of an adapter is cached per membership (names, capacities and
health), and the adapter -> holders index per engines tuple, kept while the same tuple object
is passed again (one poll's snapshot). With the same tuple, a request costs the loads of the
few engines compared, independent of the fleet's size; pass the live in-flight counts as
``in_flight`` (the views' own are then ignored) rather than rebuilding the views per request.
A new tuple costs one pass over it and its registered sets. A base request visits engines
by their polled load and stops when none left can beat the best (usually a few; all of them
when many are loaded alike). Derived loads are cached per policy object: build it once.
Not thread-safe (the caches): call it from one event loop.
"""

from __future__ import annotations

import hashlib
import math
import random
from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

from gateway.settings import RoutingSettings

Kind = Literal["base", "affinity", "spill", "cold"]

BASE_EXACT_UP_TO = 32
"""Up to this many healthy engines a base request reads them all (see _choose_base)."""
BASE_SAMPLE = 4
BASE_ORDER = 8
"""Engines a base request may be tried on in a large fleet (the first, then retries)."""
_rng = random.Random()

RENDEZVOUS_CACHE = 4096
"""Adapters whose rendezvous order is kept per membership (least recently used go first)."""
MEMBERSHIPS_KEPT = 4
SPILL_SCAN = 16
"""Engines of the rendezvous order a spill looks at; past them it stays with its holders."""


@dataclass(frozen=True, slots=True)
class EngineView:
    """What the gateway knows of one engine when it chooses."""

    name: str
    """Stable public name; the rendezvous hash reads it, so it must not depend on list order."""
    healthy: bool
    capacity: float = 1.0
    """Static weight (a 2-GPU engine: 2.0); never load."""
    running: int = 0
    waiting: int = 0
    kv_cache_usage: float = 0.0
    registered: frozenset[str] = frozenset()
    """Adapters in the engine's /v1/models (loadable without a new load)."""
    active_adapters: frozenset[str] = frozenset()
    """Adapters estimated to sit in its LoRA slots."""
    max_loras: int = 1
    in_flight: int = 0
    """This gateway's requests at the engine now."""


@dataclass(frozen=True, slots=True)
class Decision:
    order: tuple[int, ...]
    """Indices into the engines passed, best first; only healthy engines."""
    kind: Kind


@dataclass(frozen=True, slots=True)
class RoutingPolicy:
    """The thresholds of the rules above (units: load, see the module's docstring)."""

    busy_load: float = 16.0
    balance: float = 0.5
    slot_penalty: float = 8.0
    waiting_weight: float = 1.0
    kv_weight: float = 2.0

    @classmethod
    def from_settings(cls, settings: RoutingSettings) -> RoutingPolicy:
        return cls(
            busy_load=settings.busy_load,
            balance=settings.balance,
            slot_penalty=settings.slot_penalty,
            waiting_weight=settings.waiting_weight,
            kv_weight=settings.kv_weight,
        )


def load_of(engine: EngineView, policy: RoutingPolicy, in_flight: int | None = None) -> float:
    """The engine's load (see the module's docstring); ``in_flight`` overrides the view's."""
    mine = engine.in_flight if in_flight is None else in_flight
    queue = max(engine.running + engine.waiting, mine)
    queued = queue + policy.waiting_weight * engine.waiting
    return queued / engine.capacity + policy.kv_weight * engine.kv_cache_usage


def load_for(
    engine: EngineView, adapter: str, policy: RoutingPolicy, in_flight: int | None = None
) -> float:
    """The engine's load as seen by a request for ``adapter`` (slot pressure included)."""
    load = load_of(engine, policy, in_flight)
    active = engine.active_adapters
    if adapter not in active and len(active) >= engine.max_loras:
        load += policy.slot_penalty
    return load


def rendezvous_score(adapter: str, engine: str, capacity: float) -> float:
    """Weighted highest-random-weight score: the highest-scoring engine owns the adapter."""
    digest = hashlib.blake2b(f"{adapter}\0{engine}".encode(), digest_size=8).digest()
    unit = (int.from_bytes(digest, "big") + 0.5) / 2.0**64  # in (0, 1)
    return -capacity / math.log(unit)


def choose(
    engines: Sequence[EngineView],
    adapter: str | None,
    policy: RoutingPolicy,
    in_flight: Sequence[int] | None = None,
) -> Decision:
    """The engines to try for a request for ``adapter`` (None: the base model), best first.

    ``in_flight``, when given, is this gateway's current count per engine (same indices) and
    replaces the views' ``in_flight``.
    """
    snap = _snapshot(engines)
    healthy = snap.ring.healthy
    if not healthy:
        return Decision((), "base" if adapter is None else "cold")
    if adapter is None:
        return _choose_base(engines, snap, policy, in_flight)
    held = snap.holders.get(adapter)
    if held is None:
        return Decision(snap.ring.rendezvous(adapter), "cold")
    if in_flight is None:
        ranked = sorted((load_for(engines[i], adapter, policy), i) for i in held)
    else:
        ranked = sorted((load_for(engines[i], adapter, policy, in_flight[i]), i) for i in held)
    by_load = tuple(i for _, i in ranked)
    rest = snap.rest(adapter)
    busy = max(policy.busy_load, (1 + policy.balance) * snap.mean_load(engines, policy))
    if ranked[0][0] < busy:
        return Decision(by_load + rest, "affinity")
    for at, i in enumerate(rest[:SPILL_SCAN]):
        flight = None if in_flight is None else in_flight[i]
        if load_for(engines[i], adapter, policy, flight) < busy:
            return Decision((i, *by_load, *rest[:at], *rest[at + 1 :]), "spill")
    return Decision(by_load + rest, "affinity")


def _choose_base(
    engines: Sequence[EngineView],
    snap: _Snapshot,
    policy: RoutingPolicy,
    in_flight: Sequence[int] | None,
) -> Decision:
    """The least-loaded healthy engine, then the others from there on in index order.

    Engines are visited by their load without this gateway's in-flight requests (a lower
    bound, sorted once per snapshot) and the walk stops once that bound reaches the best
    load found, so it usually reads a few engines, not all. Past ``BASE_EXACT_UP_TO``
    healthy engines the choice is the least loaded of a few (the lowest bound and
    ``BASE_SAMPLE`` drawn at random: "power of d choices"), with ``BASE_ORDER`` engines to
    try in all, so its cost does not grow with the fleet.
    """
    if len(snap.ring.healthy) > BASE_EXACT_UP_TO:
        return _sample_base(engines, snap, policy, in_flight)
    best, best_load = -1, math.inf
    for floor, i, queue, capacity in snap.base_floor(engines, policy):
        if floor >= best_load:
            break
        mine = engines[i].in_flight if in_flight is None else in_flight[i]
        load = floor + max(0, mine - queue) / capacity
        if load < best_load or (load == best_load and i < best):
            best, best_load = i, load
    healthy = snap.ring.healthy
    at = healthy.index(best)
    return Decision(healthy[at:] + healthy[:at], "base")


def _sample_base(
    engines: Sequence[EngineView],
    snap: _Snapshot,
    policy: RoutingPolicy,
    in_flight: Sequence[int] | None,
) -> Decision:
    healthy = snap.ring.healthy
    candidates = {snap.base_floor(engines, policy)[0][1], *_rng.sample(healthy, BASE_SAMPLE)}
    best = min(
        candidates,
        key=lambda i: load_of(engines[i], policy, None if in_flight is None else in_flight[i]),
    )
    at = snap.ring.position[best]
    return Decision(tuple(healthy[(at + k) % len(healthy)] for k in range(BASE_ORDER)), "base")


class _Membership:
    """What depends only on which engines are healthy, their names and capacities."""

    def __init__(self, engines: Sequence[EngineView]) -> None:
        self.healthy = tuple(i for i, engine in enumerate(engines) if engine.healthy)
        self.position = {index: at for at, index in enumerate(self.healthy)}
        self._scored = [(engines[i].name, engines[i].capacity, i) for i in self.healthy]
        self._orders: OrderedDict[str, tuple[int, ...]] = OrderedDict()

    def rendezvous(self, adapter: str) -> tuple[int, ...]:
        """Healthy engine indices in the adapter's rendezvous order."""
        order = self._orders.get(adapter)
        if order is not None:
            self._orders.move_to_end(adapter)
            return order
        scored = sorted(
            ((rendezvous_score(adapter, name, cap), i) for name, cap, i in self._scored),
            reverse=True,
        )
        order = tuple(i for _, i in scored)
        self._orders[adapter] = order
        if len(self._orders) > RENDEZVOUS_CACHE:
            self._orders.popitem(last=False)
        return order


class _Snapshot:
    """What is derived from one engines sequence: its membership and who holds what."""

    def __init__(self, engines: Sequence[EngineView], ring: _Membership) -> None:
        self.ring = ring
        index: dict[str, list[int]] = {}
        for i in ring.healthy:
            for name in engines[i].registered:
                index.setdefault(name, []).append(i)
        self.holders = {name: tuple(where) for name, where in index.items()}
        self._rest: dict[str, tuple[int, ...]] = {}
        self._floor: tuple[RoutingPolicy, list[tuple[float, int, int, float]]] | None = None
        self._mean: tuple[RoutingPolicy, float] | None = None

    def mean_load(self, engines: Sequence[EngineView], policy: RoutingPolicy) -> float:
        """Mean load of the healthy engines, without this gateway's in-flight requests."""
        if self._mean is None or self._mean[0] is not policy:
            floors = self.base_floor(engines, policy)
            self._mean = (policy, sum(floor for floor, *_ in floors) / len(floors))
        return self._mean[1]

    def base_floor(
        self, engines: Sequence[EngineView], policy: RoutingPolicy
    ) -> list[tuple[float, int, int, float]]:
        """(load without in-flight, index, running + waiting, capacity), lowest load first."""
        if self._floor is None or self._floor[0] is not policy:
            floors = sorted(
                (load_of(e, policy, 0), i, e.running + e.waiting, e.capacity)
                for i, e in ((i, engines[i]) for i in self.ring.healthy)
            )
            self._floor = (policy, floors)
        return self._floor[1]

    def rest(self, adapter: str) -> tuple[int, ...]:
        """The adapter's rendezvous order without the engines that hold it."""
        rest = self._rest.get(adapter)
        if rest is None:
            held = frozenset(self.holders.get(adapter, ()))
            rest = tuple(i for i in self.ring.rendezvous(adapter) if i not in held)
            self._rest[adapter] = rest
        return rest


_memberships: OrderedDict[tuple[object, ...], _Membership] = OrderedDict()
_last: list[object] = [None, None]
"""The last engines tuple passed and its snapshot (kept alive, so its id is not reused)."""


def _snapshot(engines: Sequence[EngineView]) -> _Snapshot:
    if engines is _last[0] and isinstance(engines, tuple):
        snap = _last[1]
        assert isinstance(snap, _Snapshot)
        return snap
    key = tuple((engine.name, engine.capacity, engine.healthy) for engine in engines)
    ring = _memberships.get(key)
    if ring is None:
        ring = _memberships[key] = _Membership(engines)
        if len(_memberships) > MEMBERSHIPS_KEPT:
            _memberships.popitem(last=False)
    else:
        _memberships.move_to_end(key)
    snap = _Snapshot(engines, ring)
    _last[0], _last[1] = engines, snap
    return snap
