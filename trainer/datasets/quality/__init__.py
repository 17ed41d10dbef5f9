"""Quality report of a dataset: what is well-formed but bad (duplicates, conflicts,
imbalance, cut-off answers, over-long examples), with a severity and the lines concerned.

Names are imported on first use: reading a stored report (``sidecar``) must not load the
MinHash and tokenizer machinery that making one needs (the gateway reads reports)."""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from trainer.datasets.quality.build import DEFAULT_MAX_SEQ_LEN, build_report
    from trainer.datasets.quality.findings import Finding, QualityReport
    from trainer.datasets.quality.sidecar import load_report, report_path, save_report

_HOMES = {
    "DEFAULT_MAX_SEQ_LEN": "build",
    "build_report": "build",
    "Finding": "findings",
    "QualityReport": "findings",
    "load_report": "sidecar",
    "report_path": "sidecar",
    "save_report": "sidecar",
}

__all__ = [
    "DEFAULT_MAX_SEQ_LEN",
    "Finding",
    "QualityReport",
    "build_report",
    "load_report",
    "report_path",
    "save_report",
]


def __getattr__(name: str) -> Any:
    home = _HOMES.get(name)
    if home is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(f"{__name__}.{home}"), name)
