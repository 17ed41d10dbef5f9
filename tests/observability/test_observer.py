"""The sampled state gauges follow the pool, the degradation switch and the breakers."""

from __future__ import annotations

from pathlib import Path

from prometheus_client import REGISTRY

from gateway.fleet.pool import UpstreamPool
from gateway.observability import labels
from gateway.observability.observer import MetricsObserver
from gateway.settings import Settings

URLS = ["http://127.0.0.1:1", "http://127.0.0.1:2"]


def gauge(name: str, **labels: str) -> float | None:
    return REGISTRY.get_sample_value(name, labels)


def test_sampling_reads_the_pool_and_the_hooks(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path, upstreams=URLS)
    pool = UpstreamPool(settings)
    observer = MetricsObserver(settings, pool)
    first, second = (upstream.name for upstream in pool.upstreams)
    pool.upstreams[0].mark(True)
    pool.upstreams[0].loaded_adapters.update({"ft:a", "ft:b"})
    labels.budget().adapters("ft:a")  # a request named it: it has a label of its own
    observer.sample()
    assert gauge("loragate_upstream_up", upstream=first) == 1
    assert gauge("loragate_upstream_up", upstream=second) == 0
    assert gauge("loragate_adapters_resident", upstream=first) == 2
    assert gauge("loragate_adapter_placement", adapter="ft:a", engine=first) == 1
    assert gauge("loragate_adapter_placement", adapter="other", engine=first) == 1  # ft:b
    assert gauge("loragate_upstream_breaker_state", upstream=second) == 0
    assert gauge("loragate_degradation_mode") == 0

    observer.degradation_mode = lambda: 2
    observer.breaker_state = lambda upstream: 2 if upstream.url == URLS[1] else 0
    pool.upstreams[0].mark(False, "gone")
    observer.sample()
    assert gauge("loragate_degradation_mode") == 2
    assert gauge("loragate_upstream_breaker_state", upstream=second) == 2
    assert gauge("loragate_upstream_up", upstream=first) == 0
    assert gauge("loragate_adapters_resident", upstream=first) == 0  # forgotten when down
    assert gauge("loragate_adapter_placement", adapter="ft:a", engine=first) == 0
    assert not any(URLS[0] in name for name in (first, second))  # names never show a URL
