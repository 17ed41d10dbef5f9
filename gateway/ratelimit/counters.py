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

# KEYS: counters, then the in-flight slot set when a slot is claimed. ARGV[1]: window (s);
# ARGV[2]: slot cap (0: no claim); ARGV[3]: now; ARGV[4]: lease expiry; ARGV[5]: lease id;
# then per counter its amount and limit. Returns per counter its count and ms to the
# window's end, then the 1-based index of the first counter over its limit (0: none, and
# then every charge stays), then 1 when the slot was taken.
CHARGE = """
local window, cap = tonumber(ARGV[1]), tonumber(ARGV[2])
local n = #KEYS
if cap > 0 then n = n - 1 end
local out, over = {}, 0
for i = 1, n do
  local key = KEYS[i]
  local amount, limit = tonumber(ARGV[4 + 2 * i]), tonumber(ARGV[5 + 2 * i])
  local count = redis.call('INCRBY', key, amount)
  if count == amount then redis.call('EXPIRE', key, window) end
  out[#out + 1] = count
  out[#out + 1] = redis.call('PTTL', key)
  if over == 0 and count > limit then over = i end
end
if over > 0 then
  for i = 1, n do redis.call('DECRBY', KEYS[i], tonumber(ARGV[4 + 2 * i])) end
end
local slot = 0
if over == 0 and cap > 0 then
  local slots = KEYS[#KEYS]
  redis.call('ZREMRANGEBYSCORE', slots, '-inf', ARGV[3])
  if redis.call('ZCARD', slots) < cap then
    redis.call('ZADD', slots, ARGV[4], ARGV[5])
    slot = 1
  end
end
out[#out + 1] = over
out[#out + 1] = slot
return out
"""

# KEYS[1]: the in-flight slot set; KEYS[2..]: counters. ARGV[1]: window (s); ARGV[2]: how
# many leases to give back; then the leases; then per counter a signed amount. A give-back
# (< 0) only touches a window that still exists.
SETTLE = """
local leases = tonumber(ARGV[2])
for i = 1, leases do redis.call('ZREM', KEYS[1], ARGV[2 + i]) end
for i = 2, #KEYS do
  local key, delta = KEYS[i], tonumber(ARGV[1 + leases + i])
  if delta < 0 then
    if redis.call('EXISTS', key) == 1 then redis.call('INCRBY', key, delta) end
  elseif delta > 0 then
    if redis.call('INCRBY', key, delta) == delta then redis.call('EXPIRE', key, ARGV[1]) end
  end
end
return 1
"""


@dataclass(frozen=True, slots=True)
class SlotClaim:
    """A try for an in-flight slot, made in the same Redis call as a request's charges."""

    key: str
    cap: int
    lease: str
    expires_at: float


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
    """What :meth:`WindowCounters.charge` found: the hits, which charge (if any) was over,
    and whether the claimed slot was taken."""

    hits: list[Hit]
    over: int | None
    slot_taken: bool = False


class WindowCounters(Protocol):
    window_s: int

    async def charge(self, charges: list[Charge], claim: SlotClaim | None = None) -> Charged:
        """Add every charge, or (when one goes over its limit) none; then, if all fit and
        the store can, take the claimed slot in the same step."""

    async def adjust(self, changes: list[tuple[Hit, int]]) -> None:
        """Add (or, while the hit's window lasts, take back) amounts on counters hit before."""

    async def reset(self) -> None:
        """Forget every counter."""


def open_counters(redis: Redis | None, window_s: int) -> WindowCounters:
    """Counters in Redis when a client is given, else in memory."""
    return RedisCounters(redis, window_s) if redis is not None else MemoryCounters(window_s)


class MemoryCounters:
    """One process's counters (the ``limits`` library's memory storage); slots are not
    kept here (``claim`` is never taken)."""

    def __init__(self, window_s: int) -> None:
        self.window_s = window_s
        self.storage = MemoryStorage()

    async def charge(self, charges: list[Charge], claim: SlotClaim | None = None) -> Charged:
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
        self._settle = redis.register_script(SETTLE)

    async def charge(self, charges: list[Charge], claim: SlotClaim | None = None) -> Charged:
        keys = [KEY_PREFIX + c.key for c in charges]
        args: list[str | int | float] = [self.window_s, 0, 0, 0, ""]
        if claim is not None:
            keys.append(claim.key)
            args = [self.window_s, claim.cap, time.time(), claim.expires_at, claim.lease]
        for c in charges:
            args += [c.amount, c.limit]
        async with asyncio.timeout(REDIS_TIMEOUT_S):
            out = await self._charge(keys=keys, args=args)
        now = time.time()
        hits = [
            Hit(c.key, int(out[2 * i]), now + max(int(out[2 * i + 1]), 0) / 1000)
            for i, c in enumerate(charges)
        ]
        over = int(out[-2])
        return Charged(hits, over - 1 if over else None, slot_taken=bool(int(out[-1])))

    async def adjust(self, changes: list[tuple[Hit, int]]) -> None:
        await self.settle_many("", [], changes)

    async def settle_many(
        self, slots_key: str, leases: list[str], changes: list[tuple[Hit, int]]
    ) -> None:
        """Give slots back and adjust counters (summed per counter), in one call."""
        now = time.time()
        deltas: dict[str, int] = {}
        for hit, delta in changes:
            if delta > 0 or (delta < 0 and now < hit.resets_at):
                deltas[hit.key] = deltas.get(hit.key, 0) + delta
        deltas = {key: delta for key, delta in deltas.items() if delta}
        if not leases and not deltas:
            return
        keys = [slots_key or KEY_PREFIX + "none", *(KEY_PREFIX + key for key in deltas)]
        args: list[str | int] = [self.window_s, len(leases), *leases, *deltas.values()]
        async with asyncio.timeout(REDIS_TIMEOUT_S):
            await self._settle(keys=keys, args=args)

    async def reset(self) -> None:
        async for key in self.redis.scan_iter(match=KEY_PREFIX + "*"):
            await self.redis.delete(key)
