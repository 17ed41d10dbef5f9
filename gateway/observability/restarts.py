"""Engine restarts, as the supervisor of ``loragate up`` sees them, for every worker.

The supervisor's event callback counts the starts of each child into ``run/<name>.starts``;
a collector reads the engine's file at scrape time, so the number is the same whichever
gateway worker answers, and survives a worker's restart.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Callable, Iterator
from pathlib import Path

from prometheus_client.core import CounterMetricFamily
from prometheus_client.metrics_core import Metric
from prometheus_client.registry import Collector

from gateway.observability.metrics import PREFIX

STARTED = "started"
"""How the supervisor's events about a new child process begin."""

Report = Callable[[str, str], None]


def starts_file(run_dir: Path, name: str) -> Path:
    return run_dir / f"{name}.starts"


def reset_starts(run_dir: Path) -> None:
    for path in run_dir.glob("*.starts"):
        path.unlink(missing_ok=True)


def count_starts(run_dir: Path, report: Report) -> Report:
    """Wrap the supervisor's ``on_event`` so that every start of a child is counted."""

    def on_event(name: str, message: str) -> None:
        if message.startswith(STARTED):
            path = starts_file(run_dir, name)
            _write_atomically(path, str(_read_count(path) + 1))
        report(name, message)

    return on_event


def _read_count(path: Path) -> int:
    with contextlib.suppress(OSError, ValueError):
        return int(path.read_text().strip() or 0)
    return 0


def _write_atomically(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_suffix(".tmp")
    partial.write_text(text)
    os.replace(partial, path)


class EngineRestartsCollector(Collector):
    """``loragate_engine_restarts_total``: starts of the embedded engines after their first."""

    def __init__(self, run_dir: Path) -> None:
        self.run_dir = run_dir

    def collect(self) -> Iterator[Metric]:
        # ``engine.starts`` for one engine; ``engine-<i>.starts`` for each of several
        paths = self.run_dir.glob("engine*.starts")
        restarts = sum(max(_read_count(path) - 1, 0) for path in paths)
        family = CounterMetricFamily(
            f"{PREFIX}_engine_restarts",
            "Times the supervisor restarted the embedded engine since `loragate up` began.",
        )
        family.add_metric([], restarts)
        yield family
