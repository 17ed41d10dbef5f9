"""A fleet: ``loragate up --engines 2`` (two real vLLM engines, each on its own core) and a
second gateway replica (``loragate serve``, same store, Redis for limits, its own engine
state), proving placement, spill, spread, failover and parity across engines."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

import httpx
import pytest

from adapters.record import AdapterRecord
from tests.helpers import Stack, free_port, start_stack, stop_stack, wait_for
from tests.lora_fixtures import publish_random_adapter

pytestmark = pytest.mark.engine

ENGINES = ("engine-0", "engine-1")
PROMPT = "等了一个小时"
BUSY = "4"  # LORAGATE_ROUTING__BUSY_LOAD: low, so a small load makes an engine busy


@dataclass
class Fleet:
    stack: Stack
    replica: subprocess.Popen[bytes]
    replica_port: int

    @property
    def gateways(self) -> list[str]:
        return [self.stack.base_url, f"http://127.0.0.1:{self.replica_port}"]

    def engine_url(self, index: int) -> str:
        return f"http://127.0.0.1:{self.stack.engine_port + index}"


@pytest.fixture(scope="module")
def fleet(tmp_path_factory: pytest.TempPathFactory, redis_url: str) -> Iterator[Fleet]:
    root = tmp_path_factory.mktemp("fleet")
    env = {"LORAGATE_LIMITS__REDIS_URL": redis_url, "LORAGATE_ROUTING__BUSY_LOAD": BUSY}
    stack = start_stack(root / "data", root / "up.log", LORAGATE_ENGINE__COUNT="2", **env)
    port = free_port()
    replica_env = dict(os.environ) | env
    replica_env.update(
        LORAGATE_DATA_DIR=str(stack.data_dir),
        LORAGATE_PORT=str(port),
        LORAGATE_ENGINE__PORT=str(stack.engine_port),
        LORAGATE_ENGINE__COUNT="2",
        LORAGATE_METRICS__MULTIPROC_DIR=str(root / "replica-metrics"),
        LORAGATE_ROUTING__SHARE_DIR=str(root / "replica-state"),  # as if on another host
    )
    with (root / "replica.log").open("wb") as log:
        replica = subprocess.Popen(
            [sys.executable, "-m", "gateway.cli.main", "serve"],
            env=replica_env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    try:
        wait_for(f"http://127.0.0.1:{port}/health/ready", timeout_s=120, proc=replica)
        fleet = Fleet(stack, replica, port)
        both_engines_up(fleet)
        yield fleet
    finally:
        replica.send_signal(signal.SIGTERM)
        replica.wait(timeout=30)
        stop_stack(stack)


@pytest.fixture(scope="module")
def adapter(fleet: Fleet, tmp_path_factory: pytest.TempPathFactory) -> AdapterRecord:
    data = fleet.stack.data_dir
    return publish_random_adapter(
        data / "models" / "loragate-tiny",
        data / "adapters",
        tmp_path_factory.mktemp("fleet-adapter"),
        suffix="fleet",
        seed=11,
    )


def chat(
    fleet: Fleet, model: str, gateway: int = 0, prompt: str = "送餐很快", **extra: Any
) -> httpx.Response:
    body = {"model": model, "messages": [{"role": "user", "content": prompt}], **extra}
    return httpx.post(
        f"{fleet.gateways[gateway]}/v1/chat/completions",
        json=body,
        headers=fleet.stack.headers,
        timeout=120,
    )


def both_engines_up(fleet: Fleet, timeout_s: float = 180) -> None:
    """Ready means one engine answers; these tests need both, seen up by both gateways
    (the second engine can start tens of seconds after the first on a busy machine)."""
    for index in (0, 1):
        wait_for(f"{fleet.engine_url(index)}/health", timeout_s=timeout_s)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        pages = [httpx.get(f"{gateway}/metrics", timeout=30).text for gateway in fleet.gateways]
        if all(engines_up(page) == set(ENGINES) for page in pages):
            return
        time.sleep(0.5)
    raise TimeoutError("the gateways do not both see both engines up")


def engines_up(metrics_page: str) -> set[str]:
    """The upstreams a gateway's /metrics says are up."""
    up = set()
    for line in metrics_page.splitlines():
        if line.startswith("loragate_upstream_up{") and float(line.rsplit(" ", 1)[1]) == 1:
            up |= {name for name in ENGINES if f'upstream="{name}"' in line}
    return up


def many(fleet: Fleet, model: str, count: int, parallel: int, **extra: Any) -> list[httpx.Response]:
    with ThreadPoolExecutor(parallel) as pool:
        return list(pool.map(lambda _: chat(fleet, model, **extra), range(count)))


def served_by(replies: list[httpx.Response]) -> set[str]:
    assert all(r.status_code == 200 for r in replies), [r.text[:200] for r in replies]
    return {r.headers["x-loragate-upstream"] for r in replies}


