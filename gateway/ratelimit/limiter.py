"""Admission of a completion request: its rate limits, then a slot at the engines.

:meth:`RateLimiter.admit` counts the request and reserves its tokens against every limit
that applies (the caller's key, the model) in one step, then takes an in-flight slot; the
:class:`Admission` it returns settles the tokens to the real count and frees the slot when
the response ends. Anything refused is refused before the engine sees it.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Coroutine
from dataclasses import dataclass, field
from typing import Any

from pydantic import BaseModel
from redis.asyncio import Redis

from gateway.auth.caller import Caller
from gateway.errors import APIError, service_unavailable
from gateway.observability.recorders import record_rate_limit_rejection
from gateway.ratelimit.counters import (
    REDIS_TIMEOUT_S,
    Charge,
    Hit,
    RedisCounters,
    open_counters,
)
from gateway.ratelimit.gate import (
    SLOTS_KEY,
    InFlightGate,
    LocalSlots,
    Overloaded,
    RedisSlots,
    Slots,
)
from gateway.ratelimit.headers import limit_headers, rate_limited, too_large
from gateway.ratelimit.policy import Limit, ModelLimits, limits_for, reserved_tokens
from gateway.ratelimit.settler import BatchedSettler
from gateway.settings import Settings

log = logging.getLogger("loragate.ratelimit")

WARN_EVERY_S = 10.0


class StoreTrouble:
    """Logs a failing counter store at most once every ``WARN_EVERY_S`` (not per request)."""

    def __init__(self) -> None:
        self._last = float("-inf")
        self.skipped = 0

    def note(self, what: str, exc: BaseException) -> None:
        self.skipped += 1
        now = time.monotonic()
        if now - self._last >= WARN_EVERY_S:
            self._last = now
            log.warning("%s (%d so far): %r", what, self.skipped, exc)


@dataclass
class Admission:
    """A request let through: what it holds until its response ends."""

    limiter: RateLimiter
    request_hits: list[Hit] = field(default_factory=list)
    token_hits: list[Hit] = field(default_factory=list)
    reserved: int = 0
    lease: str | None = None
    headers: dict[str, str] = field(default_factory=dict)
    _released: bool = False

    def release(self, used_tokens: int | None, failed: bool = False) -> None:
        """Settle tokens (the real count; none for a failure) and free the slot.

        Never waits: the work is batched (Redis) or runs in a task of its own (memory), so
        a cancelled response still gives its slot back. ``used_tokens`` None on success (a
        stream without usage) keeps the reservation.
        """
        if self._released:
            return
        self._released = True
        used = 0 if failed else used_tokens
        changes: list[tuple[Hit, int]] = []
        if used is not None and used != self.reserved:
            changes = [(hit, used - self.reserved) for hit in self.token_hits]
        self.limiter.finish(self.lease, changes)


class RateLimiter:
    """Checks every request against its limits; one per gateway worker."""

    def __init__(self, settings: Settings) -> None:
        config = settings.limits
        self.settings = config
        self.retry_after_s = settings.retry_after_s
        self.redis: Redis | None = None
        if config.redis_url:
            self.redis = Redis.from_url(config.redis_url, socket_connect_timeout=REDIS_TIMEOUT_S)
        self.trouble = StoreTrouble()
        self.counters = open_counters(self.redis, config.window_s)
        slots: Slots = (
            RedisSlots(self.redis, config.max_in_flight)
            if self.redis is not None
            else LocalSlots(config.max_in_flight)
        )
        self.gate = InFlightGate(slots, config.max_queued, config.queue_timeout_s)
        self.settler: BatchedSettler | None = None
        if isinstance(self.counters, RedisCounters):
            self.settler = BatchedSettler(
                self.counters, SLOTS_KEY, self.gate.wake, self.trouble.note
            )
        self.model_limits = ModelLimits(config.models)
        self._tasks: set[asyncio.Task[None]] = set()

    async def admit(self, caller: Caller, model: str, parsed: BaseModel) -> Admission:
        """Count the request in; raises 429 (a limit), 400 (never fits) or 503 (overloaded)."""
        requests, tokens = limits_for(caller, model, self.settings, self.model_limits.get(model))
        admission = Admission(self)
        try:
            if requests or tokens:
                await self._charge(requests, tokens, parsed, admission)
            if admission.lease is None:
                admission.lease = await self.gate.enter()
        except Overloaded as exc:
            self._give_back(admission)
            record_rate_limit_rejection("concurrency")
            raise self._overloaded(exc.why) from None
        except APIError:
            raise
        except Exception as exc:  # the counters' store is down: serve rather than refuse
            self.trouble.note("rate limiting skipped, its store failed", exc)
        return admission

    async def _charge(
        self, requests: list[Limit], tokens: list[Limit], parsed: BaseModel, admission: Admission
    ) -> None:
        if tokens:
            admission.reserved = reserved_tokens(parsed, self.settings.reserve_completion_tokens)
            for limit in tokens:
                if admission.reserved > limit.amount:
                    raise too_large(limit, admission.reserved)
        limits = requests + tokens
        amounts = [1] * len(requests) + [admission.reserved] * len(tokens)
        slots = self.gate.slots
        claim = slots.claim() if isinstance(slots, RedisSlots) else None
        charged = await self.counters.charge(
            [Charge(lim.key, n, lim.amount) for lim, n in zip(limits, amounts, strict=True)],
            claim,
        )
        now = time.time()
        for limit, hit in zip(limits, charged.hits, strict=True):
            if limit.scope == "key":
                admission.headers.update(limit_headers(limit, hit, now))
        if charged.over is not None:
            limit, hit = limits[charged.over], charged.hits[charged.over]
            record_rate_limit_rejection(limit.kind)
            amount = amounts[charged.over]
            raise rate_limited(limit, hit, amount, now, admission.headers)
        admission.request_hits = charged.hits[: len(requests)]
        admission.token_hits = charged.hits[len(requests) :]
        if claim is not None and charged.slot_taken:  # the slot came with the charge
            assert isinstance(slots, RedisSlots)
            slots.adopt(claim.lease)
            admission.lease = claim.lease

    def _give_back(self, admission: Admission) -> None:
        """A request refused after it was counted (no slot) gives back what it counted."""
        changes = [(hit, -1) for hit in admission.request_hits]
        changes += [(hit, -admission.reserved) for hit in admission.token_hits]
        if changes:
            self.schedule(self.counters.adjust(changes))

    def finish(self, lease: str | None, changes: list[tuple[Hit, int]]) -> None:
        """Give a request's slot back and settle its tokens, without waiting."""
        slots = self.gate.slots
        if self.settler is not None and isinstance(slots, RedisSlots):
            if lease is not None:
                slots.forget(lease)
            self.settler.add(lease, changes)
        elif lease is not None or changes:
            self.schedule(self._finish_here(lease, changes))

    async def _finish_here(self, lease: str | None, changes: list[tuple[Hit, int]]) -> None:
        try:
            if lease is not None:
                await self.gate.leave(lease)
            if changes:
                await self.counters.adjust(changes)
        except Exception as exc:
            self.trouble.note("could not settle a request's limits", exc)

    def schedule(self, work: Coroutine[Any, Any, None]) -> None:
        task = asyncio.get_running_loop().create_task(work)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    def _overloaded(self, why: str) -> APIError:
        return service_unavailable(
            f"The model service is at capacity ({why}); retry after {self.retry_after_s} s.",
            "engine_overloaded",
            self.retry_after_s,
        )

    async def close(self) -> None:
        if self._tasks:
            await asyncio.gather(*self._tasks, return_exceptions=True)
        if self.settler is not None:
            await self.settler.close()
        if isinstance(self.gate.slots, RedisSlots):
            await self.gate.slots.close()
        if self.redis is not None:
            await self.redis.aclose()
