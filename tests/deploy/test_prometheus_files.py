"""``promtool check config`` and ``promtool check rules`` on the shipped Prometheus files."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

from tests.deploy.queries import DEPLOY, RULES

promtool = shutil.which("promtool")
pytestmark = pytest.mark.skipif(
    promtool is None, reason="promtool missing: scripts/system-deps.sh installs it"
)


def check(*args: str) -> str:
    assert promtool is not None
    done = subprocess.run([promtool, "check", *args], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stdout + done.stderr
    return done.stdout


def test_rules() -> None:
    assert "SUCCESS" in check("rules", str(RULES))


def test_compose_config() -> None:
    check("config", str(DEPLOY / "prometheus" / "prometheus.yml"))


def test_kubernetes_config_with_its_rules_beside_it(tmp_path: Path) -> None:
    # In the cluster both files are keys of one ConfigMap, mounted in one folder.
    shutil.copy(DEPLOY / "k8s" / "prometheus.yml", tmp_path / "prometheus.yml")
    shutil.copy(RULES, tmp_path / "alerts.yml")
    check("config", str(tmp_path / "prometheus.yml"))


def test_both_configs_scrape_the_same_jobs() -> None:
    def jobs(path: Path) -> list[str]:
        return [job["job_name"] for job in yaml.safe_load(path.read_text())["scrape_configs"]]

    assert jobs(DEPLOY / "prometheus" / "prometheus.yml") == ["loragate-gateway", "vllm"]
    assert jobs(DEPLOY / "k8s" / "prometheus.yml") == ["loragate-gateway", "vllm"]


def test_the_alerts_the_issue_asks_for_exist() -> None:
    groups = yaml.safe_load(RULES.read_text())["groups"]
    exprs = {rule["alert"]: rule["expr"] for group in groups for rule in group["rules"]}
    wanted = {
        "LoragateEngineDown": "up{",
        "LoragateHighErrorRatio": "loragate_requests_total",
        "LoragateSlowTimeToFirstToken": "loragate_time_to_first_token_seconds_bucket",
        "LoragateQueueSaturated": "loragate_requests_queued",
        "LoragateDegraded": "loragate_degradation_mode",
        "LoragateBreakerOpen": "loragate_upstream_breaker_state",
        "LoragateFinetuneFailures": 'loragate_finetune_jobs{status="failed"}',
    }
    for alert, metric in wanted.items():
        assert metric in exprs[alert], alert
