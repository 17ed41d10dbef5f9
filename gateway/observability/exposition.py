"""``GET /metrics``: the Prometheus text format, whichever worker answers.

In multiprocess mode the numbers of every worker are merged from their files; otherwise
this process's own registry is read. Collectors that read shared state at scrape time (the
job store, the supervisor's restart count) are added either way.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator

from prometheus_client import CONTENT_TYPE_LATEST, REGISTRY, CollectorRegistry, generate_latest
from prometheus_client.metrics_core import Metric
from prometheus_client.multiprocess import MultiProcessCollector
from prometheus_client.registry import Collector
from starlette.requests import Request
from starlette.responses import Response

from gateway.observability.multiproc import active_dir


class _ProcessRegistry(Collector):
    """This process's default registry, as one collector of another registry."""

    def collect(self) -> Iterator[Metric]:
        yield from REGISTRY.collect()


def build_registry(extra: Iterable[Collector]) -> CollectorRegistry:
    registry = CollectorRegistry(auto_describe=False)
    folder = active_dir()
    if folder is not None:
        MultiProcessCollector(registry, path=str(folder))  # type: ignore[no-untyped-call]
    else:
        registry.register(_ProcessRegistry())
    for collector in extra:
        registry.register(collector)
    return registry


class MetricsEndpoint:
    """The route's handler; the registry is built once (its collectors read at scrape)."""

    def __init__(self, extra: Iterable[Collector]) -> None:
        self.registry = build_registry(extra)

    async def handle(self, request: Request) -> Response:
        return Response(generate_latest(self.registry), media_type=CONTENT_TYPE_LATEST)
