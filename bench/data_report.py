"""Quality-report throughput: ``build_report`` on a generated dataset of 100,000 examples,
tokenising with the embedded default model's tokenizer (the base model's, as uploads do).

    python bench/data_report.py [--examples 100000] [--model DIR] [--json out.json]

The data mixes English question/answer prose (common words, 8 to 24 in a question, 20 to 70
in an answer) and Chinese review labels (a quarter), with 1% exact and 1% near duplicates.
Prints the time of three phases alone, then of the whole report; exit status 0 when the
whole report takes under --target-s (10 s), 1 otherwise.
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

REPO_ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO_ROOT))

from trainer.datasets.loader import read_dataset  # noqa: E402
from trainer.datasets.quality import build_report  # noqa: E402
from trainer.datasets.quality.duplicates import near_duplicates  # noqa: E402
from trainer.datasets.quality.lengths import lengths_of  # noqa: E402

PHRASES = ("味道很好", "送餐很快", "分量很足", "饭都凉了", "味道很差", "分量太少", "包装破了")


ENGLISH = (
    "the a an and or but if then when while for with to from of in on at by is are was be "
    "have has do will would can could should you your we our they their it this that these "
    "hello thanks please sorry yes no good bad great fast slow hot cold fresh food order "
    "delivery restaurant meal rice noodles soup chicken beef fish tea coffee review rating "
    "service driver package price taste portion spicy sweet salty late early answer question "
    "help explain write summarize translate example test train data"
).split()


def words(rng: random.Random, count: int) -> str:
    """English-like text: common words (most are whole tokens) and a few numbers."""
    chosen = rng.choices(ENGLISH, k=count)
    chosen[rng.randrange(count)] = str(rng.randrange(100_000))
    return " ".join(chosen)


def example(rng: random.Random, index: int) -> dict[str, Any]:
    if index % 4 == 0:  # a Chinese classification example
        review = "，".join(rng.sample(PHRASES, 3)) + f"，第{index}单。"
        turns = [("user", review), ("assistant", rng.choice(("好评", "差评")))]
    else:
        turns = [("user", words(rng, rng.randint(8, 24)) + "?"),
                 ("assistant", words(rng, rng.randint(20, 70)) + ".")]  # fmt: skip
    return {"messages": [{"role": role, "content": text} for role, text in turns]}


def write_dataset(path: Path, count: int, seed: int = 0) -> None:
    rng = random.Random(seed)
    rows = [example(rng, i) for i in range(count)]
    for i in range(0, count, 100):  # 1% exact copies, 1% near copies
        rows[i] = rows[(i + 37) % count]
        near = json.loads(json.dumps(rows[(i + 51) % count]))
        near["messages"][-1]["content"] += " x"
        rows[(i + 1) % count] = near
    with path.open("w", encoding="utf-8") as out:
        for row in rows:
            out.write(json.dumps(row, ensure_ascii=False) + "\n")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--examples", type=int, default=100_000)
    parser.add_argument("--model", type=Path, default=None)
    parser.add_argument("--target-s", type=float, default=10.0)
    parser.add_argument("--json", type=Path, default=None)
    options = parser.parse_args()
    from transformers import AutoTokenizer

    from trainer.default_model import ensure_default_model

    with tempfile.TemporaryDirectory() as tmp:
        model = options.model or ensure_default_model(Path(tmp) / "loragate-tiny")
        tokenizer = AutoTokenizer.from_pretrained(model)
        data = Path(tmp) / "data.jsonl"
        write_dataset(data, options.examples)
        size = data.stat().st_size
        phases: dict[str, float] = {}
        start = time.perf_counter()
        examples = read_dataset(data).examples
        phases["read + validate"] = time.perf_counter() - start
        start = time.perf_counter()
        lengths_of(examples, tokenizer)
        phases["tokenise (chat template)"] = time.perf_counter() - start
        start = time.perf_counter()
        near_duplicates(examples, set())
        phases["near duplicates (MinHash/LSH)"] = time.perf_counter() - start
        start = time.perf_counter()
        report = build_report(data, tokenizer, max_model_len=2048)
        total = time.perf_counter() - start
    result = {
        "examples": report.examples,
        "megabytes": round(size / 1e6, 1),
        "report_s": round(total, 2),
        "phases_s": {name: round(value, 2) for name, value in phases.items()},
        "findings": {item.code: item.count for item in report.findings},
        "target_s": options.target_s,
    }
    print(json.dumps(result, indent=2, ensure_ascii=False))
    if options.json:
        options.json.write_text(json.dumps(result, indent=2, ensure_ascii=False))
    return 0 if total < options.target_s else 1


if __name__ == "__main__":
    sys.exit(main())
