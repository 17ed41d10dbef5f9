"""Fixed-window counters, in memory and in a real Redis."""

from __future__ import annotations

import asyncio

import pytest
from redis.asyncio import Redis

from gateway.ratelimit.counters import Charge, WindowCounters, open_counters


@pytest.fixture(params=["memory", "redis"])
def client(request: pytest.FixtureRequest) -> Redis | None:
    """None for counters in memory, a client of the test Redis for counters there."""
    if request.param == "memory":
        return None
    return Redis.from_url(str(request.getfixturevalue("redis_url")))


@pytest.fixture
async def counters(client: Redis | None) -> WindowCounters:
    return await fresh(client, window_s=30)


async def fresh(client: Redis | None, window_s: int) -> WindowCounters:
    made = open_counters(client, window_s)
    await made.reset()
    return made


async def test_charges_add_up_within_a_window_and_report_its_end(
    counters: WindowCounters,
) -> None:
    first = await counters.charge([Charge("k", 3, 100)])
    second = await counters.charge([Charge("k", 2, 100)])
    assert (first.hits[0].count, second.hits[0].count) == (3, 5)
    assert first.over is None
    assert 28 < second.hits[0].reset_in() <= 30
    assert abs(second.hits[0].resets_at - first.hits[0].resets_at) < 1.5


async def test_a_charge_over_any_limit_leaves_every_counter_as_it_was(
    counters: WindowCounters,
) -> None:
    await counters.charge([Charge("a", 9, 10)])
    refused = await counters.charge([Charge("a", 1, 10), Charge("b", 5, 4), Charge("c", 1, 1)])
    assert refused.over == 1
    assert [h.count for h in refused.hits] == [10, 5, 1]
    kept = await counters.charge([Charge("a", 1, 10), Charge("b", 4, 4)])
    assert kept.over is None
    assert [h.count for h in kept.hits] == [10, 4]


async def test_adjustments_settle_a_reservation(counters: WindowCounters) -> None:
    hit = (await counters.charge([Charge("k", 10, 100)])).hits[0]
    await counters.adjust([(hit, -4)])
    assert (await counters.charge([Charge("k", 1, 100)])).hits[0].count == 7
    await counters.adjust([(hit, +5)])
    assert (await counters.charge([Charge("k", 1, 100)])).hits[0].count == 13


async def test_a_window_ends_and_the_count_starts_again(client: Redis | None) -> None:
    counters = await fresh(client, window_s=1)
    old = (await counters.charge([Charge("k", 5, 100)])).hits[0]
    await asyncio.sleep(1.6)
    assert (await counters.charge([Charge("k", 1, 100)])).hits[0].count == 1
    await counters.adjust([(old, -5)])  # an old window's give-back does not touch the new one
    assert (await counters.charge([Charge("k", 1, 100)])).hits[0].count == 2


async def test_concurrent_charges_from_two_clients_of_one_redis_are_exact(
    redis_url: str,
) -> None:
    a, b = (open_counters(Redis.from_url(redis_url), 30) for _ in range(2))
    await a.reset()
    results = await asyncio.gather(
        *(c.charge([Charge("shared", 1, 37)]) for c in (a, b) for _ in range(50))
    )
    assert sum(r.over is None for r in results) == 37
