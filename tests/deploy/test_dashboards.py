"""The Grafana dashboards and their provisioning hang together (no Prometheus needed)."""

from __future__ import annotations

import re

import yaml

from tests.deploy.queries import (
    DEPLOY,
    all_queries,
    dashboard_queries,
    dashboards,
    metric_names,
    panels,
)

EXPECTED = {"gateway", "adapters", "finetune", "engine"}


def test_the_four_dashboards_exist_with_unique_uids_and_panel_ids() -> None:
    boards = dashboards()
    assert set(boards) == EXPECTED
    assert len({board["uid"] for board in boards.values()}) == len(boards)
    for board in boards.values():
        ids = [panel["id"] for panel in board["panels"]]
        assert len(ids) == len(set(ids)), board["uid"]
        assert panels(board), board["uid"]


def test_every_panel_queries_the_provisioned_datasource() -> None:
    datasources = yaml.safe_load(
        (DEPLOY / "grafana/provisioning/datasources/prometheus.yml").read_text()
    )["datasources"]
    uids = {source["uid"] for source in datasources}
    for board in dashboards().values():
        for panel in panels(board):
            assert panel["datasource"]["uid"] in uids, panel["title"]
            assert panel["targets"], panel["title"]
            for target in panel["targets"]:
                assert target["expr"].strip(), panel["title"]
                assert target["datasource"]["uid"] in uids


def test_the_provider_loads_the_folder_compose_mounts() -> None:
    provider = yaml.safe_load(
        (DEPLOY / "grafana/provisioning/dashboards/loragate.yml").read_text()
    )["providers"][0]
    compose = yaml.safe_load((DEPLOY / "docker-compose.yml").read_text())
    mounts = compose["services"]["grafana"]["volumes"]
    assert f"./grafana/dashboards:{provider['options']['path']}:ro" in mounts


def test_metric_names_are_found_in_every_query() -> None:
    for query in all_queries():
        names = metric_names(query.expr)
        assert names, query
        assert all(name.startswith(("loragate_", "vllm:")) or name == "up" for name in names), (
            query,
            names,
        )
    assert metric_names(
        'histogram_quantile(0.99, sum by (le, adapter) (rate(x_bucket{a=~"b"}[1m]))) / y'
    ) == {"x_bucket", "y"}


def test_adapter_and_engine_dashboards_are_per_adapter_and_vllm() -> None:
    exprs: dict[str, list[str]] = {}
    for query in dashboard_queries():
        exprs.setdefault(query.source.split(" / ")[0], []).append(query.expr)
    per_adapter = [re.search(r"by \([^)]*\badapter\b", expr) for expr in exprs["loragate-adapters"]]
    assert sum(match is not None for match in per_adapter) >= 8
    engine = exprs["loragate-engine"]
    assert all("vllm:" in e or "up{" in e or "loragate_engine_" in e for e in engine)
    # per engine: vLLM's own series by instance, the gateways' view by engine name
    assert all(re.search(r"by \([^)]*\b(instance|engine)\b", e) for e in engine if "up{" not in e)
    placement = [e for e in exprs["loragate-adapters"] if "loragate_adapter_placement" in e]
    assert placement
    assert all("by (adapter, engine)" in e for e in placement)
