"""A real Prometheus for the tests: on 127.0.0.1, a free port, the shipped rules, fast scrapes."""

from __future__ import annotations

import shutil
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import yaml

from tests.deploy.queries import DEPLOY, RULES
from tests.helpers import free_port, wait_for

PROMETHEUS = shutil.which("prometheus")
SCRAPE_INTERVAL = "1s"


def scrape_config(targets: dict[str, str]) -> dict[str, Any]:
    """deploy/prometheus/prometheus.yml with ``targets`` (job -> host:port) and short intervals."""
    config: dict[str, Any] = yaml.safe_load((DEPLOY / "prometheus" / "prometheus.yml").read_text())
    config["global"] = {"scrape_interval": SCRAPE_INTERVAL, "evaluation_interval": SCRAPE_INTERVAL}
    config["rule_files"] = [str(RULES)]
    for job in config["scrape_configs"]:
        job["static_configs"] = [{"targets": [targets[job["job_name"]]]}]
    return config


@dataclass
class PrometheusServer:
    proc: subprocess.Popen[bytes]
    url: str
    log_path: Path

    def api(self, path: str, **params: str) -> Any:
        reply = httpx.get(f"{self.url}/api/v1/{path}", params=params, timeout=30)
        body = reply.json()
        if body.get("status") != "success":
            raise QueryError(body.get("error", reply.text))
        return body["data"]

    def query(self, expr: str) -> list[dict[str, Any]]:
        result: list[dict[str, Any]] = self.api("query", query=expr)["result"]
        return result

    def query_range(self, expr: str, seconds: float, step_s: float = 2.0) -> list[dict[str, Any]]:
        """What a Grafana panel draws over the last ``seconds``."""
        end = time.time()
        params = {"query": expr, "start": str(end - seconds), "end": str(end), "step": str(step_s)}
        result: list[dict[str, Any]] = self.api("query_range", **params)["result"]
        return result

    def stop(self) -> None:
        self.proc.terminate()
        try:
            self.proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()


class QueryError(RuntimeError):
    pass


def start_prometheus(config: dict[str, Any], work_dir: Path) -> PrometheusServer:
    assert PROMETHEUS is not None
    config_path = work_dir / "prometheus.yml"
    config_path.write_text(yaml.safe_dump(config))
    port = free_port()
    log_path = work_dir / "prometheus.log"
    argv = [
        PROMETHEUS,
        f"--config.file={config_path}",
        f"--storage.tsdb.path={work_dir / 'tsdb'}",
        f"--web.listen-address=127.0.0.1:{port}",
    ]
    with log_path.open("wb") as log:
        proc = subprocess.Popen(argv, stdout=log, stderr=subprocess.STDOUT)
    server = PrometheusServer(proc, f"http://127.0.0.1:{port}", log_path)
    try:
        wait_for(f"{server.url}/-/ready", timeout_s=60, proc=proc)
    except Exception:
        server.stop()
        raise
    return server
