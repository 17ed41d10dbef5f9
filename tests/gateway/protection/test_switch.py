"""The degradation switch: persisted, with its history, seen by every worker within a refresh."""

from __future__ import annotations

import asyncio
import time

from gateway.protection.degradation import DegradationSwitch
from gateway.protection.modes import Mode
from gateway.protection.switch_store import SwitchStore
from gateway.state.db import StateDatabase

REFRESH_S = 0.2


def test_changes_persist_with_who_when_why(database_url: str) -> None:
    db = StateDatabase(database_url)
    store = SwitchStore(db)
    assert store.current().mode is Mode.NORMAL
    assert store.current().changed_at is None
    before = time.time()
    store.change(Mode.BASE_ONLY, "adapters misbehave", "alice")
    store.change(Mode.MAINTENANCE, "disk swap", "cli:bob")
    db.close()

    reopened = StateDatabase(database_url)  # a new process reads what the first wrote
    store = SwitchStore(reopened)
    current = store.current()
    assert (current.mode, current.reason, current.actor) == (
        Mode.MAINTENANCE,
        "disk swap",
        "cli:bob",
    )
    assert current.changed_at is not None
    assert current.changed_at >= before
    history = store.history(limit=10)
    assert [(s.mode, s.actor) for s in history] == [
        (Mode.MAINTENANCE, "cli:bob"),
        (Mode.BASE_ONLY, "alice"),
    ]
    assert [s.mode for s in store.history(limit=1)] == [Mode.MAINTENANCE]
    reopened.close()


async def test_another_worker_obeys_within_the_refresh(database_url: str) -> None:
    db_a, db_b = StateDatabase(database_url), StateDatabase(database_url)
    worker_a = DegradationSwitch(SwitchStore(db_a), REFRESH_S)
    worker_b = DegradationSwitch(SwitchStore(db_b), REFRESH_S)
    await worker_a.start()
    await worker_b.start()
    try:
        changed = await worker_a.change(Mode.FALLBACK, "engine upgrade", "alice")
        assert worker_a.mode is Mode.FALLBACK  # the worker that changed it: at once
        assert worker_a.gauge() == 2
        started = time.monotonic()
        while worker_b.mode is not Mode.FALLBACK:
            assert time.monotonic() - started < REFRESH_S * 3, "worker b never saw the change"
            await asyncio.sleep(0.01)
        assert worker_b.setting == changed
        assert [s.mode for s in await worker_b.history(5)] == [Mode.FALLBACK]
    finally:
        await worker_a.stop()
        await worker_b.stop()
        db_a.close()
        db_b.close()


async def test_a_stale_read_never_undoes_a_newer_change(database_url: str) -> None:
    db = StateDatabase(database_url)
    store = SwitchStore(db)
    switch = DegradationSwitch(store, REFRESH_S)
    old = store.change(Mode.BASE_ONLY, "first", "a")
    await switch.change(Mode.NORMAL, "", "b")
    switch._apply(old)  # a refresh that read before the change finishes after it
    assert switch.mode is Mode.NORMAL
    assert switch.gauge() == 0
    db.close()
