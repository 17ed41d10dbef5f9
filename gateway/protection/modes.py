"""The degradation modes and what each one is, as one setting of the switch."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum


class Mode(StrEnum):
    """What the gateway does with completion requests."""

    NORMAL = "normal"
    """Engines serve everything; fallbacks only when the engines' breakers are open."""
    BASE_ONLY = "base-only"
    """Requests naming an adapter are answered by its base model (marked by a header)."""
    FALLBACK = "fallback"
    """Every completion request goes to the configured fallback upstreams."""
    MAINTENANCE = "maintenance"
    """Every completion request gets 503 with the operator's message."""


MODE_GAUGE = {Mode.NORMAL: 0, Mode.BASE_ONLY: 1, Mode.FALLBACK: 2, Mode.MAINTENANCE: 3}
"""The ``loragate_degradation_mode`` value of each mode."""


@dataclass(frozen=True, slots=True)
class SwitchSetting:
    """One change of the switch: the mode, why, who set it and when."""

    mode: Mode
    reason: str
    actor: str
    changed_at: float | None
    """Unix seconds; None for the built-in normal setting (never changed)."""
    seq: int = 0
    """Order of the change in the database; 0 for the built-in setting."""

    @property
    def since(self) -> str | None:
        """When it took effect, ISO 8601 in UTC."""
        if self.changed_at is None:
            return None
        return datetime.fromtimestamp(self.changed_at, UTC).isoformat(timespec="seconds")

    def describe(self) -> dict[str, object]:
        return {
            "mode": self.mode.value,
            "reason": self.reason,
            "actor": self.actor,
            "changed_at": self.since,
        }


NEVER_CHANGED = SwitchSetting(Mode.NORMAL, "", "default", None)
