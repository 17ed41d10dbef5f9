"""``loragate data report``: findings with lines on the terminal or as JSON; exit 1 on errors."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from gateway.cli.main import app
from tests.trainer.datasets import crafted

runner = CliRunner()


def test_report_with_the_model_s_tokenizer_as_json(tmp_path: Path, tiny_model: Path) -> None:
    path = crafted.write_flawed(tmp_path / "flawed.jsonl", invalid=False)
    args = ["data", "report", str(path), "--model", str(tiny_model), "--max-seq-len", "512"]
    result = runner.invoke(app, [*args, "--json"])
    assert result.exit_code == 0, result.output  # warnings only
    report = json.loads(result.output)
    found = {item["code"]: item["lines"] for item in report["findings"]}
    assert found["near_duplicates"] == [crafted.NEAR_COPY]
    assert found["over_max_seq_len"] == [crafted.OVER_LONG]
    assert report["stats"]["lengths"]["unit"] == "tokens"


def test_report_on_the_terminal_exits_1_on_errors(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("LORAGATE_DATA_DIR", str(tmp_path / "nothing-here"))
    path = crafted.write_flawed(tmp_path / "flawed.jsonl")
    result = runner.invoke(app, ["data", "report", str(path)])
    assert result.exit_code == 1, result.output
    output = " ".join(result.output.split())  # rich wraps long lines
    assert "lengths are in characters" in output
    assert f"exact copies of an earlier example: 1 (lines {crafted.EXACT_COPY})" in output
    assert "conflicting" not in output  # codes stay in JSON; words on the terminal
    assert (
        f"different answers: 1 (2 examples) (lines {crafted.CONFLICT[0]}, {crafted.CONFLICT[1]})"
        in output
    )
    assert "error: problems that make lines unusable (not trained on): 1 (lines 19)" in output
    assert "errors 1, warnings 5, notes 0" in output
