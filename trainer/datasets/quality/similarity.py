"""Near-duplicate search one text at a time (``loragate data synth``): MinHash/LSH (``rensa``,
the library the report's bulk search uses too) over character 5-gram shingles, candidates
confirmed by their exact Jaccard similarity.

Character shingles need no word segmentation, so the same rule works for Chinese. LSH only
proposes candidates; a pair counts when the Jaccard similarity of the two shingle sets is at
least ``threshold`` (0.8 by default), computed exactly.
"""

from __future__ import annotations

import rensa

SHINGLE = 5
NEAR_THRESHOLD = 0.8
NUM_PERM = 192
NUM_BANDS = 32
"""32 bands of 6 rows miss a pair at Jaccard 0.8 with probability 6e-5 (the report's second
pass uses the same)."""
ESTIMATE_MARGIN = 0.2
"""LSH candidates whose MinHash estimate is this far below the threshold are not confirmed
(with 192 permutations the estimate's standard error is at most 0.036)."""
MAX_CHARS = 4000
"""Only the first characters of a long text are shingled: enough to tell copies apart."""
SEED = 0x73796E74  # any fixed value: these sketches only meet each other


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


class NearDuplicateIndex:
    """Texts added one by one; ``add`` answers which earlier text the new one nearly copies."""

    def __init__(self, threshold: float = NEAR_THRESHOLD, num_perm: int = NUM_PERM) -> None:
        self.threshold = threshold
        self.num_perm = num_perm
        self._lsh = rensa.RMinHashLSH(threshold, num_perm, NUM_BANDS)
        self._shingles: dict[int, set[str]] = {}
        self._sketches: dict[int, rensa.RMinHash] = {}

    def __len__(self) -> int:
        return len(self._shingles)

    def find(self, text: str) -> int | None:
        """The key of an indexed text at least ``threshold`` similar to ``text``, if any."""
        own = shingles(text)
        return self._find(own, self._sketch(own))

    def add(self, key: int, text: str) -> int | None:
        """Index ``text`` under ``key`` unless it nearly copies an indexed one; answers that
        one's key (and does not index the copy) or None (indexed)."""
        own = shingles(text)
        sketch = self._sketch(own)
        match = self._find(own, sketch)
        if match is None:
            self._lsh.insert(key, sketch)
            self._shingles[key] = own
            self._sketches[key] = sketch
        return match

    def _find(self, own: set[str], sketch: rensa.RMinHash) -> int | None:
        """The most similar candidate (the first key on a tie) at or over the threshold."""
        best: tuple[float, int] | None = None
        for key in sorted(self._lsh.query(sketch)):
            if sketch.jaccard(self._sketches[key]) < self.threshold - ESTIMATE_MARGIN:
                continue
            similarity = jaccard(own, self._shingles[key])
            if similarity >= self.threshold and (best is None or similarity > best[0]):
                best = (similarity, key)
        return None if best is None else best[1]

    def _sketch(self, own: set[str]) -> rensa.RMinHash:
        sketch = rensa.RMinHash(self.num_perm, SEED)
        sketch.update(list(own))
        return sketch
