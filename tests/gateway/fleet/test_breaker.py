"""The circuit breaker's state machine, on a clock the tests move by hand."""

from __future__ import annotations

import pytest

from gateway.fleet.breaker import BreakerState, CircuitBreaker


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def breaker(clock: Clock) -> CircuitBreaker:
    return CircuitBreaker(failures_to_open=3, open_s=10.0, clock=clock)


def state_of(breaker: CircuitBreaker) -> BreakerState:
    """Read through a call, so that mypy does not carry one reading over to the next."""
    return breaker.state


def fail(breaker: CircuitBreaker, times: int) -> None:
    for _ in range(times):
        assert breaker.try_acquire()
        breaker.record_failure()


def test_opens_after_consecutive_failures_only(breaker: CircuitBreaker) -> None:
    fail(breaker, 2)
    assert breaker.try_acquire()
    breaker.record_success()  # a success in between starts the count again
    fail(breaker, 2)
    assert state_of(breaker) is BreakerState.CLOSED
    assert breaker.gauge == 0
    fail(breaker, 1)
    assert state_of(breaker) is BreakerState.OPEN
    assert breaker.gauge == 2
    assert not breaker.try_acquire()
    assert not breaker.available


def test_half_open_after_the_wait_lets_exactly_one_probe(
    breaker: CircuitBreaker, clock: Clock
) -> None:
    fail(breaker, 3)
    clock.now += 9.9
    assert state_of(breaker) is BreakerState.OPEN
    clock.now += 0.1
    assert state_of(breaker) is BreakerState.HALF_OPEN
    assert breaker.gauge == 1
    assert breaker.available
    assert breaker.try_acquire()  # the probe
    assert not breaker.try_acquire()  # everyone else waits for its verdict
    assert not breaker.available


def test_probe_success_closes(breaker: CircuitBreaker, clock: Clock) -> None:
    fail(breaker, 3)
    clock.now += 10
    assert breaker.try_acquire()
    breaker.record_success()
    assert state_of(breaker) is BreakerState.CLOSED
    assert breaker.try_acquire()
    assert breaker.try_acquire()


def test_probe_failure_reopens_for_another_wait(breaker: CircuitBreaker, clock: Clock) -> None:
    fail(breaker, 3)
    clock.now += 10
    assert breaker.try_acquire()
    breaker.record_failure()
    assert state_of(breaker) is BreakerState.OPEN
    clock.now += 9
    assert not breaker.try_acquire()
    clock.now += 1
    assert breaker.try_acquire()


def test_a_probe_without_verdict_frees_its_slot(breaker: CircuitBreaker, clock: Clock) -> None:
    fail(breaker, 3)
    clock.now += 10
    assert breaker.try_acquire()
    breaker.release()  # the client went away
    assert breaker.try_acquire()
    clock.now += 10  # a probe that never reports stops blocking after open_s
    assert breaker.try_acquire()


def test_late_success_does_not_close_an_open_breaker(breaker: CircuitBreaker) -> None:
    fail(breaker, 3)
    breaker.record_success()  # an answer to a request sent before it opened
    assert state_of(breaker) is BreakerState.OPEN


def test_health_checks_trip_and_recover(breaker: CircuitBreaker, clock: Clock) -> None:
    breaker.trip()
    assert state_of(breaker) is BreakerState.OPEN
    for _ in range(20):  # checked every second, still down: it stays open, no probe
        clock.now += 1
        breaker.trip()
        assert state_of(breaker) is BreakerState.OPEN
    breaker.recovered()
    assert state_of(breaker) is BreakerState.CLOSED
    assert breaker.failures == 0
