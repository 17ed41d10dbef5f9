"""The fast forms of the report's text views give what the plain regex forms gave."""

from __future__ import annotations

import random
import re
import unicodedata

from trainer.datasets.example import ChatExample
from trainer.datasets.quality.scripts import HAN, LATIN, NOT_A_LETTER, script_mix
from trainer.datasets.quality.text import plain_text

PIECES = [
    "Hello", "WORLD", " ", "  ", "\t", "\n", "\r\n", "\x0b", "\x0c", "\x1c", "\x1f", "\x85",
    "\u00a0", "\u2028", "\u3000", "\u200b", "123", "_", "snake_case", "ﬁ", "Ⅻ", "①", "×", "÷",
    "café", "Ærøskøbing", "ẞ", "中文", "，", "。", "𠀋", "한국어", "русский", "ℌ", "!?",
]  # fmt: skip


def texts(seed: int, count: int) -> list[str]:
    rng = random.Random(seed)
    return ["".join(rng.choices(PIECES, k=rng.randint(0, 12))) for _ in range(count)]


def regex_script_mix(items: list[str]) -> dict[str, float]:
    letters = NOT_A_LETTER.sub("", "".join(items))
    without_han = HAN.sub("", letters)
    other = LATIN.sub("", without_han)
    total = len(letters) or 1
    han, latin = len(letters) - len(without_han), len(without_han) - len(other)
    return {
        "han": round(han / total, 4),
        "latin": round(latin / total, 4),
        "other": round(len(other) / total, 4),
    }


def regex_plain_text(example: ChatExample) -> str:
    joined = " ".join(message.content for message in example.messages)
    return re.sub(r"\s+", " ", unicodedata.normalize("NFKC", joined)).strip().lower()


def test_script_mix_counts_ascii_texts_as_bytes_to_the_same_shares() -> None:
    for seed in range(20):
        items = texts(seed, 50) + ["plain ascii text, 42 of it"] * seed
        assert script_mix(items) == regex_script_mix(items)
    assert script_mix(["123 ..."]) == {"han": 0.0, "latin": 0.0, "other": 0.0}


def test_plain_text_collapses_the_same_spaces() -> None:
    for seed, text in enumerate(texts(99, 500)):
        example = ChatExample.from_pairs([("user", text or "x"), ("assistant", PIECES[seed % 9])])
        assert plain_text(example) == regex_plain_text(example)
