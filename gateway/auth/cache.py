"""A per-process cache of key lookups, so the hot path does not touch the database.

Entries (found callers and unknown keys alike) live ``ttl_s`` seconds: a revoked key keeps
working on a worker for at most that long. The cache is bounded: when full, expired
entries go, and if that is not enough, all of them (a flood of random keys cannot grow it).
"""

from __future__ import annotations

import time

from gateway.auth.caller import Caller

MAX_ENTRIES = 10_000


class KeyCache:
    """Secret hash -> (the caller, or None for an unknown key; monotonic expiry time)."""

    def __init__(self, ttl_s: float, max_entries: int = MAX_ENTRIES) -> None:
        self.ttl_s = ttl_s
        self.max_entries = max_entries
        self._entries: dict[str, tuple[Caller | None, float]] = {}

    def get(self, secret_hash: str) -> tuple[bool, Caller | None]:
        """(whether a fresh entry exists, the caller it holds)."""
        entry = self._entries.get(secret_hash)
        if entry is None or entry[1] <= time.monotonic():
            return False, None
        return True, entry[0]

    def put(self, secret_hash: str, caller: Caller | None) -> None:
        if self.ttl_s <= 0:
            return
        now = time.monotonic()
        if len(self._entries) >= self.max_entries:
            self._entries = {k: v for k, v in self._entries.items() if v[1] > now}
            if len(self._entries) >= self.max_entries:
                self._entries.clear()
        self._entries[secret_hash] = (caller, now + self.ttl_s)

    def clear(self) -> None:
        """Forget every entry (after a revocation, so this worker obeys it at once)."""
        self._entries.clear()

    def __len__(self) -> int:
        return len(self._entries)
