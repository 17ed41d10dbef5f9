"""The multiprocess metrics folder: one per run, emptied when the gateway is launched.

prometheus_client reads ``PROMETHEUS_MULTIPROC_DIR`` when it is first imported, so the
launcher (``loragate up`` / ``serve``) sets it before any gateway worker starts, to
``metrics.multiproc_dir`` (default ``<data dir>/run/metrics``). A folder named by
``PROMETHEUS_MULTIPROC_DIR`` itself is used as given, never emptied.
"""

from __future__ import annotations

import os
import shutil
import sys
from pathlib import Path

from gateway.settings import Settings

ENV = "PROMETHEUS_MULTIPROC_DIR"


def metrics_dir(settings: Settings) -> Path:
    """Where the gateway's workers keep their metric files."""
    configured = os.environ.get(ENV)
    if configured:
        return Path(configured)
    return settings.metrics.multiproc_dir or settings.run_dir / "metrics"


def prepare_metrics_dir(settings: Settings) -> Path:
    """Empty (or create) the folder before the workers start; values of a past run go."""
    folder = metrics_dir(settings)
    if ENV not in os.environ:
        shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def metrics_environment(settings: Settings) -> dict[str, str]:
    """The variables a gateway process needs to share its metrics with its siblings."""
    return {ENV: str(metrics_dir(settings))}


def active_dir() -> Path | None:
    """The folder this process shares metrics through; None in single-process mode."""
    configured = os.environ.get(ENV)
    return Path(configured) if configured else None


def use_metrics_dir(settings: Settings) -> Path:
    """For a launcher that runs the gateway in this process (and uvicorn's forks of it)."""
    if "prometheus_client" in sys.modules and ENV not in os.environ:
        raise RuntimeError("prometheus_client was imported before its multiprocess folder was set")
    folder = prepare_metrics_dir(settings)
    os.environ[ENV] = str(folder)
    return folder