def registered_on(fleet: Fleet, name: str) -> list[int]:
    """Indices of the engines whose own /v1/models lists ``name``."""
    found = []
    for index in (0, 1):
        models = httpx.get(f"{fleet.engine_url(index)}/v1/models", timeout=30).json()["data"]
        if name in {m["id"] for m in models}:
            found.append(index)
    return found


def metric_sum(fleet: Fleet, name: str, **labels: str) -> float:
    """A counter summed over both gateways' /metrics."""
    wanted = [f'{key}="{value}"' for key, value in labels.items()]
    total = 0.0
    for gateway in fleet.gateways:
        for line in httpx.get(f"{gateway}/metrics", timeout=30).text.splitlines():
            if line.startswith(name + "{") and all(part in line for part in wanted):
                total += float(line.rsplit(" ", 1)[1])
    return total


def test_base_traffic_spreads_over_both_engines(fleet: Fleet) -> None:
    replies = many(fleet, fleet.stack.model, count=16, parallel=8, max_tokens=16)
    assert served_by(replies) == set(ENGINES)


def test_a_cold_adapter_from_both_gateways_is_loaded_on_one_engine(
    fleet: Fleet, adapter: AdapterRecord
) -> None:
    assert registered_on(fleet, adapter.name) == []
    for _ in range(2):  # two rounds of one request through each gateway at the same moment
        with ThreadPoolExecutor(2) as pool:
            replies = list(pool.map(lambda g: chat(fleet, adapter.name, g, max_tokens=4), (0, 1)))
        assert len(served_by(replies)) == 1
    assert len(registered_on(fleet, adapter.name)) == 1
    loads = metric_sum(fleet, "loragate_adapter_loads_total", adapter=adapter.name, result="ok")
    assert loads == 1


def test_a_hot_adapter_spills_to_the_second_engine(fleet: Fleet, adapter: AdapterRecord) -> None:
    spills = metric_sum(fleet, "loragate_routing_decisions_total", kind="spill")
    replies = many(fleet, adapter.name, count=32, parallel=8, max_tokens=24)
    assert served_by(replies) == set(ENGINES)
    assert registered_on(fleet, adapter.name) == [0, 1]
    assert metric_sum(fleet, "loragate_routing_decisions_total", kind="spill") > spills


def test_greedy_output_is_the_same_on_either_engine(fleet: Fleet, adapter: AdapterRecord) -> None:
    assert registered_on(fleet, adapter.name) == [0, 1]  # after the spill
    body = {
        "model": adapter.name,
        "messages": [{"role": "user", "content": PROMPT}],
        "max_tokens": 16,
        "temperature": 0,
    }
    answers = [
        httpx.post(f"{fleet.engine_url(i)}/v1/chat/completions", json=body, timeout=60).json()
        for i in (0, 1)
    ]
    texts = [answer["choices"][0]["message"]["content"] for answer in answers]
    assert texts[0] == texts[1]
    assert texts[0]  # the random adapter says something
    through = many(
        fleet, adapter.name, count=8, parallel=8, prompt=PROMPT, max_tokens=16, temperature=0
    )
    assert {r.json()["choices"][0]["message"]["content"] for r in through} == {texts[0]}


def test_an_engine_killed_under_load_hands_its_traffic_over(fleet: Fleet) -> None:
    stack = fleet.stack
    victim = stack.pid_of("engine-1")
    outcomes: list[tuple[float, int, str]] = []
    stop = threading.Event()

    def keep_sending() -> None:
        while not stop.is_set():
            sent = time.monotonic()
            try:
                reply = chat(fleet, stack.model, max_tokens=8)
            except httpx.HTTPError as exc:  # recorded, so the assertions below see it
                outcomes.append((sent, -1, repr(exc)))
                continue
            where = reply.headers.get("x-loragate-upstream", "")
            if reply.status_code == 503:
                where = f"retry-after {reply.headers.get('retry-after')}"
            outcomes.append((sent, reply.status_code, where))

    senders = [threading.Thread(target=keep_sending) for _ in range(4)]
    for sender in senders:
        sender.start()
    time.sleep(2)
    os.kill(victim, signal.SIGKILL)
    killed = time.monotonic()
    time.sleep(8)
    stop.set()
    for sender in senders:
        sender.join(timeout=150)
    assert not any(sender.is_alive() for sender in senders), "a request hung"
    assert {status for _, status, _ in outcomes} <= {200, 503}, outcomes
    refusals = [where for _, status, where in outcomes if status == 503]
    assert all(int(where.split()[-1]) > 0 for where in refusals), refusals
    after = [(status, engine) for sent, status, engine in outcomes if sent > killed + 2]
    assert after, "nothing was sent after the kill"
    assert all(outcome == (200, "engine-0") for outcome in after), after

    deadline = time.monotonic() + 300  # the supervisor restarts it
    while True:
        replies = many(fleet, stack.model, count=8, parallel=8, max_tokens=16)
        if served_by(replies) == set(ENGINES):
            break
        assert time.monotonic() < deadline, "traffic did not return to engine-1"
        time.sleep(2)
    assert stack.pid_of("engine-1") != victim
