"""The quality report on crafted files: every finding, with the right lines."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from tests.trainer.datasets import crafted
from tests.trainer.datasets.helpers import WriteFile
from trainer.datasets import count_tokens, load_examples
from trainer.datasets.quality import (
    QualityReport,
    build_report,
    load_report,
    report_path,
    save_report,
)
from trainer.default_model import ensure_default_model


@pytest.fixture(scope="module")
def tokenizer(tmp_path_factory: pytest.TempPathFactory) -> Any:
    from transformers import AutoTokenizer

    model = ensure_default_model(tmp_path_factory.mktemp("quality") / "m")
    return AutoTokenizer.from_pretrained(model)


@pytest.fixture
def flawed(tmp_path: Path) -> Path:
    return crafted.write_flawed(tmp_path / "flawed.jsonl")


def lines_of(report: QualityReport, code: str) -> list[int]:
    found = report.of(code)
    assert found is not None, f"no {code} in {[f.code for f in report.findings]}"
    return found.lines


def test_every_flaw_is_found_on_its_line(flawed: Path, tokenizer: Any) -> None:
    report = build_report(flawed, tokenizer, max_model_len=2048, max_seq_len=512)
    assert report.examples == 18
    assert lines_of(report, "invalid_lines") == [crafted.INVALID]
    assert lines_of(report, "exact_duplicates") == [crafted.EXACT_COPY]
    assert lines_of(report, "near_duplicates") == [crafted.NEAR_COPY]
    assert lines_of(report, "conflicting_answers") == list(crafted.CONFLICT)
    assert lines_of(report, "no_user_turn") == [crafted.NO_USER]
    assert lines_of(report, "cut_off_answers") == [crafted.CUT_OFF]
    assert lines_of(report, "over_max_seq_len") == [crafted.OVER_LONG]
    assert report.of("over_max_model_len") is None
    assert report.of("label_distribution") is None  # prose, not labels
    severities = {f.code: f.severity for f in report.findings}
    assert severities["invalid_lines"] == "error"
    assert severities["near_duplicates"] == "warning"
    assert report.counts == {"error": 1, "warning": 6, "info": 0}
    assert report.findings[0].severity == "error"  # worst first


def test_lengths_are_the_model_s_tokens(flawed: Path, tokenizer: Any) -> None:
    report = build_report(flawed, tokenizer, max_model_len=1000, max_seq_len=512)
    expected = [count_tokens(e, tokenizer) for e in load_examples_leniently(flawed)]
    lengths = report.stats["lengths"]
    assert lengths["unit"] == "tokens"
    assert (lengths["min"], lengths["max"]) == (min(expected), max(expected))
    assert lengths["over_max_model_len"] == sum(n > 1000 for n in expected) == 1
    assert lines_of(report, "over_max_model_len") == [crafted.OVER_LONG]
    assert report.stats["turns"]["total"] == sum(
        len(e.messages) for e in load_examples_leniently(flawed)
    )


def load_examples_leniently(path: Path) -> list[Any]:
    good = [line for line in path.read_text().splitlines() if line.startswith('{"')]
    clean = path.with_name("clean.jsonl")
    clean.write_text("\n".join(good) + "\n")
    return load_examples(clean)


def test_an_example_at_the_length_limit_looks_cut_off(tmp_path: Path, tokenizer: Any) -> None:
    path = crafted.write_labels(tmp_path / "l.jsonl", {"yes": 5, "no": 5})
    lengths = [count_tokens(e, tokenizer) for e in load_examples(path)]
    line, limit = next((n, k) for n, k in enumerate(lengths, 1) if lengths.count(k) == 1)
    report = build_report(path, tokenizer, max_seq_len=limit)
    assert lines_of(report, "cut_off_answers") == [line]


def test_imbalanced_labels_are_reported_with_their_distribution(tmp_path: Path) -> None:
    path = crafted.write_labels(tmp_path / "labels.jsonl", {"好评": 20, "差评": 3})
    report = build_report(path)
    assert report.stats["answers"] == {
        "classification": True,
        "distribution": {"好评": 20, "差评": 3},
    }
    imbalance = report.of("label_imbalance")
    assert imbalance is not None
    assert imbalance.severity == "warning"
    assert "87%" in imbalance.message
    labels = [json.loads(line)["messages"][-1]["content"] for line in path.read_text().splitlines()]
    assert imbalance.lines == [n for n, label in enumerate(labels, 1) if label == "好评"][:20]
    assert imbalance.count == 20
    assert report.of("cut_off_answers") is None  # labels carry no punctuation by nature


def test_balanced_labels_are_not_a_warning(tmp_path: Path) -> None:
    path = crafted.write_labels(tmp_path / "labels.jsonl", {"yes": 10, "no": 8, "maybe": 4})
    report = build_report(path)
    assert report.of("label_distribution") is not None
    assert report.of("label_imbalance") is None


def test_near_duplicates_in_chinese(write_file: WriteFile) -> None:
    base = "这家店的牛肉面汤头浓郁，面条筋道，牛肉分量很足，服务员态度也很好，下次还会再来"
    rows = [
        crafted.chat("评价一下", base + "。"),
        crafted.chat("评价一下", base + "！"),  # one character differs
        crafted.chat(
            "评价一下", "完全不同的一段话，讲的是天气和交通，与面馆毫无关系，也没有重复的词语。"
        ),
    ]
    path = write_file("zh.jsonl", "\n".join(json.dumps(r, ensure_ascii=False) for r in rows))
    report = build_report(path)
    assert lines_of(report, "near_duplicates") == [2]
    assert report.stats["scripts"]["han"] == 1.0


def test_a_clean_file_has_nothing_to_warn(tmp_path: Path) -> None:
    path = crafted.write_labels(tmp_path / "ok.jsonl", {"yes": 6, "no": 6})
    report = build_report(path)
    assert report.warnings() == []


def test_findings_keep_20_lines_and_count_the_rest(write_file: WriteFile) -> None:
    row = json.dumps(crafted.chat("same question?", "same answer."))
    path = write_file("dups.jsonl", "\n".join([row] * 30))
    found = build_report(path).of("exact_duplicates")
    assert found is not None
    assert found.lines == list(range(2, 22))
    assert found.count == 29


def test_the_report_is_stored_beside_the_file(flawed: Path) -> None:
    assert load_report(flawed) is None
    report = build_report(flawed)
    stored = save_report(flawed, report)
    assert stored == report_path(flawed) == flawed.with_name("flawed.jsonl.report.json")
    assert load_report(flawed) == report


def test_answers_cut_at_a_token_cap_look_cut_off(write_file: WriteFile) -> None:
    rows = [crafted.chat(f"question {i}?", f"answer {i} " + "word " * (5 + i % 7) + "end.")
            for i in range(40)]  # fmt: skip
    capped = [crafted.chat(f"long {i}?", "word " * 30 + f"stops {i}") for i in range(4)]
    path = write_file("capped.jsonl", "\n".join(json.dumps(r) for r in rows + capped))
    found = build_report(path).of("cut_off_answers")
    assert found is not None
    assert found.lines == [41, 42, 43, 44]
    assert "exactly 32 long" in found.details[0]
