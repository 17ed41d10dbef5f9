"""Exact token counts of many texts with a fast (``tokenizers``) tokenizer, without encoding
every text: each count equals ``len(backend.encode(text, add_special_tokens=False))``.

What makes it exact is the order in which ``tokenizers`` works. It first cuts a text at its
added tokens (``<|im_start|>`` and the like: one token each); the pieces between them are
normalised, pre-tokenised and modelled each on its own. So a text's count is its number of
added tokens plus the counts of its pieces, and a piece is counted once however often it
comes back (template text, system prompts, labels). A piece is encoded whole by the tokenizer
(in a thread: the Rust call releases the GIL), except where the pre-tokenizer is the usual
byte-level regex split (GPT-2, Llama 3, Qwen, ...) and the piece is printable ASCII: there
Python's ``re`` splits it with the tokenizer's own pattern (``word_pattern``: on ASCII,
``\\p{L}`` is exactly ``[A-Za-z]`` and ``\\p{N}`` ``[0-9]``; Unicode normal forms leave ASCII
as it is), and the piece's count is the sum of its words' counts, each distinct word counted
once by the model itself on its byte-level form. A probe text is counted both ways when a
counter is made; if they disagree, the word path is not used. Tokenizers this does not cover
(truncation, padding, added tokens that take spaces along, BPE with dropout) have every text
encoded whole.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from itertools import chain
from typing import Any

from trainer.datasets.quality.word_pattern import ascii_word_pattern

WORD_CHUNK = 4096
"""Pieces whose words are listed at once (the lists of a whole file would take GBs)."""
_NOT_PLAIN = re.compile("[^\t\n\r\x20-\x7e]")
_IDENTITY_ON_ASCII = frozenset({"NFC", "NFD", "NFKC", "NFKD"})
PROBE = (
    "It's 2024:\tthe  quick\n\nbrown fox'LL jump 12345678 times!!\0  over...\r\n"
    "\0the lazy dog's  kennel\n \n\t(again)? I'M sure; we'd've said \"no\" #42\n\n"
)
"""Pieces counted both ways when a counter is made: a word path that disagrees is not used."""

Parts = tuple[int, list[str]]  # a text's number of added tokens, and the pieces between them


def encoded_lengths(backend: Any, texts: Sequence[str]) -> list[int]:
    """The tokenizer's own counts, every text encoded (the reference)."""
    encodings = backend.encode_batch(list(texts), add_special_tokens=False)
    return [len(encoding) for encoding in encodings]


