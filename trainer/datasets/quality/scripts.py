"""Which writing systems a dataset is in (Unicode ranges; no language model)."""

from __future__ import annotations

import re
from collections.abc import Iterable

HAN = re.compile("[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\U00020000-\U0002fa1f]+")
LATIN = re.compile("[A-Za-z\u00c0-\u024f\u1e00-\u1eff]+")
NOT_A_LETTER = re.compile(r"[\W\d_]+")
ASCII_LETTERS = bytes(range(ord("A"), ord("Z") + 1)) + bytes(range(ord("a"), ord("z") + 1))


def script_mix(texts: Iterable[str]) -> dict[str, float]:
    """Shares of letters that are Han, Latin and anything else (digits, spaces and
    punctuation are not letters and do not count). Regex passes, so it runs at C speed; texts
    of ASCII only (whose letters are all Latin) are counted as bytes, faster still."""
    plain: list[str] = []
    other: list[str] = []
    for text in texts:
        (plain if text.isascii() else other).append(text)
    ascii_bytes = "".join(plain).encode("ascii")
    ascii_letters = len(ascii_bytes) - len(ascii_bytes.translate(None, ASCII_LETTERS))
    letters = NOT_A_LETTER.sub("", "".join(other))
    without_han = HAN.sub("", letters)
    rest = LATIN.sub("", without_han)
    total = ascii_letters + len(letters)
    if total == 0:
        return {"han": 0.0, "latin": 0.0, "other": 0.0}
    han = len(letters) - len(without_han)
    latin = ascii_letters + len(without_han) - len(rest)
    return {
        "han": round(han / total, 4),
        "latin": round(latin / total, 4),
        "other": round(len(rest) / total, 4),
    }
