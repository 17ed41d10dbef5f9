"""The in-flight cap and its bounded queue, in one process and across processes (Redis)."""

from __future__ import annotations

import asyncio

import pytest
from redis.asyncio import Redis

from gateway.ratelimit.gate import SLOTS_KEY, InFlightGate, LocalSlots, Overloaded, RedisSlots


async def test_a_full_gate_queues_then_serves_in_turn() -> None:
    gate = InFlightGate(LocalSlots(2), max_queued=5, queue_timeout_s=5)
    held = [await gate.enter(), await gate.enter()]
    waiting = asyncio.create_task(gate.enter())
    await asyncio.sleep(0.05)
    assert not waiting.done()
    assert gate.queued == 1
    await gate.leave(held.pop())
    await asyncio.wait_for(waiting, 1)  # woken by the freed slot, not by a poll
    assert gate.queued == 0


async def test_past_the_queue_a_request_is_refused_at_once() -> None:
    gate = InFlightGate(LocalSlots(1), max_queued=1, queue_timeout_s=5)
    await gate.enter()
    queued = asyncio.create_task(gate.enter())
    await asyncio.sleep(0.02)
    with pytest.raises(Overloaded, match="already waiting"):
        await asyncio.wait_for(gate.enter(), 0.5)
    queued.cancel()


async def test_a_wait_longer_than_the_timeout_is_refused() -> None:
    gate = InFlightGate(LocalSlots(1), max_queued=4, queue_timeout_s=0.2)
    await gate.enter()
    with pytest.raises(Overloaded, match=r"within 0\.2 s"):
        await gate.enter()


async def test_redis_slots_are_one_cap_for_every_process(redis_url: str) -> None:
    clients = [Redis.from_url(redis_url) for _ in range(2)]
    await clients[0].delete(SLOTS_KEY)
    gates = [InFlightGate(RedisSlots(c, 3), max_queued=0, queue_timeout_s=1) for c in clients]
    results = await asyncio.gather(
        *(g.enter() for g in gates for _ in range(4)), return_exceptions=True
    )
    leases = [r for r in results if isinstance(r, str)]
    assert len(leases) == 3
    assert sum(isinstance(r, Overloaded) for r in results) == 5
    await gates[0].leave(leases[0])
    assert isinstance(await gates[1].enter(), str)
    for client in clients:
        await client.aclose()


async def test_a_dead_processs_leases_expire(redis_url: str) -> None:
    client = Redis.from_url(redis_url)
    await client.delete(SLOTS_KEY)
    await client.zadd(SLOTS_KEY, {"from-a-dead-worker": 1.0})  # expired long ago
    gate = InFlightGate(RedisSlots(client, 1), max_queued=0, queue_timeout_s=1)
    assert isinstance(await gate.enter(), str)
    await client.aclose()
