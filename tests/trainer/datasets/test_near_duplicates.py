"""The bulk near-duplicate search finds exactly the pairs a plain, exact Jaccard computation
over every earlier row finds: English and Chinese, edits on both sides of the threshold."""

from __future__ import annotations

import json
import random
from collections.abc import Sequence
from pathlib import Path

import pytest

from trainer.datasets import load_examples
from trainer.datasets.quality import build_report, near
from trainer.datasets.quality.near import near_pairs
from trainer.datasets.quality.similarity import (
    NEAR_THRESHOLD,
    NearDuplicateIndex,
    jaccard,
    shingles,
)
from trainer.datasets.quality.text import full_key, plain_text

ENGLISH = (
    "the delivery was late but the soup was still hot and the driver apologised twice "
    "before handing over the order with a smile"
)
CHINESE = "这家店的牛肉面味道很好，送餐也很快，分量很足，包装得很仔细，下次还会再点，推荐给大家"
HAN = "味道很好送餐很快分量很足饭都凉了包装破了服务周到价格便宜环境干净"


def exact_pairs(texts: Sequence[str], threshold: float = NEAR_THRESHOLD) -> list[tuple[int, int]]:
    """The reference: each row against every earlier indexed row, by exact Jaccard; a copy
    is paired with its most similar earlier row (the first on a tie) and not indexed."""
    indexed: list[int] = []
    pairs: list[tuple[int, int]] = []
    sets = [shingles(text) for text in texts]
    for row, own in enumerate(sets):
        scores = [(jaccard(own, sets[key]), -key) for key in indexed]
        best = max(scores, default=(0.0, 0))
        if best[0] >= threshold:
            pairs.append((row, -best[1]))
        else:
            indexed.append(row)
    return pairs


def edited(rng: random.Random, text: str, edits: int, alphabet: str) -> str:
    """``text`` with ``edits`` characters replaced at random places."""
    chars = list(text)
    for _ in range(edits):
        chars[rng.randrange(len(chars))] = rng.choice(alphabet)
    return "".join(chars)


def crafted_texts() -> list[str]:
    """Originals, and copies of them with 0 to 12 characters changed: their similarity to
    the original runs from 1.0 down through 0.8 to well below it."""
    rng = random.Random(11)
    texts: list[str] = []
    for round_ in range(6):
        english = ENGLISH + f" order number {round_ * 7919}"
        chinese = CHINESE + f"第{round_ * 104729}单"
        for base, alphabet in ((english, "abcdefghijklmnopqrstuvwxyz "), (chinese, HAN)):
            texts.append(base)
            texts += [edited(rng, base, edits, alphabet) for edits in range(0, 13, 2)]
    texts += ["".join(rng.choice(HAN) for _ in range(40)) for _ in range(10)]
    texts += ["ok", "ok", "okay", "", " ", "thanks!", "thanks."]
    rng.shuffle(texts)
    return texts


def test_pairs_equal_the_exact_computation() -> None:
    texts = crafted_texts()
    expected = exact_pairs(texts)
    similarities = [jaccard(shingles(texts[a]), shingles(texts[b])) for a, b in expected]
    assert any(0.8 <= s < 0.85 for s in similarities)  # the threshold is exercised
    assert near_pairs(texts) == expected


def test_the_one_at_a_time_index_finds_the_exact_pairs() -> None:
    """What synth uses: each text added in turn is either indexed or paired with an earlier one."""
    texts = crafted_texts()
    index = NearDuplicateIndex()
    found = [
        (row, match)
        for row, text in enumerate(texts)
        if (match := index.add(row, text)) is not None
    ]
    assert found == exact_pairs(texts)
    assert len(index) == len(texts) - len(found)
    assert index.find(texts[0]) == 0


def test_near_pairs_of_few_texts() -> None:
    assert near_pairs([]) == []
    assert near_pairs(["same text here"]) == []
    assert near_pairs(["same text here", "same text here"]) == [(1, 0)]


def test_report_names_the_exact_pairs(tmp_path: Path) -> None:
    texts = [text for text in crafted_texts() if text.strip()]  # empty answers are invalid
    rows = [
        {
            "messages": [
                {"role": "user", "content": f"q{i % 3}"},
                {"role": "assistant", "content": t},
            ]
        }
        for i, t in enumerate(texts)
    ]
    path = tmp_path / "near.jsonl"
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), "utf-8")
    examples = load_examples(path)
    report = build_report(path)
    seen: dict[str, int] = {}
    kept = [i for i, e in enumerate(examples) if seen.setdefault(full_key(e), i) == i]
    expected = [(kept[a], kept[b]) for a, b in exact_pairs([plain_text(examples[i]) for i in kept])]
    found = report.of("near_duplicates")
    assert found is not None
    assert found.count == len(expected)
    lines = [examples[a].source_line for a, _ in expected]
    assert found.lines == sorted(line for line in lines if line is not None)[:20]
    details = [
        f"line {examples[a].source_line} ~ line {examples[b].source_line}" for a, b in expected
    ]
    assert found.details == details[:20]


def test_templated_texts_stop_the_search_within_its_budget_and_say_so(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Short templated rows are alike enough to propose each other but below the threshold,
    so all are indexed and each row's candidates grow with the rows before it (quadratic):
    the search stops where the candidate budget runs out."""
    rng = random.Random(1)
    phrases = ["good food", "slow delivery", "cold rice"]
    texts = [f"review {i} " + rng.choice(phrases) for i in range(3000)]
    monkeypatch.setattr(near, "CANDIDATES_BASE", 0)
    pairs, stopped = near.near_search(texts)
    assert stopped is not None
    assert 0 < stopped < len(texts)
    assert all(row < stopped for row, _ in pairs)
    monkeypatch.setattr(near, "CANDIDATES_PER_ROW", 10**6)
    assert near.near_search(texts)[1] is None  # with room, the whole set is searched


def test_the_report_says_where_the_near_duplicate_search_stopped(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setattr(near, "CANDIDATES_BASE", 0)
    rng = random.Random(1)
    path = tmp_path / "templated.jsonl"
    with path.open("w") as out:
        for i in range(3000):
            user = f"review {i} " + rng.choice(["good food", "slow delivery", "cold rice"])
            chat = [{"role": "user", "content": user}, {"role": "assistant", "content": "ok."}]
            out.write(json.dumps({"messages": chat}) + "\n")
    found = build_report(path, None).of("near_duplicates")
    assert found is not None
    assert "looked for only up to line" in found.message
