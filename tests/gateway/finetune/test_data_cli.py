"""``loragate data validate|convert|split``."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from gateway.cli.main import app
from tests.trainer.jobs.helpers import write_reviews

SAMPLES = Path(__file__).parents[3] / "examples" / "samples"
runner = CliRunner()


def test_validate_a_good_file_with_token_counts(tmp_path: Path, tiny_model: Path) -> None:
    path = write_reviews(tmp_path / "reviews.jsonl", 10)
    result = runner.invoke(app, ["data", "validate", str(path), "--model", str(tiny_model)])
    assert result.exit_code == 0, result.output
    assert "10 usable examples" in result.output
    assert "tokens" in result.output


def test_validate_a_bad_file_lists_each_line(tmp_path: Path) -> None:
    path = tmp_path / "bad.jsonl"
    good = {"messages": [{"role": "user", "content": "a"}, {"role": "assistant", "content": "b"}]}
    path.write_text(json.dumps(good) + "\n{oops\n" + json.dumps({"messages": []}) + "\n")
    result = runner.invoke(app, ["data", "validate", str(path)])
    assert result.exit_code == 1
    assert "bad.jsonl:2" in result.output
    assert "bad.jsonl:3" in result.output
    assert "2 problems" in result.output


def test_convert_alpaca_and_csv(tmp_path: Path) -> None:
    out = tmp_path / "alpaca.jsonl"
    result = runner.invoke(
        app, ["data", "convert", str(SAMPLES / "alpaca.json"), "--out", str(out)]
    )
    assert result.exit_code == 0, result.output
    lines = out.read_text().splitlines()
    assert len(lines) == len(json.loads((SAMPLES / "alpaca.json").read_text()))
    assert all("messages" in json.loads(line) for line in lines)
    header = (SAMPLES / "reviews.csv").read_text(encoding="utf-8").splitlines()[0].split(",")
    csv_out = tmp_path / "csv.jsonl"
    args = ["data", "convert", str(SAMPLES / "reviews.csv"), "--out", str(csv_out)]
    result = runner.invoke(
        app, [*args, "--prompt-column", header[0], "--completion-column", header[1]]
    )
    assert result.exit_code == 0, result.output
    assert csv_out.read_text().count("\n") >= 1
    refused = runner.invoke(app, args)
    assert refused.exit_code != 0


def test_split_writes_three_parts(tmp_path: Path) -> None:
    path = write_reviews(tmp_path / "reviews.jsonl", 50)
    result = runner.invoke(app, ["data", "split", str(path), "--seed", "3"])
    assert result.exit_code == 0, result.output
    sizes = {
        part: len((tmp_path / f"reviews.{part}.jsonl").read_text().splitlines())
        for part in ("train", "validation", "test")
    }
    assert sizes == {"train": 40, "validation": 5, "test": 5}
