"""Near-duplicate search: MinHash/LSH (``datasketch``) over character 5-gram shingles,
candidates confirmed by their exact Jaccard similarity.

Character shingles need no word segmentation, so the same rule works for Chinese. LSH only
proposes candidates; a pair counts when the Jaccard similarity of the two shingle sets is at
least ``threshold`` (0.8 by default), computed exactly.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from datasketch import MinHash, MinHashLSH

SHINGLE = 5
NEAR_THRESHOLD = 0.8
NUM_PERM = 64
ESTIMATE_MARGIN = 0.2
"""LSH candidates whose MinHash estimate is this far below the threshold are not confirmed
(with 64 permutations the estimate's standard error is at most 0.0625)."""
MAX_CHARS = 4000
"""Only the first characters of a long text are shingled: enough to tell copies apart."""


def shingles(text: str, size: int = SHINGLE) -> set[str]:
    """The text's character ``size``-grams (the whole text when it is shorter)."""
    text = text[:MAX_CHARS]
    if len(text) <= size:
        return {text}
    return {text[i : i + size] for i in range(len(text) - size + 1)}


def jaccard(a: set[str], b: set[str]) -> float:
    if not a and not b:
        return 1.0
    return len(a & b) / len(a | b)


_MULTIPLIERS = np.array([pow(0x9E3779B1, k, 2**64) for k in range(SHINGLE)], dtype=np.uint64)
_MIX = np.uint64(0xFF51AFD7ED558CCD)


def shingle_hashes(text: str) -> list[int]:
    """32-bit hashes of the text's character 5-grams (repeats kept: a minimum ignores them)."""
    return shingle_hashes_of([text])[0]


def shingle_hashes_of(texts: Sequence[str]) -> list[list[int]]:
    """``shingle_hashes`` of many texts in one numpy pass over all of them (per-text numpy
    calls, and per-shingle Python calls of a ``hashfunc``, were most of the cost)."""
    texts = [text[:MAX_CHARS].ljust(SHINGLE, "\0") for text in texts]
    codes = np.frombuffer("".join(texts).encode("utf-32-le"), dtype=np.uint32)
    windows = np.lib.stride_tricks.sliding_window_view(codes.astype(np.uint64), SHINGLE)
    with np.errstate(over="ignore"):
        mixed = (windows * _MULTIPLIERS).sum(axis=1, dtype=np.uint64) * _MIX
    hashes = (mixed >> np.uint64(32)).tolist()
    result: list[list[int]] = []
    start = 0
    for text in texts:
        result.append(hashes[start : start + len(text) - SHINGLE + 1])
        start += len(text)
    return result


class NearDuplicateIndex:
    """Texts added one by one; ``add`` answers which earlier text the new one nearly copies."""

    def __init__(self, threshold: float = NEAR_THRESHOLD, num_perm: int = NUM_PERM) -> None:
        self.threshold = threshold
        self.num_perm = num_perm
        self._lsh = MinHashLSH(threshold=threshold, num_perm=num_perm)
        self._texts: dict[int, str] = {}
        self._signatures: dict[int, np.ndarray] = {}
        self._empty = MinHash(num_perm=num_perm, hashfunc=int)

    def __len__(self) -> int:
        return len(self._texts)

    def find(self, text: str) -> int | None:
        """The key of an indexed text at least ``threshold`` similar to ``text``, if any."""
        return self._find(text, self._minhash(text, None))

    def add(self, key: int, text: str, hashes: list[int] | None = None) -> int | None:
        """Index ``text`` under ``key`` unless it nearly copies an indexed one; answers that
        one's key (and does not index the copy) or None (indexed). ``hashes``: its
        ``shingle_hashes`` when they were computed in bulk."""
        minhash = self._minhash(text, hashes)
        match = self._find(text, minhash)
        if match is None:
            self._lsh.insert(key, minhash, check_duplication=False)
            self._texts[key] = text
            self._signatures[key] = minhash.hashvalues
        return match

    def _find(self, text: str, minhash: MinHash) -> int | None:
        candidates = self._lsh.query(minhash)
        if not candidates:
            return None
        keys = sorted(candidates)
        signatures = np.stack([self._signatures[key] for key in keys])
        estimates = (signatures == minhash.hashvalues).mean(axis=1)
        own = shingles(text)
        for index in np.argsort(-estimates, kind="stable"):
            if estimates[index] < self.threshold - ESTIMATE_MARGIN:
                break  # the rest are further still: not worth an exact look
            key: int = keys[int(index)]
            if jaccard(own, shingles(self._texts[key])) >= self.threshold:
                return key
        return None

    def _minhash(self, text: str, hashes: list[int] | None) -> MinHash:
        minhash = self._empty.copy()
        minhash.update_batch(shingle_hashes(text) if hashes is None else hashes)
        return minhash
