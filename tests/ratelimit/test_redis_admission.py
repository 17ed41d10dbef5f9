"""With Redis, a request's charges and its in-flight slot are one call, and so are its
settlement and the slot's return."""

from __future__ import annotations

import asyncio
import time

from redis.asyncio import Redis

from gateway.auth.caller import Caller
from gateway.openai.protocol import ChatCompletionRequest
from gateway.ratelimit.counters import Charge, RedisCounters, SlotClaim
from gateway.ratelimit.gate import SLOTS_KEY
from gateway.ratelimit.limiter import RateLimiter
from gateway.settings import Settings

CALLER = Caller(key_id="key_r", owner="team-r", role="user", rpm=100, tpm=10_000)
BODY = ChatCompletionRequest.model_validate(
    {"model": "m", "messages": [{"role": "user", "content": "x" * 40}], "max_tokens": 10}
)


def claim(lease: str, cap: int = 2) -> SlotClaim:
    return SlotClaim(SLOTS_KEY, cap, lease, time.time() + 30)


async def test_a_charge_takes_the_claimed_slot_only_when_everything_fits(redis_url: str) -> None:
    redis = Redis.from_url(redis_url)
    await redis.delete(SLOTS_KEY)
    counters = RedisCounters(redis, window_s=30)
    await counters.reset()
    first = await counters.charge([Charge("k", 1, 2)], claim("a"))
    second = await counters.charge([Charge("k", 1, 2)], claim("b"))
    over = await counters.charge([Charge("k", 1, 2)], claim("c", cap=5))
    full = await counters.charge([Charge("j", 1, 9)], claim("d"))
    assert (first.slot_taken, second.slot_taken) == (True, True)
    assert over.over == 0
    assert not over.slot_taken  # refused by its limit: no slot either
    assert full.over is None
    assert not full.slot_taken  # both slots are held
    assert sorted(await redis.zrange(SLOTS_KEY, 0, -1)) == [b"a", b"b"]
    await counters.settle_many(SLOTS_KEY, ["a"], [(first.hits[0], -1)])
    assert await redis.zrange(SLOTS_KEY, 0, -1) == [b"b"]
    assert (await counters.charge([Charge("k", 1, 2)])).hits[0].count == 2
    await redis.aclose()


async def test_the_limiter_leaves_no_slot_and_the_real_tokens_behind(redis_url: str) -> None:
    limiter = RateLimiter(Settings(limits={"redis_url": redis_url, "max_in_flight": 3}))
    redis = Redis.from_url(redis_url)
    await redis.delete(SLOTS_KEY)
    await limiter.counters.reset()
    admissions = [await limiter.admit(CALLER, "m", BODY) for _ in range(3)]
    assert await redis.zcard(SLOTS_KEY) == 3
    held = set(await redis.zrange(SLOTS_KEY, 0, -1))
    assert held == {str(a.lease).encode() for a in admissions}  # each took its slot with its charge
    for admission in admissions:
        admission.release(20)
    await limiter.close()  # waits for the settlements
    assert await redis.zcard(SLOTS_KEY) == 0
    tokens = await redis.get("loragate:rl:key:key_r:tokens")
    assert tokens is not None
    assert int(tokens) == 3 * 20  # reservations settled to what was used
    await redis.aclose()


async def test_settlements_of_requests_that_end_together_are_one_call(redis_url: str) -> None:
    limiter = RateLimiter(Settings(limits={"redis_url": redis_url, "max_in_flight": 10}))
    assert limiter.settler is not None
    redis = Redis.from_url(redis_url)
    await redis.delete(SLOTS_KEY)
    calls = 0
    send = limiter.counters.settle_many  # type: ignore[attr-defined]

    async def counted(*args: object) -> None:
        nonlocal calls
        calls += 1
        await send(*args)

    limiter.counters.settle_many = counted  # type: ignore[attr-defined]
    admissions = [await limiter.admit(CALLER, "m", BODY) for _ in range(5)]
    for admission in admissions:
        admission.release(20)
    await asyncio.sleep(0.1)
    assert await redis.zcard(SLOTS_KEY) == 0
    assert calls == 1  # five requests, one settle call
    await limiter.close()
    await redis.aclose()
