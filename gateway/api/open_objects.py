"""Answers of the console's routes, as named schemas of the OpenAPI document.

Each names its ``object`` and lets the rest through (``extra="allow"``): the fields are
described in each route's docstring and README, and a generated client gets a typed object
with the extra fields as a mapping.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict


class _Open(BaseModel):
    model_config = ConfigDict(extra="allow")

    object: str


class FilePreview(_Open):
    """``file.preview``: the first examples as ``messages`` chats, each with its line."""


class FileStats(_Open):
    """``file.stats``: token lengths (min, median, p95, max), a histogram, turns."""


class JobMetrics(_Open):
    """``fine_tuning.job.metrics``: the job, its decimated loss curves, latest events."""


class AdapterDetail(_Open):
    """``adapter``: owner, base, rank, job, created, and the engines it is registered on."""


class AdapterDetailList(_Open):
    data: list[dict[str, Any]]


class KeyCaller(_Open):
    """``api_key.caller``: the calling key's id, user (owner), role and limits."""


class TrafficSummary(_Open):
    """``gateway.summary``: recent requests and errors seen by the answering worker."""
