"""Fixed-window counters: in this process's memory, or in Redis for every process at once.

A window starts with the first hit of its key and lasts ``window_s``. :meth:`charge` adds
all of a request's charges (its key's requests and tokens, its model's) at once, and takes
them all back if any goes over its limit, so a refused request uses up nothing. In Redis
that is one Lua script, atomic on the server: every worker and replica that shares the
server counts against the same numbers, exactly, in one round trip per request. In memory
the counters are the ``limits`` library's.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass
from typing import Protocol

from limits.aio.storage import MemoryStorage
from redis.asyncio import Redis

KEY_PREFIX = "loragate:rl:"
REDIS_TIMEOUT_S = 2.0
"""Longest wait for one Redis call (one ``asyncio.timeout`` around it: cheaper than a
socket timeout, which costs a task per read). Past it the caller serves the request
unlimited rather than hold it."""

# KEYS: counters. ARGV[1]: window (s); then per key its amount and limit.
# Returns per key its count and ms to the window's end, then the 1-based index of the
# first key over its limit (0: none, and then every charge stays).
CHARGE = """
local window = tonumber(ARGV[1])
local out, over = {}, 0
for i, key in ipairs(KEYS) do
  local amount, limit = tonumber(ARGV[2 * i]), tonumber(ARGV[2 * i + 1])
  local count = redis.call('INCRBY', key, amount)
  if count == amount then redis.call('EXPIRE', key, window) end
  out[#out + 1] = count
  out[#out + 1] = redis.call('PTTL', key)
  if over == 0 and count > limit then over = i end
end
if over > 0 then
  for i, key in ipairs(KEYS) do redis.call('DECRBY', key, tonumber(ARGV[2 * i])) end
end
out[#out + 1] = over
return out
"""

# KEYS: counters. ARGV[1]: window (s); then per key a signed amount. A give-back (< 0)
# only touches a window that still exists.
ADJUST = """
for i, key in ipairs(KEYS) do
  local delta = tonumber(ARGV[i + 1])
  if delta < 0 then
    if redis.call('EXISTS', key) == 1 then redis.call('INCRBY', key, delta) end
  elseif delta > 0 then
    if redis.call('INCRBY', key, delta) == delta then redis.call('EXPIRE', key, ARGV[1]) end
  end
end
return 1
"""


@dataclass(frozen=True, slots=True)
class Charge:
    """``amount`` to add to counter ``key``, whose limit is ``limit``."""

    key: str
    amount: int
    limit: int


@dataclass(frozen=True, slots=True)
class Hit:
    """A counter after a charge: its value, and when its window ends (unix time)."""

    key: str
    count: int
    resets_at: float

    def reset_in(self, now: float | None = None) -> float:
        return max(0.0, self.resets_at - (now if now is not None else time.time()))


@dataclass(frozen=True, slots=True)
class Charged:
    """What :meth:`WindowCounters.charge` found: the hits, and which charge (if any) was over."""

    hits: list[Hit]
    over: int | None


class WindowCounters(Protocol):
    window_s: int

    async def charge(self, charges: list[Charge]) -> Charged:
        """Add every charge, or (when one goes over its limit) none."""

    async def adjust(self, changes: list[tuple[Hit, int]]) -> None:
        """Add (or, while the hit's window lasts, take back) amounts on counters hit before."""

    async def reset(self) -> None:
        """Forget every counter."""


def open_counters(redis: Redis | None, window_s: int) -> WindowCounters:
    """Counters in Redis when a client is given, else in memory."""
    return RedisCounters(redis, window_s) if redis is not None else MemoryCounters(window_s)


class MemoryCounters:
    """One process's counters (the ``limits`` library's memory storage)."""

    def __init__(self, window_s: int) -> None:
        self.window_s = window_s
        self.storage = MemoryStorage()

    async def charge(self, charges: list[Charge]) -> Charged:
        hits: list[Hit] = []
        over = None
        for index, charge in enumerate(charges):
            count = await self.storage.incr(charge.key, self.window_s, amount=charge.amount)
            hits.append(Hit(charge.key, count, await self.storage.get_expiry(charge.key)))
            if over is None and count > charge.limit:
                over = index
        if over is not None:
            for charge in charges:
                await self.storage.decr(charge.key, charge.amount)
        return Charged(hits, over)

    async def adjust(self, changes: list[tuple[Hit, int]]) -> None:
        now = time.time()
        for hit, delta in changes:
            if delta < 0 and now < hit.resets_at:
                await self.storage.decr(hit.key, -delta)
            elif delta > 0:
                await self.storage.incr(hit.key, self.window_s, amount=delta)

    async def reset(self) -> None:
        await self.storage.reset()


class RedisCounters:
    """Counters shared by every process through one Redis server."""

    def __init__(self, redis: Redis, window_s: int) -> None:
        self.window_s = window_s
        self.redis = redis
        self._charge = redis.register_script(CHARGE)
        self._adjust = redis.register_script(ADJUST)

    async def charge(self, charges: list[Charge]) -> Charged:
        keys = [KEY_PREFIX + c.key for c in charges]
        args: list[int] = [self.window_s]
        for c in charges:
            args += [c.amount, c.limit]
        async with asyncio.timeout(REDIS_TIMEOUT_S):
            out = await self._charge(keys=keys, args=args)
        now = time.time()
        hits = [
            Hit(c.key, int(out[2 * i]), now + max(int(out[2 * i + 1]), 0) / 1000)
            for i, c in enumerate(charges)
        ]
        over = int(out[-1])
        return Charged(hits, over - 1 if over else None)

    async def adjust(self, changes: list[tuple[Hit, int]]) -> None:
        now = time.time()
        kept = [(hit, d) for hit, d in changes if d > 0 or (d < 0 and now < hit.resets_at)]
        if not kept:
            return
        keys = [KEY_PREFIX + hit.key for hit, _ in kept]
        async with asyncio.timeout(REDIS_TIMEOUT_S):
            await self._adjust(keys=keys, args=[self.window_s, *(d for _, d in kept)])

    async def reset(self) -> None:
        async for key in self.redis.scan_iter(match=KEY_PREFIX + "*"):
            await self.redis.delete(key)