class TokenCounter:
    """Counts tokens of texts for one ``tokenizers.Tokenizer``; remembers pieces and words."""

    def __init__(self, backend: Any) -> None:
        self._backend = backend
        self._pieces: dict[str, int] = {"": 0}
        self._words: dict[str, int] = {}
        self._normalizes = backend.normalizer is not None
        added = _added_tokens(backend)
        self._first = _alternation(added, normalized=False) if added is not None else None
        self._second = _alternation(added, normalized=True) if added is not None else None
        self.whole = added is None or backend.truncation or backend.padding or _drops(backend)
        pattern = ascii_word_pattern(_component(backend.pre_tokenizer))
        self._word_pattern = pattern if _identity_on_ascii(backend.normalizer) else None
        self._byte_level = _byte_level_table()
        if self._word_pattern is not None and not self._agrees():
            self._word_pattern = None

    @property
    def by_words(self) -> bool:
        """Whether printable ASCII pieces are counted word by word (else encoded whole)."""
        return not self.whole and self._word_pattern is not None

    def counts(self, texts: Sequence[str]) -> list[int]:
        """Each text's token count, as the tokenizer's ``encode`` gives it."""
        if self.whole:
            return encoded_lengths(self._backend, texts)
        parts = [self._parts(text) for text in texts]
        known = self._pieces
        pieces = dict.fromkeys(chain.from_iterable(pieces for _, pieces in parts))
        self._count_pieces([piece for piece in pieces if piece not in known])
        count = known.__getitem__
        return [added + sum(map(count, pieces)) for added, pieces in parts]

    def _parts(self, text: str) -> Parts:
        pieces = self._first.split(text) if self._first is not None else [text]
        added = len(pieces) - 1
        if self._second is None:
            return added, pieces
        split: list[str] = []
        for piece in pieces:  # tokens marked ``normalized`` are found after normalisation
            if self._normalizes and not _plain(piece):
                split.append(piece)  # the tokenizer finds them in it, counting it whole
                continue
            found = self._second.split(piece)
            added += len(found) - 1
            split += found
        return added, split

    def _count_pieces(self, pieces: list[str]) -> None:
        if self._word_pattern is None:
            by_words, whole = [], pieces
        else:
            by_words = [piece for piece in pieces if _plain(piece)]
            whole = [piece for piece in pieces if not _plain(piece)]
        rest: list[str] = []
        with ThreadPoolExecutor(max_workers=1) as pool:  # the Rust encoder beside the words
            encoded = pool.submit(encoded_lengths, self._backend, whole)
            for start in range(0, len(by_words), WORD_CHUNK):
                rest += self._count_by_words(by_words[start : start + WORD_CHUNK])
            self._pieces.update(zip(whole, encoded.result(), strict=True))
        if rest:
            self._pieces.update(zip(rest, encoded_lengths(self._backend, rest), strict=True))

    def _count_by_words(self, pieces: list[str]) -> list[str]:
        """Counts ``pieces`` by their words; answers those left to encode whole."""
        pattern = self._word_pattern
        if pattern is None:
            return pieces
        words = [pattern.findall(piece) for piece in pieces]
        self._count_words(set(chain.from_iterable(words)).difference(self._words))
        count = self._words.__getitem__
        rest: list[str] = []
        for piece, found in zip(pieces, words, strict=True):
            if sum(map(len, found)) == len(piece):
                self._pieces[piece] = sum(map(count, found))
            else:  # characters no alternative matches: the tokenizer keeps them apart too
                rest.append(piece)
        return rest

    def _count_words(self, words: Iterable[str]) -> None:
        """Each word's tokens: the model's own split of its byte-level form (what the
        pre-tokenizer hands the model for that word), without the per-text cost of encode."""
        tokenize = self._backend.model.tokenize
        table = self._byte_level
        self._words.update((word, len(tokenize(word.translate(table)))) for word in words)

    def _agrees(self) -> bool:
        """Whether word counts match the tokenizer's on a probe text (they should, always)."""
        pieces = [piece for piece in PROBE.split("\0") if piece]
        counted = self._count_by_words(pieces)
        expected = encoded_lengths(self._backend, pieces)
        agrees = not counted and [self._pieces[piece] for piece in pieces] == expected
        self._pieces = {"": 0}
        return agrees


def _byte_level_table() -> dict[int, str]:
    """Printable ASCII as the byte-level pre-tokenizer maps it (space to ``Ġ`` and so on)."""
    from tokenizers.pre_tokenizers import ByteLevel

    plain = "\t\n\r" + "".join(map(chr, range(0x20, 0x7F)))
    [(mapped, _)] = ByteLevel(add_prefix_space=False, use_regex=False).pre_tokenize_str(plain)
    return {ord(char): byte for char, byte in zip(plain, mapped, strict=True)}


def _plain(piece: str) -> bool:
    return piece.isascii() and _NOT_PLAIN.search(piece) is None


def _component(component: Any) -> dict[str, Any] | None:
    """A normalizer's or pre-tokenizer's settings, as the tokenizer's JSON has them."""
    if component is None:
        return None
    settings = json.loads(component.__getstate__())
    return settings if isinstance(settings, dict) else None


def _identity_on_ascii(normalizer: Any) -> bool:
    """Whether the normalizer leaves printable ASCII as it is (none, or Unicode normal forms)."""
    settings = _component(normalizer)
    if settings is None:
        return normalizer is None
    parts = settings.get("normalizers", []) if settings.get("type") == "Sequence" else [settings]
    return all(isinstance(p, dict) and p.get("type") in _IDENTITY_ON_ASCII for p in parts)


def _added_tokens(backend: Any) -> list[Any] | None:
    """The added tokens, or None when one takes spaces or word bounds along (not cut plainly)."""
    if getattr(backend, "encode_special_tokens", False):
        return None  # special tokens are then encoded as text
    tokens = [token for token in backend.get_added_tokens_decoder().values() if token.content]
    if any(token.lstrip or token.rstrip or token.single_word for token in tokens):
        return None
    return tokens


def _alternation(tokens: list[Any], normalized: bool) -> re.Pattern[str] | None:
    """The tokens as one pattern, longest first (the tokenizer takes the leftmost-longest)."""
    contents = sorted({t.content for t in tokens if t.normalized == normalized}, key=len)
    if not contents:
        return None
    return re.compile("|".join(re.escape(content) for content in reversed(contents)))


def _drops(backend: Any) -> bool:
    """Whether the model is BPE with dropout (counts would vary from call to call)."""
    return bool(getattr(backend.model, "dropout", None))
