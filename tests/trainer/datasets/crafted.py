"""Crafted datasets whose every flaw, and its line, is known: the report's test material."""

from __future__ import annotations

import json
import random
import string
from pathlib import Path

EXACT_COPY, EXACT_OF = 13, 2
NEAR_COPY, NEAR_OF = 14, 3
CONFLICT = (4, 15)
NO_USER = 16
CUT_OFF = 17
OVER_LONG = 18
INVALID = 19
LONG_WORDS = 250


def sentence(rng: random.Random, words: int) -> str:
    """Random words: texts made this way share (almost) no 5-grams with each other."""
    letters = string.ascii_lowercase
    chosen = ["".join(rng.choices(letters, k=rng.randint(3, 8))) for _ in range(words)]
    return " ".join(chosen).capitalize()


def chat(user: str | None, answer: str, system: str | None = None) -> dict[str, object]:
    turns = [("system", system), ("user", user), ("assistant", answer)]
    return {"messages": [{"role": r, "content": c} for r, c in turns if c is not None]}


def write_flawed(path: Path, seed: int = 0, invalid: bool = True) -> Path:
    """19 lines: 12 good, then one example of each flaw at the lines named above (the
    unreadable last line only when ``invalid``)."""
    rng = random.Random(seed)
    good = [chat(sentence(rng, 8) + "?", sentence(rng, 20) + ".") for _ in range(12)]
    near_user = str(good[NEAR_OF - 1]["messages"][0]["content"])  # type: ignore[index]
    near_answer = str(good[NEAR_OF - 1]["messages"][1]["content"])  # type: ignore[index]
    conflict_user = str(good[CONFLICT[0] - 1]["messages"][0]["content"])  # type: ignore[index]
    flawed = [
        good[EXACT_OF - 1],
        chat(near_user.replace("?", " indeed?"), near_answer),
        chat(conflict_user, sentence(rng, 20) + "."),
        chat(None, sentence(rng, 20) + ".", system=sentence(rng, 6) + "."),
        chat(sentence(rng, 8) + "?", sentence(rng, 20)),
        chat(sentence(rng, 8) + "?", sentence(rng, LONG_WORDS) + "."),
    ]
    lines = [json.dumps(example) for example in [*good, *flawed]] + (["{not json"] * invalid)
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def write_labels(path: Path, counts: dict[str, int], seed: int = 0) -> Path:
    """A classification set: ``counts[label]`` examples of each label, in a shuffled order."""
    rng = random.Random(seed)
    labels = [label for label, count in counts.items() for _ in range(count)]
    rng.shuffle(labels)
    lines = [json.dumps(chat(sentence(rng, 10), label), ensure_ascii=False) for label in labels]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path
