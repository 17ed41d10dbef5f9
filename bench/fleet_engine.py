"""A vLLM engine as the fleet simulation models it, from a profile (bench/results/*.json).

Continuous batching in steps. Each step admits waiting requests first come first served, up
to ``max_batch`` running and ``max_loras`` distinct adapters in the batch (a request whose
adapter does not fit is skipped and stays waiting, as vLLM's scheduler does). Adapters live in
two least-recently-used tiers, as in vLLM: ``max_loras`` slots the batch computes with, and a
cache of ``cpu_loras`` (vLLM's ``--max-cpu-loras``) they are swapped in from. An adapter not
in a slot stalls its step by the profile's slot swap time; one not in the cache either is
loaded from disk first (an adapter load: the profile's load time).

A step lasts the decode step for its batch size and number of distinct adapters, plus the
prefill of every request admitted in it; each running request gets one token per step; an
admitted request's first token comes at the end of its step.
"""

from __future__ import annotations

from collections import OrderedDict, deque
from dataclasses import dataclass, field
from typing import Any

ADMIT_SCAN = 512
"""Waiting requests looked at per step (keeps overloaded runs fast; vLLM looks at all)."""


@dataclass(slots=True)
class Request:
    arrival: float
    adapter: str | None
    engine: int = -1
    tokens: int = 0
    first_token: float | None = None


@dataclass(frozen=True, slots=True)
class Profile:
    name: str
    max_batch: int
    max_loras: int
    output_tokens: int
    step_single_s: float
    step_by_adapters_s: tuple[float, ...]
    """Decode step at ``profile_batch`` with k = 1..max_loras distinct adapters."""
    profile_batch: int
    prefill_s: float
    load_s: float
    slot_s: float
    cpu_loras: int

    @classmethod
    def from_json(
        cls, data: dict[str, Any], max_batch: int, output_tokens: int, cpu_loras: int
    ) -> Profile:
        return cls(
            name=str(data["profile"]),
            max_batch=max_batch,
            max_loras=int(data["max_loras"]),
            output_tokens=output_tokens,
            step_single_s=float(data["decode_step_ms_single"]) / 1000,
            step_by_adapters_s=tuple(v / 1000 for v in data["decode_step_ms_by_adapters"]),
            profile_batch=int(data["batch"]),
            prefill_s=float(data["prefill_ms"]) / 1000,
            # The first request after a load pays for the rest of it (measured separately).
            load_s=(
                float(data["adapter_load_ms"]) + float(data.get("adapter_first_use_extra_ms", 0))
            )
            / 1000,
            slot_s=float(data["slot_swap_ms"]) / 1000,
            cpu_loras=cpu_loras,
        )

    def step_s(self, batch: int, distinct: int) -> float:
        """Decode step time: linear in the batch size, plus the cost of distinct adapters."""
        one = self.step_by_adapters_s[0]
        per_seq = (one - self.step_single_s) / max(self.profile_batch - 1, 1)
        extra = self.step_by_adapters_s[min(max(distinct, 1), len(self.step_by_adapters_s)) - 1]
        return self.step_single_s + per_seq * (batch - 1) + max(extra - one, 0.0)

    @property
    def requests_per_s(self) -> float:
        """One engine's throughput with one adapter per batch (a full batch, end to end)."""
        per_batch = self.output_tokens * self.step_s(self.max_batch, 1)
        per_batch += self.max_batch * self.prefill_s
        return self.max_batch / per_batch


@dataclass
class SimEngine:
    profile: Profile
    waiting: deque[Request] = field(default_factory=deque)
    running: list[Request] = field(default_factory=list)
    slots: OrderedDict[str, None] = field(default_factory=OrderedDict)
    cache: OrderedDict[str, None] = field(default_factory=OrderedDict)
    registered: set[str] = field(default_factory=set)
    """Adapters the gateway has loaded here (its /v1/models): they stay registered."""
    step_end: float | None = None
    admitted: list[Request] = field(default_factory=list)
    loads: int = 0
    occupancy_s: float = 0.0
    """Integral of the running batch size over time."""

    @property
    def queued(self) -> int:
        return len(self.waiting) + len(self.running)

    def active_adapters(self) -> frozenset[str]:
        names = {r.adapter for r in self.running if r.adapter is not None}
        names.update(r.adapter for r in self.waiting if r.adapter is not None)
        return frozenset(names)

    def start_step(self, now: float) -> float:
        """Starts the next step; returns when it ends."""
        profile = self.profile
        in_batch = {r.adapter for r in self.running if r.adapter is not None}
        admitted: list[Request] = []
        skipped: list[Request] = []
        scanned = 0
        while self.waiting and len(self.running) + len(admitted) < profile.max_batch:
            if scanned >= ADMIT_SCAN:
                break
            scanned += 1
            request = self.waiting.popleft()
            name = request.adapter
            if name is not None and name not in in_batch:
                if len(in_batch) >= profile.max_loras:
                    skipped.append(request)
                    continue
                in_batch.add(name)
            admitted.append(request)
        self.waiting.extendleft(reversed(skipped))
        stall = 0.0
        for name in dict.fromkeys(r.adapter for r in admitted if r.adapter is not None):
            stall += self._use(name, in_batch)
        self.running.extend(admitted)
        self.admitted = admitted
        duration = profile.step_s(len(self.running), len(in_batch))
        duration += profile.prefill_s * len(admitted) + stall
        self.occupancy_s += len(self.running) * duration
        self.step_end = now + duration
        return self.step_end

    def end_step(self, now: float) -> list[Request]:
        """Tokens of the step; returns the requests it finished."""
        for request in self.admitted:
            request.first_token = now
        done: list[Request] = []
        still: list[Request] = []
        for request in self.running:
            request.tokens += 1
            (done if request.tokens >= self.profile.output_tokens else still).append(request)
        self.running = still
        self.admitted = []
        self.step_end = None
        return done

    def prime(self, name: str) -> None:
        """The adapter was loaded here before the measured run (registered and cached)."""
        self.registered.add(name)
        _insert(self.cache, name, self.profile.cpu_loras, set())

    def _use(self, name: str, in_batch: set[str]) -> float:
        if name in self.slots:
            self.slots.move_to_end(name)
            return 0.0
        stall = self.profile.slot_s
        if name in self.cache:
            self.cache.move_to_end(name)
        else:
            self.loads += 1
            stall += self.profile.load_s
            _insert(self.cache, name, self.profile.cpu_loras, in_batch)
        _insert(self.slots, name, self.profile.max_loras, in_batch)
        return stall


def _insert(tier: OrderedDict[str, None], name: str, size: int, in_batch: set[str]) -> None:
    """Add ``name``; past ``size``, drop the least recently used adapter not in the batch."""
    tier[name] = None
    if len(tier) > size:
        for old in tier:
            if old not in in_batch:
                del tier[old]
                break
