"""A circuit breaker per upstream: stop sending to an upstream that keeps failing.

Closed: requests flow and consecutive failures (connection errors, timeouts, 5xx) are
counted; at ``failures_to_open`` it opens. Open: no request is sent until ``open_s`` has
passed; then it is half-open and lets one probe request through. The probe's success closes
it, its failure opens it again for another ``open_s``. Client errors (4xx) are answers, not
failures: they count as successes.

The pool's health checks feed it too: an upstream whose check fails is tripped open at once
(requests are not sent to it anyway), and closed again when the check passes.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from enum import StrEnum


class BreakerState(StrEnum):
    CLOSED = "closed"
    HALF_OPEN = "half_open"
    OPEN = "open"


GAUGE_VALUES = {BreakerState.CLOSED: 0, BreakerState.HALF_OPEN: 1, BreakerState.OPEN: 2}
"""The ``loragate_upstream_breaker_state`` value of each state."""


class CircuitBreaker:
    """The breaker of one upstream. Not thread-safe: one per process, used from one loop."""

    def __init__(
        self,
        failures_to_open: int = 5,
        open_s: float = 10.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.failures_to_open = failures_to_open
        self.open_s = open_s
        self._clock = clock
        self._state = BreakerState.CLOSED
        self.failures = 0
        """Consecutive failures while closed."""
        self._opened_at = 0.0
        self._probe_since: float | None = None
        """When the half-open probe in flight was let through; None when none is."""

    @property
    def state(self) -> BreakerState:
        """The state now: an open breaker whose wait is over reads as half-open."""
        if self._state is BreakerState.OPEN and self._clock() - self._opened_at >= self.open_s:
            self._state = BreakerState.HALF_OPEN
            self._probe_since = None
        return self._state

    @property
    def gauge(self) -> int:
        return GAUGE_VALUES[self.state]

    @property
    def available(self) -> bool:
        """Whether :meth:`try_acquire` would let a request through now (changes nothing)."""
        state = self.state
        return state is BreakerState.CLOSED or (
            state is BreakerState.HALF_OPEN and not self._probe_in_flight()
        )

    def try_acquire(self) -> bool:
        """Ask to send one request. In half-open this takes the single probe slot; the caller
        then reports the outcome with :meth:`record_success`, :meth:`record_failure` or
        :meth:`release`."""
        state = self.state
        if state is BreakerState.CLOSED:
            return True
        if state is BreakerState.OPEN or self._probe_in_flight():
            return False
        self._probe_since = self._clock()
        return True

    def record_success(self) -> None:
        """The upstream answered (2xx, or a 4xx about the request)."""
        if self.state is BreakerState.OPEN:
            return  # a late answer to a request sent before it opened
        self._state = BreakerState.CLOSED
        self.failures = 0
        self._probe_since = None

    def record_failure(self) -> None:
        """The upstream failed: no connection, no answer in time, or a 5xx."""
        state = self.state
        if state is BreakerState.HALF_OPEN:
            self._open()
        elif state is BreakerState.CLOSED:
            self.failures += 1
            if self.failures >= self.failures_to_open:
                self._open()

    def release(self) -> None:
        """A request let through ended with no verdict (the client went away)."""
        self._probe_since = None

    def trip(self) -> None:
        """Open now: the upstream is known to be down (its health check failed). Each failed
        check restarts the wait, so it stays open (no probe) for as long as it is down."""
        self._open()

    def recovered(self) -> None:
        """The upstream's health check passes again after failing (a restarted engine): close.

        Only a change of health calls this, so a breaker opened by failing requests to an
        upstream whose health check never failed still waits and probes."""
        self._state = BreakerState.CLOSED
        self.failures = 0
        self._probe_since = None

    def _open(self) -> None:
        self._state = BreakerState.OPEN
        self._opened_at = self._clock()
        self._probe_since = None
        self.failures = 0

    def _probe_in_flight(self) -> bool:
        # A probe with no verdict after open_s (a very long answer) stops blocking the slot.
        since = self._probe_since
        return since is not None and self._clock() - since < self.open_s
