"""Schemathesis against a live stack (the real engine, no fine-tuning worker, so fuzzed jobs
never train): every operation of ``/openapi.json``, a fixed seed, a bounded budget, and the
checks that the answers are what the document says. Zero failures, and every operation of
the document fuzzed and passed, by name (schemathesis's JUnit reports): a route the fuzzer
does not reach fails the test.

The degradation switch is fuzzed last, on its own (a maintenance or fallback mode would make
every completion a 503), and set back to ``normal`` after. The fuzzer's key cannot revoke
itself: the API refuses that (409).
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from xml.etree import ElementTree

import httpx
import pytest

from tests.e2e.fuzz_targets import config_toml, make_targets
from tests.helpers import Stack, start_stack, stop_stack
from tests.lora_fixtures import publish_random_adapter

pytestmark = [pytest.mark.engine, pytest.mark.timeout(900)]

SEED = int(os.environ.get("LORAGATE_FUZZ_SEED", "20261130"))  # another seed: explore
EXAMPLES_PER_OPERATION = 50
CHECKS = (
    "not_a_server_error",
    "status_code_conformance",
    "content_type_conformance",
    "response_schema_conformance",
    "response_headers_conformance",
)
SWITCH = "PUT /admin/degradation"
BUDGET_S = 600
MAX_MODEL_LEN = 256
HTTP_METHODS = {"get", "put", "post", "delete", "options", "head", "patch", "trace"}


@pytest.fixture(scope="module")
def fuzzed_stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    root = tmp_path_factory.mktemp("fuzz")
    stack = start_stack(
        root / "data",
        root / "up.log",
        LORAGATE_FINETUNE__WORKER="false",
        # Fuzzed max_tokens ask for whole contexts: a short one keeps each answer quick.
        LORAGATE_ENGINE__MAX_MODEL_LEN=str(MAX_MODEL_LEN),
    )
    try:
        yield stack
    finally:
        stop_stack(stack)


def schemathesis(
    stack: Stack, config: Path, report: Path, timeout_s: float, *selection: str
) -> subprocess.CompletedProcess[str]:
    argv = [
        sys.executable, "-m", "schemathesis.cli", "--config-file", str(config),
        "run", f"{stack.base_url}/openapi.json",
        "--checks", ",".join(CHECKS),
        "--max-examples", str(EXAMPLES_PER_OPERATION),
        "--seed", str(SEED),
        "--generation-database", "none",
        "--phases", "examples,coverage,fuzzing",
        "--workers", "1",  # threads: hypothesis hits a CPython ast race (SystemError)
        "--request-timeout", "60",
        "--header", f"Authorization: Bearer {stack.admin_key}",
        "--report", "junit", "--report-junit-path", str(report),
        "--no-color",
        *selection,
    ]  # fmt: skip
    return subprocess.run(  # in the test's folder: schemathesis keeps a cache where it runs
        argv, capture_output=True, text=True, timeout=timeout_s, check=False, cwd=report.parent
    )


def fuzz_config(stack: Stack, work: Path) -> Path:
    """Real ids and names for the fuzzer: a dataset, a job, keys, the model, an adapter."""
    adapter = publish_random_adapter(
        stack.data_dir / "models" / stack.model, stack.data_dir / "adapters", work, "fuzzed"
    )
    targets = make_targets(stack.base_url, stack.headers, work, [stack.model, adapter.name])
    config = work / "schemathesis.toml"
    config.write_text(config_toml(targets))
    return config


def set_normal(stack: Stack) -> httpx.Response:
    return httpx.put(
        f"{stack.base_url}/admin/degradation",
        json={"mode": "normal"},
        headers=stack.headers,
        timeout=30,
    )


def test_every_operation_answers_as_its_document_says(fuzzed_stack: Stack, tmp_path: Path) -> None:
    config = fuzz_config(fuzzed_stack, tmp_path)
    started = time.monotonic()
    runs, reports = [], [tmp_path / "a.xml", tmp_path / "b.xml"]
    try:
        everything_else = ("--exclude-name", SWITCH)
        runs.append(schemathesis(fuzzed_stack, config, reports[0], BUDGET_S, *everything_else))
        left = BUDGET_S - (time.monotonic() - started)
        runs.append(schemathesis(fuzzed_stack, config, reports[1], left, "--include-name", SWITCH))
    finally:
        reset = set_normal(fuzzed_stack)
    elapsed = time.monotonic() - started
    for run in runs:
        print(run.stdout[-20_000:], run.stderr[-5_000:])
    print(f"fuzzed in {elapsed:.0f} s")
    assert reset.status_code == 200, reset.text
    assert httpx.get(f"{fuzzed_stack.base_url}/v1/status", timeout=10).json()["mode"] == "normal"
    assert [run.returncode for run in runs] == [0, 0], "schemathesis found failures (above)"
    outcomes = [outcome for report in reports for outcome in operation_outcomes(report)]
    document = httpx.get(f"{fuzzed_stack.base_url}/openapi.json", timeout=10).json()
    documented = documented_operations(document)
    tested = sorted(name for name, outcome in outcomes if outcome == "passed")
    assert tested == sorted(documented), (
        f"not fuzzed: {sorted(set(documented) - set(tested))}, "
        f"not passed: {[pair for pair in outcomes if pair[1] != 'passed']}"
    )
    assert sum(_operations_tested(run.stdout) for run in runs) == len(documented)
    assert not (fuzzed_stack.data_dir / "run" / "worker.pid").exists()


def documented_operations(document: dict[str, Any]) -> list[str]:
    """``METHOD /path`` of every operation in an OpenAPI document (schemathesis's labels)."""
    return [
        f"{method.upper()} {path}"
        for path, item in document["paths"].items()
        for method in item
        if method in HTTP_METHODS
    ]


def operation_outcomes(report: Path) -> list[tuple[str, str]]:
    """Each operation schemathesis reported in its JUnit file, and how it ended: ``passed``,
    or the first of ``failure``, ``error``, ``skipped`` it has."""
    outcomes = []
    for case in ElementTree.parse(report).iter("testcase"):
        ended = [child.tag for child in case if child.tag in ("failure", "error", "skipped")]
        outcomes.append((case.attrib["name"], ended[0] if ended else "passed"))
    return outcomes


def _operations_tested(stdout: str) -> int:
    """The count in schemathesis's summary: ``Tested: N``."""
    for line in stdout.splitlines():
        if line.strip().startswith("Tested:"):
            return int(line.split(":", 1)[1])
    raise AssertionError(f"no operation count in the output:\n{stdout[-3000:]}")
