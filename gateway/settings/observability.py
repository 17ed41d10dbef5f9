"""What operators see: the metrics page and the web console."""

from __future__ import annotations

from pathlib import Path

from pydantic import BaseModel, Field


class MetricsSettings(BaseModel):
    """What ``GET /metrics`` exports (see :mod:`gateway.observability`)."""

    adapter_labels: int = Field(
        20, ge=0, description="Adapters named in metric labels; later ones are folded into other."
    )
    model_labels: int = Field(
        10, ge=1, description="Base model names in metric labels; later ones become other."
    )
    multiproc_dir: Path | None = Field(
        None,
        description="Folder the gateway's workers share metrics through, emptied at launch; "
        "unset: <data dir>/run/metrics. Must not be shared between hosts or pods.",
    )


class ConsoleSettings(BaseModel):
    """The web console the gateway serves under ``/ui`` (static files; see README)."""

    enabled: bool = Field(True, description="Serve the console under /ui.")
    grafana_url: str | None = Field(
        None, description="Where the overview page links for the Grafana dashboards."
    )
    live_interval_s: float = Field(
        0.5, gt=0, description="How often a watched job is read (shared by all its viewers)."
    )
