"""Shared paths and types of the dataset tests."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

SAMPLES = Path(__file__).resolve().parents[3] / "examples" / "samples"

WriteFile = Callable[[str, str], Path]
