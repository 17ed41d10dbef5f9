"""Each degradation mode does what it says in every gateway worker, within a second.

One ``loragate up`` with two gateway workers and a fallback stand-in; the switch is flipped
through ``PUT /admin/degradation`` and through ``loragate degrade``, and requests on new
connections (so both workers answer some) all obey it a second later.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from adapters.record import AdapterRecord
from tests.e2e.protection_stack import (
    WORKERS,
    ProtectedStack,
    chat_body,
    protected_stack,
    spread,
    workers_that_served,
)
from tests.helpers import Stack
from tests.lora_fixtures import publish_random_adapter

pytestmark = pytest.mark.engine

OBEYED_WITHIN_S = 1.0
MAINTENANCE = "Upgrading the model servers; back at 14:00 UTC."


@pytest.fixture(scope="module")
def protected(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ProtectedStack]:
    with protected_stack(tmp_path_factory.mktemp("degradation")) as running:
        yield running


@pytest.fixture(scope="module")
def adapter(protected: ProtectedStack, tmp_path_factory: pytest.TempPathFactory) -> AdapterRecord:
    stack = protected.stack
    return publish_random_adapter(
        stack.data_dir / "models" / stack.model,
        stack.data_dir / "adapters",
        tmp_path_factory.mktemp("degradation-adapter"),
        suffix="degraded",
    )


def set_mode(stack: Stack, mode: str, reason: str) -> None:
    response = httpx.put(
        f"{stack.base_url}/admin/degradation",
        json={"mode": mode, "reason": reason},
        headers=stack.headers,
        timeout=10,
    )
    assert response.status_code == 200, response.text
    assert response.json()["actor"] == "admin"


def status(stack: Stack) -> dict[str, object]:
    response = httpx.get(f"{stack.base_url}/v1/status", timeout=10)  # public: no key
    assert response.status_code == 200
    body: dict[str, object] = response.json()
    return body


def obeyed_by_every_worker(stack: Stack, body: dict[str, object]) -> list[httpx.Response]:
    """Requests sent a second after a change, spread over both workers."""
    time.sleep(OBEYED_WITHIN_S)
    responses: list[httpx.Response] = []
    workers = workers_that_served(stack, lambda: responses.extend(spread(stack, body)))
    assert workers == WORKERS, f"only {workers} worker(s) answered"
    return responses


def test_every_mode_is_obeyed_by_every_worker(
    protected: ProtectedStack, adapter: AdapterRecord
) -> None:
    stack = protected.stack
    normal = spread(stack, chat_body(adapter.name), count=4)
    assert {r.headers["x-loragate-upstream"] for r in normal} == {"engine-0"}
    assert {r.json()["model"] for r in normal} == {adapter.name}
    assert status(stack)["status"] == "ok"

    set_mode(stack, "base-only", "adapters are being re-published")
    for response in obeyed_by_every_worker(stack, chat_body(adapter.name)):
        assert response.status_code == 200, response.text
        assert response.headers["x-loragate-degraded"] == "base-only"
        assert response.json()["model"] == stack.model  # answered by the base model
    assert (status(stack)["status"], status(stack)["assistant"]) == ("degraded", "show")

    set_mode(stack, "maintenance", MAINTENANCE)
    for response in obeyed_by_every_worker(stack, chat_body(stack.model)):
        assert response.status_code == 503
        assert response.json()["error"]["code"] == "maintenance"
        assert response.json()["error"]["message"] == MAINTENANCE
        assert int(response.headers["retry-after"]) > 0
    shown = status(stack)
    assert (shown["status"], shown["assistant"], shown["message"]) == (
        "maintenance",
        "hide",
        MAINTENANCE,
    )

    set_mode(stack, "fallback", "engine upgrade")
    for response in obeyed_by_every_worker(stack, chat_body(stack.model)):
        assert response.status_code == 200, response.text
        assert response.headers["x-loragate-upstream"] == "fallback-0"
        assert response.json()["id"].startswith("chatcmpl-")
    streamed = spread(stack, chat_body(stack.model, stream=True), count=4)
    assert {r.headers["x-loragate-upstream"] for r in streamed} == {"fallback-0"}
    assert all(r.text.rstrip().endswith("data: [DONE]") for r in streamed)

    set_mode(stack, "normal", "upgrade done")
    for response in obeyed_by_every_worker(stack, chat_body(stack.model)):
        assert response.status_code == 200, response.text
        assert response.headers["x-loragate-upstream"] == "engine-0"
    assert status(stack)["status"] == "ok"

    history = httpx.get(
        f"{stack.base_url}/admin/degradation", headers=stack.headers, timeout=10
    ).json()["history"]
    assert [entry["mode"] for entry in history[:4]] == [
        "normal",
        "fallback",
        "maintenance",
        "base-only",
    ]
    assert all(entry["actor"] == "admin" and entry["changed_at"] for entry in history[:4])


def test_the_cli_flips_every_worker(protected: ProtectedStack) -> None:
    stack = protected.stack
    degrade(stack, "set", "maintenance", "--reason", "from the host")
    for response in obeyed_by_every_worker(stack, chat_body(stack.model)):
        assert response.status_code == 503
        assert response.json()["error"]["message"] == "from the host"
    shown = degrade(stack, "show", "--json")
    assert '"actor": "cli:' in shown
    degrade(stack, "set", "normal")
    for response in obeyed_by_every_worker(stack, chat_body(stack.model)):
        assert response.status_code == 200


def degrade(stack: Stack, *args: str) -> str:
    env = {k: v for k, v in os.environ.items() if not k.startswith("LORAGATE_")}
    env["LORAGATE_DATA_DIR"] = str(stack.data_dir)
    done = subprocess.run(
        [sys.executable, "-m", "gateway.cli.main", "degrade", *args],
        env=env,
        cwd=Path(__file__).resolve().parents[2],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    return done.stdout
