"""A real Prometheus scrapes the running stack with the shipped config and rules.

After traffic (base model, an adapter, streams, errors), a fine-tune and a toggle of the
degradation switch, every PromQL expression of every dashboard panel and alert rule
evaluates through Prometheus's HTTP API, the core panels return data, and every metric
they name is one the gateway or vLLM exports.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from openai import BadRequestError, OpenAI

from adapters.record import AdapterRecord
from tests.deploy.queries import (
    SYNTHETIC,
    Query,
    all_queries,
    dashboard_queries,
    exported_names,
    metric_names,
)
from tests.helpers import Stack
from tests.observability.prometheus import (
    PROMETHEUS,
    PrometheusServer,
    QueryError,
    scrape_config,
    start_prometheus,
)
from tests.trainer.jobs.helpers import wait_until, write_reviews

pytestmark = [
    pytest.mark.engine,
    pytest.mark.skipif(PROMETHEUS is None, reason="prometheus missing: scripts/system-deps.sh"),
]

TERMINAL = ("succeeded", "failed", "cancelled")
PANEL_RANGE_S = 900
"""The time range the core panels are drawn over (Grafana's default range query)."""
CORE_PANELS = {
    "loragate-gateway": [
        "Upstream engines",
        "Circuit breakers",
        "Degradation mode",
        "Engine restarts (1h)",
        "In flight / queued",
        "Requests per second by status",
        "Error ratio (5xx and interrupted streams)",
        "End-to-end latency",
        "Time to first token (streams)",
        "Inter-token latency (streams)",
        "Tokens per second",
        "Rate-limit rejections by reason",
    ],
    "loragate-adapters": [
        "Requests per second by adapter",
        "p95 end-to-end latency by adapter",
        "p95 time to first token by adapter",
        "Completion tokens per second by adapter",
        "Adapter loads by result",
        "Adapters resident per engine",
    ],
    "loragate-finetune": ["Jobs by status", "Training loss"],
    "loragate-engine": [
        "Engine up",
        "Requests running / waiting",
        "KV cache usage",
        "Tokens per second",
        "Time to first token",
        "End-to-end request latency",
    ],
}


@dataclass
class Observed:
    prometheus: PrometheusServer
    adapter: str
    job_id: str


@pytest.fixture(scope="module")
def observed(
    stack: Stack, published_adapter: AdapterRecord, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Observed]:
    work = tmp_path_factory.mktemp("prometheus")
    targets = {
        "loragate-gateway": f"127.0.0.1:{stack.port}",
        "vllm": f"127.0.0.1:{stack.engine_port}",
    }
    prometheus = start_prometheus(scrape_config(targets), work)
    try:
        client = OpenAI(base_url=f"{stack.base_url}/v1", api_key=stack.admin_key, max_retries=0)
        sent = send_traffic(client, published_adapter.name)
        job_id = fine_tune_while_scraped(client, prometheus, work)
        toggle_degradation(stack, prometheus)
        wait_until(lambda: scraped_requests(prometheus) >= sent, 60, "Prometheus saw the traffic")
        yield Observed(prometheus, published_adapter.name, job_id)
    finally:
        prometheus.stop()


def send_traffic(client: OpenAI, adapter: str) -> int:
    """Plain and streamed requests to the base model and an adapter, and two refusals."""
    sent = 0
    for model in ("loragate-tiny", adapter):
        for _ in range(3):
            client.chat.completions.create(
                model=model, messages=[{"role": "user", "content": "hi"}], max_tokens=8
            )
            stream = client.chat.completions.create(
                model=model,
                messages=[{"role": "user", "content": "hello"}],
                max_tokens=8,
                stream=True,
                stream_options={"include_usage": True},
            )
            assert [chunk for chunk in stream]
            sent += 2
    for _ in range(2):
        with pytest.raises(Exception, match="model"):
            client.chat.completions.create(
                model="no-such-model", messages=[{"role": "user", "content": "hi"}]
            )
        sent += 1
    return sent


def fine_tune_while_scraped(client: OpenAI, prometheus: PrometheusServer, work: Path) -> str:
    """Start a job; once Prometheus has scraped its training loss a few times (so the loss
    panel has points at any step), cancel it (saves time)."""
    with write_reviews(work / "reviews.jsonl", 120, seed=5).open("rb") as handle:
        file = client.files.create(file=handle, purpose="fine-tune")
    job = client.fine_tuning.jobs.create(
        model="loragate-tiny",
        training_file=file.id,
        suffix="metrics",
        hyperparameters={"n_epochs": 30},  # long enough to be scraped; cancelled below
    )
    scraped = f'count_over_time(loragate_finetune_job_train_loss{{job_id="{job.id}"}}[5m])'
    deadline = time.monotonic() + 300
    while time.monotonic() < deadline:
        if client.fine_tuning.jobs.retrieve(job.id).status in TERMINAL:
            break
        if value_of(prometheus, scraped) >= 5:  # five points of the loss curve
            with contextlib.suppress(BadRequestError):  # it may have finished meanwhile
                client.fine_tuning.jobs.cancel(job.id)
            break
        time.sleep(0.5)
    return job.id


def toggle_degradation(stack: Stack, prometheus: PrometheusServer) -> None:
    """Switch to base-only until Prometheus has scraped it, then back to normal."""

    def switch(mode: str) -> None:
        body = {"mode": mode, "reason": "metrics test"}
        url = f"{stack.base_url}/admin/degradation"
        reply = httpx.put(url, json=body, headers=stack.headers, timeout=30)
        assert reply.status_code == 200, reply.text

    mode = "max(loragate_degradation_mode)"
    switch("base-only")
    try:
        wait_until(lambda: value_of(prometheus, mode) == 1, 30, "Prometheus saw base-only")
    finally:
        switch("normal")
    wait_until(lambda: value_of(prometheus, mode) == 0, 30, "Prometheus saw normal again")


def value_of(prometheus: PrometheusServer, expr: str) -> float:
    """The value of a single-series query; NaN when it has no series."""
    result = prometheus.query(expr)
    return float(result[0]["value"][1]) if result else float("nan")


def scraped_requests(prometheus: PrometheusServer) -> float:
    return value_of(prometheus, "sum(loragate_requests_total)")


def test_both_targets_are_scraped(observed: Observed) -> None:
    targets = observed.prometheus.api("targets")["activeTargets"]
    assert {target["labels"]["job"]: target["health"] for target in targets} == {
        "loragate-gateway": "up",
        "vllm": "up",
    }


def test_every_dashboard_and_rule_expression_evaluates(observed: Observed) -> None:
    failures = []
    for query in all_queries():
        try:
            observed.prometheus.query(query.expr)
        except QueryError as exc:
            failures.append(f"{query.source}: {exc}")
    assert not failures, "\n".join(failures)


def test_every_rule_is_evaluated_without_error(observed: Observed) -> None:
    def rules() -> list[dict[str, object]]:
        groups = observed.prometheus.api("rules")["groups"]
        found = [rule for group in groups for rule in group["rules"]]
        return found if all(rule["health"] != "unknown" for rule in found) else []

    evaluated = wait_until(rules, 30, "every rule evaluated once")
    assert len(evaluated) == len([q for q in all_queries() if q.source.startswith("rule ")])
    assert [rule["name"] for rule in evaluated if rule["health"] != "ok"] == []


def test_core_panels_return_data(observed: Observed) -> None:
    by_panel: dict[str, list[Query]] = {}
    for query in dashboard_queries():
        by_panel.setdefault(query.source, []).append(query)
    empty = []
    for uid, titles in CORE_PANELS.items():
        for title in titles:
            queries = by_panel[f"{uid} / {title}"]
            if not any(observed.prometheus.query_range(q.expr, PANEL_RANGE_S) for q in queries):
                empty.append(f"{uid} / {title}")
    assert not empty, empty


def test_the_adapter_has_its_own_series(observed: Observed) -> None:
    result = observed.prometheus.query("sum by (adapter) (loragate_requests_total)")
    assert observed.adapter in {series["metric"]["adapter"] for series in result}
    tokens = f'sum(loragate_completion_tokens_total{{adapter="{observed.adapter}"}})'
    assert value_of(observed.prometheus, tokens) > 0
    loads = 'sum(loragate_adapter_loads_total{result="ok"})'
    assert value_of(observed.prometheus, loads) >= 1


def test_fine_tune_jobs_are_counted_with_their_loss(observed: Observed) -> None:
    statuses = observed.prometheus.query("sum by (status) (loragate_finetune_jobs)")
    counts = {series["metric"]["status"]: float(series["value"][1]) for series in statuses}
    assert sum(counts.values()) >= 1
    loss = f'max_over_time(loragate_finetune_job_train_loss{{job_id="{observed.job_id}"}}[10m])'
    assert value_of(observed.prometheus, loss) > 0


def test_the_degradation_toggle_was_seen_and_breakers_stayed_closed(observed: Observed) -> None:
    toggled = "max_over_time(max(loragate_degradation_mode)[15m:1s])"
    assert value_of(observed.prometheus, toggled) == 1  # base-only, for a while
    for expr in ("max(loragate_degradation_mode)", "max(loragate_upstream_breaker_state)"):
        assert value_of(observed.prometheus, expr) == 0, expr


def test_every_metric_named_is_exported(observed: Observed, stack: Stack) -> None:
    exported = set(SYNTHETIC)
    for url in (stack.base_url, stack.engine_url):
        exported |= exported_names(httpx.get(f"{url}/metrics", timeout=10).text)
    missing = {
        f"{query.source}: {name}"
        for query in all_queries()
        for name in metric_names(query.expr)
        if name not in exported
    }
    assert not missing, sorted(missing)
