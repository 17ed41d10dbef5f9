"""Bounded label values: the first ``limit`` names keep their own series, later ones ``other``.

With several workers the admitted names are shared through marker files in a folder (the
multiprocess metrics folder), so every worker folds the same names the same way. Two
workers admitting different names at the very same moment may overshoot the limit by the
number of workers, never more.
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

from gateway.observability.metrics import OTHER


class LabelFold:
    """Maps names (adapters, models) to label values, at most ``limit`` distinct ones."""

    def __init__(self, limit: int, shared_dir: Path | None = None) -> None:
        self.limit = limit
        self.shared_dir = shared_dir
        self._admitted: set[str] = set()
        self._full = False
        if shared_dir is not None:
            shared_dir.mkdir(parents=True, exist_ok=True)

    def __call__(self, name: str) -> str:
        if name in self._admitted:
            return name
        if self._admit(name):
            self._admitted.add(name)
            return name
        return OTHER

    def known(self, name: str) -> str:
        """The label of a name this worker has admitted already, else ``other``: for gauges
        that describe names (placement) without spending the budget on them."""
        return name if name in self._admitted else OTHER

    def _admit(self, name: str) -> bool:
        if self.shared_dir is None:
            return len(self._admitted) < self.limit
        marker = self.shared_dir / hashlib.sha1(name.encode()).hexdigest()
        if marker.exists():
            return True
        if self._full or len(os.listdir(self.shared_dir)) >= self.limit:
            self._full = True  # nothing is ever removed: the decision is final
            return False
        marker.touch()
        return True


class LabelBudget:
    """The folds for adapter and base-model names, shared by everything that records."""

    def __init__(self, adapter_limit: int, model_limit: int, shared_dir: Path | None) -> None:
        self.adapters = LabelFold(adapter_limit, shared_dir / "adapters" if shared_dir else None)
        self.models = LabelFold(model_limit, shared_dir / "models" if shared_dir else None)


_budget = LabelBudget(adapter_limit=20, model_limit=10, shared_dir=None)


def configure(budget: LabelBudget) -> None:
    """Replace the process's label budget (the app does, from its settings)."""
    global _budget
    _budget = budget


def budget() -> LabelBudget:
    return _budget
