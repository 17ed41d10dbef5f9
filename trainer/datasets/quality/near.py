"""Near-duplicates of a whole dataset at once: MinHash and LSH from ``rensa`` (Rust), pairs
confirmed by their exact Jaccard similarity.

Two passes. The first sketches every text in one Rust call (R-MinHash over 64-bit hashes of
its character 5-grams, computed in one numpy pass) and asks rensa's LSH which rows share a
band with any other row; rows that share none have no near copy and are not looked at again.
The second goes through the flagged rows in file order, as a streaming index would: their
shingle sets are sketched again (rensa, string tokens), an LSH with more, shorter bands
proposes earlier rows, the MinHash estimate drops the clearly different ones, and the exact
Jaccard similarity of the shingle sets decides. A row that nearly copies an earlier one is
paired with the earlier row it is most similar to (the first one on a tie) and is not indexed
itself, so a chain of small edits is reported against the original each time.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence

import numpy as np
import rensa

from trainer.datasets.quality.similarity import (
    MAX_CHARS,
    NEAR_THRESHOLD,
    SHINGLE,
    jaccard,
    shingles,
)

FILTER_PERMUTATIONS = 256
FILTER_BANDS = 32
"""First pass: 32 bands of 8 rows find a pair at Jaccard 0.8 with probability 0.997, at 0.82
with 0.9993, at 0.85 with 0.99999 (datasketch's own choice for 64 permutations, 5 bands of 11,
found 0.36, 0.46 and 0.62), and flag few rows of unrelated texts."""
CONFIRM_PERMUTATIONS = 192
CONFIRM_BANDS = 32
"""Second pass, on flagged rows only: 32 bands of 6 rows miss a pair at 0.8 with probability
6e-5 and propose far fewer unrelated rows than shorter bands."""
ESTIMATE_MARGIN = 0.2
"""Candidates whose MinHash estimate is this far below the threshold are not compared (the
estimate's standard error at 192 permutations is at most 0.036)."""
HASHED_MARGIN = 0.05
"""Candidates whose Jaccard similarity over shingle hashes is this far below the threshold
(plus two elements' worth, for collisions) are not compared as strings."""
SEED = 0x6C6F7261  # any fixed value: the sketches only ever meet others from this module

_ROLL = np.uint64(0x9E3779B97F4A7C15)
_MIX = np.uint64(0xFF51AFD7ED558CCD)

CANDIDATES_PER_ROW = 16
"""The second pass looks at no more LSH candidates than this many per flagged row (plus
``CANDIDATES_BASE``) in all. Ordinary data proposes a handful per row; templated text
(``review 1 good food``, ``review 2 good food``, ...) makes nearly every row a candidate of
nearly every other, which is quadratic (1.2M such rows ran for over 15 minutes). The search
then stops where the budget ran out, and the report says so."""
CANDIDATES_BASE = 100_000
SKETCH_BATCH = 4096

Pair = tuple[int, int]  # (a row, the earlier row it nearly copies)


def near_pairs(texts: Sequence[str], threshold: float = NEAR_THRESHOLD) -> list[Pair]:
    """Every row of ``texts`` that nearly copies an earlier, indexed one, with that one."""
    return near_search(texts, threshold)[0]


def near_search(
    texts: Sequence[str], threshold: float = NEAR_THRESHOLD
) -> tuple[list[Pair], int | None]:
    """:func:`near_pairs`, and the row where the search stopped for lack of budget (None
    when every row was looked at)."""
    if len(texts) < 2:
        return [], None
    hashes, offsets = shingle_hash_rows(texts)
    flagged = flagged_rows(hashes, offsets, threshold)
    return _confirm(texts, _Tokens(hashes, offsets), flagged, threshold)


def flagged_rows(hashes: np.ndarray, offsets: np.ndarray, threshold: float) -> list[int]:
    """Rows that share at least one LSH band with another row (the first pass)."""
    matrix = rensa.RMinHash.digest_matrix_from_flat_token_hashes(
        hashes, offsets, FILTER_PERMUTATIONS, SEED
    )
    lsh = rensa.RMinHashLSH(threshold, FILTER_PERMUTATIONS, FILTER_BANDS)
    flags = lsh.query_duplicate_flags_matrix_one_shot(matrix)
    return [row for row, flag in enumerate(flags) if flag]


def shingle_hash_rows(texts: Sequence[str]) -> tuple[np.ndarray, np.ndarray]:
    """64-bit hashes of every text's character 5-grams, all texts in one flat array, and the
    row offsets (``len(texts) + 1`` of them). A text shorter than a shingle is padded."""
    padded = [text[:MAX_CHARS].ljust(SHINGLE, "\0") for text in texts]
    codes = np.frombuffer("".join(padded).encode("utf-32-le"), dtype=np.uint32)
    codes = codes.astype(np.uint64)
    windows = len(codes) - SHINGLE + 1
    with np.errstate(over="ignore"):
        hashes = codes[:windows].copy()
        for k in range(1, SHINGLE):
            hashes *= _ROLL
            hashes += codes[k : k + windows]
        hashes *= _MIX
        hashes ^= hashes >> np.uint64(29)
    sizes = np.fromiter((len(text) for text in padded), dtype=np.int64, count=len(padded))
    ends = np.cumsum(sizes)
    keep = np.ones(windows, dtype=bool)
    for k in range(1, SHINGLE):  # windows that run over the end of their text
        crossing = ends - k
        keep[crossing[crossing < windows]] = False
    offsets = np.zeros(len(texts) + 1, dtype=np.uint64)
    offsets[1:] = np.cumsum(sizes - SHINGLE + 1)
    return np.ascontiguousarray(hashes[keep]), offsets


def _confirm(
    texts: Sequence[str], tokens: _Tokens, rows: list[int], threshold: float
) -> tuple[list[Pair], int | None]:
    """The second pass over ``rows`` (in order): streaming LSH, estimate, exact Jaccard;
    stops (returning the row it stopped at) when the candidate budget is spent."""
    if not rows:
        return [], None
    budget = CANDIDATES_BASE + CANDIDATES_PER_ROW * len(rows)
    sketches = _sketches(tokens, rows)
    lsh = rensa.RMinHashLSH(threshold, CONFIRM_PERMUTATIONS, CONFIRM_BANDS)
    indexed: dict[int, rensa.RMinHash] = {}
    sets = _ShingleSets(texts, tokens)
    pairs: list[Pair] = []
    for row, sketch in zip(rows, sketches, strict=True):
        candidates = lsh.query(sketch)
        budget -= len(candidates)
        if budget < 0:
            return pairs, row
        match = _best_match(row, sketch, candidates, indexed, sets, threshold)
        if match is None:
            lsh.insert(row, sketch)
            indexed[row] = sketch
        else:
            pairs.append((row, match))
    return pairs, None


def _sketches(tokens: _Tokens, rows: list[int]) -> Iterator[rensa.RMinHash]:
    """The rows' sketches, made ``SKETCH_BATCH`` at a time as the second pass reaches them:
    all at once, their shingle tokens alone took ~2 KB a row (templated text flags every row,
    and the budget may stop the pass long before the end)."""
    for start in range(0, len(rows), SKETCH_BATCH):
        batch = [tokens.of(row) for row in rows[start : start + SKETCH_BATCH]]
        yield from rensa.RMinHash.from_token_sets(batch, CONFIRM_PERMUTATIONS, SEED)


def _best_match(
    row: int,
    sketch: rensa.RMinHash,
    candidates: list[int],
    indexed: dict[int, rensa.RMinHash],
    sets: _ShingleSets,
    threshold: float,
) -> int | None:
    """The indexed candidate most similar to ``row`` (exactly, the first one on a tie), if
    at least ``threshold``."""
    best: tuple[float, int] | None = None
    for key in candidates:
        if sketch.jaccard(indexed[key]) < threshold - ESTIMATE_MARGIN:
            continue
        if not sets.may_reach(row, key, threshold):
            continue
        similarity = jaccard(sets.exact(row), sets.exact(key))
        if similarity >= threshold and (best is None or (similarity, -key) > (best[0], -best[1])):
            best = (similarity, key)
    return None if best is None else best[1]


class _Tokens:
    """A row's shingle hashes as 8-byte strings: rensa sketches bytes tokens, and numpy makes
    them in C (its fixed-width bytes drop trailing zero bytes, which keeps them distinct)."""

    def __init__(self, hashes: np.ndarray, offsets: np.ndarray) -> None:
        self.hashes = hashes.view("S8")
        self.offsets = offsets.tolist()

    def of(self, row: int) -> list[bytes]:
        tokens: list[bytes] = self.hashes[self.offsets[row] : self.offsets[row + 1]].tolist()
        return tokens


class _ShingleSets:
    """Shingle sets of the rows, as hashes and as strings, made when first needed."""

    def __init__(self, texts: Sequence[str], tokens: _Tokens) -> None:
        self.texts = texts
        self.tokens = tokens
        self._hashed: dict[int, set[bytes]] = {}
        self._exact: dict[int, set[str]] = {}

    def may_reach(self, a: int, b: int, threshold: float) -> bool:
        """Whether the rows' hashed shingle sets are close enough to compare them exactly."""
        first, second = self._hashes(a), self._hashes(b)
        union = len(first | second)
        margin = HASHED_MARGIN + 2 / max(union, 1)
        return len(first & second) >= (threshold - margin) * union

    def exact(self, row: int) -> set[str]:
        if row not in self._exact:
            self._exact[row] = shingles(self.texts[row])
        return self._exact[row]

    def _hashes(self, row: int) -> set[bytes]:
        if row not in self._hashed:
            self._hashed[row] = set(self.tokens.of(row))
        return self._hashed[row]
