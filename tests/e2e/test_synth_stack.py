"""``loragate data synth`` with the running loragate as its teacher (the default): the random
default model writes mostly unusable text, and the run says exactly what became of it."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.helpers import Stack
from tests.trainer.synth.conftest import SEEDS, TASK, seed_lines
from trainer.datasets import load_examples

pytestmark = pytest.mark.engine


def test_synth_against_the_stack_ends_cleanly_with_every_rejection_explained(
    stack: Stack, tmp_path: Path
) -> None:
    task, seeds, out = tmp_path / "task.md", tmp_path / "seeds.jsonl", tmp_path / "out.jsonl"
    task.write_text(TASK)
    seeds.write_text(seed_lines(SEEDS))
    env = os.environ | {
        "PYTHONPATH": str(Path.cwd()),
        "LORAGATE_DATA_DIR": str(stack.data_dir),  # the teacher is this loragate, by default
        "LORAGATE_PORT": str(stack.port),
    }
    env.pop("LORAGATE_TEACHER_API_KEY", None)  # the admin key file is used
    args = ["--task", str(task), "--seeds", str(seeds), "--n", "3", "--out", str(out)]
    args += ["--concurrency", "3", "--max-tokens", "48"]
    result = subprocess.run(
        [sys.executable, "-m", "gateway.cli.main", "data", "synth", *args],
        env=env, capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    output = result.stdout + result.stderr
    summary = json.loads(output[output.index("{\n") : output.rindex("\n}") + 2])
    assert summary["calls"] >= 1
    assert summary["call_cap"] == 9  # 3 x N
    assert summary["calls"] <= summary["call_cap"]
    answered = summary["accepted"] + sum(summary["rejected"].values()) + summary["surplus"]
    assert summary["answers"] + summary["surplus"] == answered
    assert set(summary["rejected"]) <= {
        "not_json", "wrong_shape", "invalid", "too_long", "duplicate", "near_duplicate",
    }  # fmt: skip
    assert set(summary["rejected_examples"]) == set(summary["rejected"])  # each one explained
    assert result.returncode == (1 if summary["accepted"] == 0 else 0), output
    if summary["accepted"]:
        assert len(load_examples(out)) == summary["accepted"]
    print(json.dumps(summary, indent=2))
