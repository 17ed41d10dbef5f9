"""``loragate data synth``: errors before any call, exit codes, and a killed run continued."""

from __future__ import annotations

import json
import os
import random
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
from typer.testing import CliRunner

from gateway.cli.main import app
from tests.trainer.datasets.crafted import sentence
from tests.trainer.synth.conftest import SEEDS, seed_lines
from tests.trainer.synth.scripted_teacher import Step, answer, example_json, scripted_teacher

runner = CliRunner()


def synth_args(task: Path, seeds: Path, out: Path, n: int, url: str, *more: str) -> list[str]:
    return [
        "data", "synth", "--task", str(task), "--seeds", str(seeds), "--n", str(n),
        "--out", str(out), "--teacher-url", url, "--teacher-model", "t", *more,
    ]  # fmt: skip


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_bad_inputs_and_teachers_fail_before_any_call(
    task: Path, seeds: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    out = tmp_path / "out.jsonl"
    two_seeds = tmp_path / "two.jsonl"
    two_seeds.write_text(seed_lines(SEEDS[:2]) + "{broken\n")
    monkeypatch.setenv("LORAGATE_TEACHER_API_KEY", "wrong")
    with scripted_teacher([], key="right") as teacher:
        cases = {
            "--n must be at least 1": synth_args(task, seeds, out, 0, teacher.url),
            "2 valid seed examples; at least 3": synth_args(task, two_seeds, out, 5, teacher.url),
            "refused the key (401)": synth_args(task, seeds, out, 5, teacher.url),
            "cannot reach the teacher": synth_args(
                task, seeds, out, 5, f"http://127.0.0.1:{free_port()}/v1"
            ),
        }
        for words, args in cases.items():
            result = runner.invoke(app, args)
            assert result.exit_code == 2, (words, result.output)
            assert words in " ".join(result.output.split()), result.output
        assert teacher.requests == []  # no chat call was made
    assert not out.exists()


def test_nothing_accepted_exits_1_with_every_rejection_explained(
    task: Path, seeds: Path, tmp_path: Path
) -> None:
    out = tmp_path / "out.jsonl"
    with scripted_teacher([], default=answer("Sorry, I only speak prose.")) as teacher:
        result = runner.invoke(app, synth_args(task, seeds, out, 2, teacher.url))
    assert result.exit_code == 1, result.output
    summary = json.loads(result.output[result.output.index("{") : result.output.rindex("}") + 1])
    assert summary["calls"] == 6
    assert summary["accepted"] == 0
    assert summary["rejected"] == {"not_json": 6}
    assert "only speak prose" in summary["rejected_examples"]["not_json"]


def test_a_killed_run_is_continued_without_duplicates(
    task: Path, seeds: Path, tmp_path: Path
) -> None:
    out = tmp_path / "out.jsonl"
    rng = random.Random(1)
    wanted = [
        (f"Review: {sentence(rng, 12)}.", "positive" if i % 2 else "negative") for i in range(8)
    ]
    slow = [Step(text=example_json(*pair), delay_s=0.3) for pair in wanted]
    # after the kill: the teacher repeats what was already kept, then goes on
    script = slow[:4] + [answer(example_json(*pair)) for pair in wanted]
    with scripted_teacher(script) as teacher:
        args = synth_args(task, seeds, out, 6, teacher.url, "--concurrency", "1")
        env = os.environ | {"PYTHONPATH": str(Path.cwd())}
        process = subprocess.Popen(
            [sys.executable, "-m", "gateway.cli.main", *args],
            env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )  # fmt: skip
        try:
            deadline = time.monotonic() + 60
            while time.monotonic() < deadline:
                if out.exists() and len(out.read_text().splitlines()) >= 2:
                    break
                time.sleep(0.05)
        finally:
            process.send_signal(signal.SIGKILL)
            process.wait()
        kept = len(out.read_text().splitlines())
        assert 2 <= kept < 6
        result = runner.invoke(app, [*args[:-2], "--concurrency", "1"])
    assert result.exit_code == 0, result.output
    rows = [json.loads(line) for line in out.read_text().splitlines()]
    users = [row["messages"][0]["content"] for row in rows]
    assert len(users) == 6
    assert len(set(users)) == 6  # nothing twice
    assert set(users) == {pair[0] for pair in wanted[:6]}
