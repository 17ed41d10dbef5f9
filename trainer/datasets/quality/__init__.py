"""Quality report of a dataset: what is well-formed but bad (duplicates, conflicts,
imbalance, cut-off answers, over-long examples), with a severity and the lines concerned."""

from trainer.datasets.quality.build import DEFAULT_MAX_SEQ_LEN, build_report
from trainer.datasets.quality.findings import Finding, QualityReport
from trainer.datasets.quality.sidecar import load_report, report_path, save_report

__all__ = [
    "DEFAULT_MAX_SEQ_LEN",
    "Finding",
    "QualityReport",
    "build_report",
    "load_report",
    "report_path",
    "save_report",
]
