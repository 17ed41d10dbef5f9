"""``/metrics`` of a gateway with two uvicorn workers in front of a stub upstream.

Whichever worker answers the scrape, the numbers are the sum of both workers' (multiprocess
mode); the per-run metrics folder is emptied when ``loragate serve`` starts.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import orjson
import pytest
from prometheus_client.parser import text_string_to_metric_families

from tests.helpers import free_port, wait_for

REPO = Path(__file__).resolve().parents[2]
MODEL = "stub-model"
Samples = dict[tuple[str, frozenset[tuple[str, str]]], float]


@dataclass
class Served:
    url: str
    data_dir: Path

    @property
    def headers(self) -> dict[str, str]:
        """The admin key `loragate serve` wrote on its first start (auth is on)."""
        return {"Authorization": f"Bearer {(self.data_dir / 'admin.key').read_text().strip()}"}


def _start(argv: list[str], env: dict[str, str], log: Path) -> subprocess.Popen[bytes]:
    with log.open("wb") as out:
        return subprocess.Popen(argv, env=env, cwd=REPO, stdout=out, stderr=subprocess.STDOUT)


def _stop(proc: subprocess.Popen[bytes]) -> None:
    proc.send_signal(signal.SIGTERM)
    try:
        proc.wait(timeout=20)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    root = tmp_path_factory.mktemp("metrics-gateway")
    stub_port, port = free_port(), free_port()
    stub = _start(
        [
            sys.executable,
            "bench/stub_upstream.py",
            "--port",
            str(stub_port),
            "--chunks",
            "8",
            "--interval-ms",
            "2",
        ],
        dict(os.environ),
        root / "stub.log",
    )
    data_dir = root / "data"
    stale = data_dir / "run" / "metrics" / "counter_999999.db"
    stale.parent.mkdir(parents=True)
    stale.write_bytes(b"left by an earlier run")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("LORAGATE_", "PROMETHEUS_"))}
    env.update(
        LORAGATE_DATA_DIR=str(data_dir),
        LORAGATE_UPSTREAMS=json.dumps([f"http://127.0.0.1:{stub_port}"]),
        LORAGATE_SERVED_MODEL_NAME=MODEL,
        LORAGATE_PORT=str(port),
        LORAGATE_WORKERS="2",
    )
    gateway = _start([sys.executable, "-m", "gateway.cli.main", "serve"], env, root / "gw.log")
    try:
        wait_for(f"http://127.0.0.1:{port}/health/ready", timeout_s=60, proc=gateway)
        yield Served(f"http://127.0.0.1:{port}", data_dir)
    finally:
        _stop(gateway)
        _stop(stub)


def scrape(url: str) -> Samples:
    text = httpx.get(f"{url}/metrics", timeout=10).text
    return {
        (sample.name, frozenset(sample.labels.items())): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }


def total(samples: Samples, name: str, **labels: str) -> float:
    wanted = set(labels.items())
    return sum(value for (n, got), value in samples.items() if n == name and wanted <= got)


def send_traffic(url: str, count: int, headers: dict[str, str]) -> tuple[int, int]:
    """``count`` plain and ``count`` streamed requests, each on a new connection."""
    prompt = completion = 0
    for stream in (False, True):
        for _ in range(count):
            body: dict[str, Any] = {"model": MODEL, "messages": [{"role": "user", "content": "hi"}]}
            if stream:
                body |= {"stream": True, "stream_options": {"include_usage": True}}
            with httpx.Client(base_url=url, headers=headers, timeout=10) as client:
                reply = client.post("/v1/chat/completions", json=body)
            assert reply.status_code == 200
            last = reply.content.rsplit(b"data: {", 1)[-1] if stream else reply.content
            usage = orjson.loads(last if not stream else b"{" + last.split(b"\n")[0])["usage"]
            prompt += usage["prompt_tokens"]
            completion += usage["completion_tokens"]
    return prompt, completion


def test_counts_are_the_sum_of_every_worker(served: Served) -> None:
    prompt, completion = send_traffic(served.url, 30, served.headers)
    for _ in range(3):
        reply = httpx.post(
            f"{served.url}/v1/chat/completions",
            json={"model": "nope", "messages": []},
            headers=served.headers,
        )
        assert reply.status_code in (400, 404)
    for _ in range(6):  # several scrapes: both workers answer some of them
        samples = scrape(served.url)
        ok = {"status": "200", "model": MODEL, "adapter": "none", "endpoint": "chat"}
        assert total(samples, "loragate_requests_total", **ok) == 60
        assert total(samples, "loragate_requests_total", model="unknown") == 3
        assert total(samples, "loragate_request_duration_seconds_count") == 63
        assert total(samples, "loragate_request_duration_seconds_count", stream="true") == 30
        assert total(samples, "loragate_time_to_first_token_seconds_count") == 30
        assert total(samples, "loragate_inter_token_latency_seconds_count") == 30
        assert total(samples, "loragate_prompt_tokens_total", model=MODEL) == prompt
        assert total(samples, "loragate_completion_tokens_total", model=MODEL) == completion
        assert total(samples, "loragate_requests_in_flight") == 0
    pids = {path.stem.rsplit("_", 1)[-1] for path in metric_files(served)}
    assert len(pids) == 2, pids  # both workers recorded


def metric_files(served: Served) -> list[Path]:
    return list((served.data_dir / "run" / "metrics").glob("counter_*.db"))


def test_state_gauges_and_scrape_time_collectors(served: Served) -> None:
    samples = scrape(served.url)
    assert total(samples, "loragate_upstream_up") == 1
    assert total(samples, "loragate_upstream_breaker_state") == 0
    assert total(samples, "loragate_adapters_resident") == 0
    assert total(samples, "loragate_degradation_mode") == 0
    assert total(samples, "loragate_requests_queued") == 0
    assert total(samples, "loragate_rate_limit_rejections_total", reason="tokens") == 0
    assert total(samples, "loragate_engine_restarts_total") == 0
    assert ("loragate_finetune_jobs", frozenset({("status", "failed")})) in samples


def test_the_metrics_folder_was_emptied_at_launch(served: Served) -> None:
    assert "counter_999999.db" not in {path.name for path in metric_files(served)}
