"""The degradation switch at rest: one row per change, the newest in force.

Every gateway worker and replica, and ``loragate degrade``, read and write the same table
(in the product database), so a change made anywhere is seen everywhere.
"""

from __future__ import annotations

import logging
import time

from sqlalchemy import select

from gateway.protection.modes import NEVER_CHANGED, Mode, SwitchSetting
from gateway.state.db import StateDatabase
from gateway.state.tables import DegradationRow

log = logging.getLogger("loragate.degradation")

MAX_REASON_CHARS = 1000
MAX_ACTOR_CHARS = 128


class SwitchStore:
    """Reads and appends degradation changes (blocking calls: run them off the event loop)."""

    def __init__(self, db: StateDatabase) -> None:
        self.db = db

    def current(self) -> SwitchSetting:
        """The setting in force: the newest change, or normal when there is none."""
        newest = self.history(limit=1)
        return newest[0] if newest else NEVER_CHANGED

    def history(self, limit: int = 20) -> list[SwitchSetting]:
        """The last ``limit`` changes, newest first."""
        query = select(DegradationRow).order_by(DegradationRow.seq.desc()).limit(limit)
        with self.db.session() as session:
            return [_setting(row) for row in session.scalars(query)]

    def change(self, mode: Mode, reason: str, actor: str) -> SwitchSetting:
        """Record a change; it is in force from now on."""
        row = DegradationRow(
            mode=mode.value,
            reason=reason[:MAX_REASON_CHARS],
            actor=actor[:MAX_ACTOR_CHARS],
            changed_at=time.time(),
        )
        with self.db.session() as session, session.begin():
            session.add(row)
        setting = _setting(row)
        log.warning("degradation mode set to %s by %s: %s", mode.value, actor, reason)
        return setting


def _setting(row: DegradationRow) -> SwitchSetting:
    try:
        mode = Mode(row.mode)
    except ValueError:  # written by a newer version: the safe reading is normal
        log.error("unknown degradation mode %r in change %d; treated as normal", row.mode, row.seq)
        mode = Mode.NORMAL
    return SwitchSetting(mode, row.reason, row.actor, row.changed_at, row.seq)
