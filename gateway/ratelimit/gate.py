"""The cap on completion requests in flight to the engines, with a bounded queue.

A request takes a slot before it is sent and gives it back when its response ends. When
every slot is taken it waits in a queue of bounded length, at most ``queue_timeout_s``;
past the queue's length it is refused at once (503 + Retry-After) rather than piled onto
an engine that is already saturated.

In memory the slots are one process's; with Redis they are leases in one sorted set
shared by every worker and replica. A lease carries an expiry that its holder renews while
the request runs, so the slots of a process that died come back by themselves.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
import uuid
from typing import Protocol

from redis.asyncio import Redis

from gateway.observability.recorders import record_queued
from gateway.ratelimit.counters import REDIS_TIMEOUT_S, SlotClaim

log = logging.getLogger("loragate.ratelimit")

LEASE_TTL_S = 30.0
RENEW_EVERY_S = 10.0
POLL_S = 0.01
SLOTS_KEY = "loragate:inflight"

# KEYS[1]: the sorted set of leases; ARGV: now, cap, lease expiry, lease id.
ACQUIRE = """
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', ARGV[1])
if redis.call('ZCARD', KEYS[1]) < tonumber(ARGV[2]) then
  redis.call('ZADD', KEYS[1], ARGV[3], ARGV[4])
  return 1
end
return 0
"""


class Slots(Protocol):
    """Where the slots are counted."""

    async def try_take(self) -> str | None: ...
    async def give_back(self, lease: str) -> None: ...


class LocalSlots:
    """This process's slots."""

    def __init__(self, cap: int) -> None:
        self.cap = cap
        self.taken = 0

    async def try_take(self) -> str | None:
        if self.taken >= self.cap:
            return None
        self.taken += 1
        return "local"

    async def give_back(self, lease: str) -> None:
        self.taken = max(0, self.taken - 1)


class RedisSlots:
    """Slots shared through Redis: one lease per request, renewed while it runs."""

    def __init__(self, redis: Redis, cap: int) -> None:
        self.redis = redis
        self.cap = cap
        self.held: set[str] = set()
        self._acquire = redis.register_script(ACQUIRE)
        self._renewer: asyncio.Task[None] | None = None

    def claim(self) -> SlotClaim:
        """A try for a slot that another Redis call (the request's charge) makes."""
        return SlotClaim(SLOTS_KEY, self.cap, uuid.uuid4().hex, time.time() + LEASE_TTL_S)

    def adopt(self, lease: str) -> None:
        """Hold (and keep renewing) a lease taken elsewhere."""
        self.held.add(lease)
        if self._renewer is None or self._renewer.done():
            self._renewer = asyncio.create_task(self._renew_forever(), name="slot-renewer")

    def forget(self, lease: str) -> None:
        """Stop renewing a lease given back elsewhere."""
        self.held.discard(lease)

    async def try_take(self) -> str | None:
        claim = self.claim()
        args: list[str | int | float] = [time.time(), self.cap, claim.expires_at, claim.lease]
        async with asyncio.timeout(REDIS_TIMEOUT_S):
            took = await self._acquire(keys=[SLOTS_KEY], args=args)
        if not took:
            return None
        self.adopt(claim.lease)
        return claim.lease

    async def give_back(self, lease: str) -> None:
        self.held.discard(lease)
        async with asyncio.timeout(REDIS_TIMEOUT_S):
            await self.redis.zrem(SLOTS_KEY, lease)

    async def _renew_forever(self) -> None:
        while self.held:
            await asyncio.sleep(RENEW_EVERY_S)
            expiry = time.time() + LEASE_TTL_S
            leases = list(self.held)
            if leases:
                try:
                    async with asyncio.timeout(REDIS_TIMEOUT_S):
                        await self.redis.zadd(SLOTS_KEY, dict.fromkeys(leases, expiry), xx=True)
                except Exception as exc:  # the next renewal tries again
                    log.warning("could not renew in-flight leases: %r", exc)

    async def close(self) -> None:
        if self._renewer is not None:
            self._renewer.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._renewer


class Overloaded(Exception):
    """No slot: the queue is full, or the wait for a slot timed out."""

    def __init__(self, why: str) -> None:
        super().__init__(why)
        self.why = why


class InFlightGate:
    """Hands out slots; waits in a bounded queue when there is none."""

    def __init__(self, slots: Slots, max_queued: int, queue_timeout_s: float) -> None:
        self.slots = slots
        self.max_queued = max_queued
        self.queue_timeout_s = queue_timeout_s
        self.queued = 0
        self._freed = asyncio.Event()

    async def enter(self) -> str:
        """A lease on a slot; raises :class:`Overloaded` when none can be had."""
        lease = await self.slots.try_take()
        if lease is not None:
            return lease
        if self.queued >= self.max_queued:
            raise Overloaded(f"{self.queued} requests are already waiting")
        self.queued += 1
        record_queued(+1)
        try:
            return await self._wait()
        finally:
            self.queued -= 1
            record_queued(-1)

    async def _wait(self) -> str:
        deadline = time.monotonic() + self.queue_timeout_s
        delay = POLL_S
        while (left := deadline - time.monotonic()) > 0:
            # woken at once by a slot this process frees; polls for the others' slots
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._freed.wait(), min(delay, left))
            lease = await self.slots.try_take()
            if lease is not None:
                return lease
            delay = min(delay * 1.5, 0.1)
        raise Overloaded(f"no slot freed up within {self.queue_timeout_s:g} s")

    async def leave(self, lease: str) -> None:
        await self.slots.give_back(lease)
        self.wake()

    def wake(self) -> None:
        """A slot was given back: the requests waiting here try again at once."""
        freed, self._freed = self._freed, asyncio.Event()
        freed.set()
