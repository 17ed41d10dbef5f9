"""What a synthesis run did: calls, answers, accepted, rejected by reason."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from trainer.datasets.synth.parse import Reason
from trainer.datasets.synth.teacher import CallCounts


@dataclass
class Tally:
    target: int
    existing: int
    calls: CallCounts
    answers: int = 0
    accepted: int = 0
    surplus: int = 0
    """Answers that came back after the target was met (not checked, not written)."""
    rejected: Counter[Reason] = field(default_factory=Counter)
    examples: dict[str, str] = field(default_factory=dict)
    """The first rejected answer's detail for each reason."""

    @property
    def done(self) -> bool:
        return self.existing + self.accepted >= self.target

    def reject(self, reason: Reason, detail: str) -> None:
        self.rejected[reason] += 1
        self.examples.setdefault(reason, detail)

    def as_dict(self) -> dict[str, Any]:
        return {
            "target": self.target,
            "existing": self.existing,
            "calls": self.calls.calls,
            "call_cap": self.calls.cap,
            "retried": dict(self.calls.retried),
            "failed_calls": dict(self.calls.failed),
            "answers": self.answers,
            "accepted": self.accepted,
            "rejected": dict(self.rejected),
            "rejected_examples": self.examples,
            "surplus": self.surplus,
        }
