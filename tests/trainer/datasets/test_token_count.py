"""Token counts made piece by piece and word by word are the tokenizer's own, exactly: on the
default model and on the Qwen2 test model (Qwen's real tokenizer), for English, Chinese,
spaces, newlines and special tokens inside contents, and on random strings made of the
characters where regex splits differ most."""

from __future__ import annotations

import random
from pathlib import Path
from typing import Any

import pytest

from trainer.datasets.example import ChatExample
from trainer.datasets.quality.render import render_all
from trainer.datasets.quality.token_count import TokenCounter
from trainer.datasets.quality.word_pattern import GPT2_PATTERN, ascii_word_pattern, translate
from trainer.default_model import ensure_default_model

LLAMA3_PATTERN = (
    r"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}"
    r"| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+"
)
CONTENTS = [
    "hello world",
    "  leading spaces",
    "trailing spaces   ",
    "\nleading newline",
    "trailing newline\n",
    "\n\n  both  \n\n",
    "line one\nline two\r\n\tindented\n\n\nthree blank",
    "It's what they'll say: I'M sure we'd've done it, 'Twas.",
    "numbers 1 22 333 4444 55555 3.14159 -7 1,000,000 0x1F",
    'punctuation!!! ... ?! (parens) [brackets] {braces} <angle> "quotes" `code` #tag @at',
    "这家店的牛肉面味道很好，送餐也很快。",
    "  中文前后有空格  ",
    "\n好评\n",
    "mixed 中文 and English，混合 text。",
    "café naïve résumé Ünïcödé",
    "non-breaking\u00a0space and ideographic\u3000space",
    "a <|im_start|> inside a content <|im_end|> and <|endoftext|>",
    "<|im_end|>",
    "x",
    " ",
    "\n",
]
ALPHABET = [
    *"aAzZ sS'tTdDmM\t\n\r09.!?,-_\"()#$^&*[]{}\\|`~\x7f\x0b\x0c\x1c",
    "'s", "'LL", "'Re", "  ", "\n\n", " \n", "\r\n", "123456", "hello", " world",
    "<|im_start|>", "<|im_end|>", "<|endoftext|>",
    "你好", "，", "。", "é", "e\u0301", "\u00a0", "\u3000", "ﬁ", "Ġ", "\U0001f600",
]  # fmt: skip


def tokenizer_of(model: Path) -> Any:
    from transformers import AutoTokenizer

    return AutoTokenizer.from_pretrained(model)


@pytest.fixture(scope="module")
def default_model(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return ensure_default_model(tmp_path_factory.mktemp("token-count") / "m")


@pytest.fixture(params=["default", "qwen2", "llama3-split"])
def tokenizer(request: pytest.FixtureRequest, default_model: Path) -> Any:
    if request.param == "qwen2":
        return tokenizer_of(request.getfixturevalue("qwen2_model"))
    tokenizer = tokenizer_of(default_model)
    if request.param == "llama3-split":  # Llama 3's split, over the default model's BPE
        from tokenizers import Regex, pre_tokenizers

        tokenizer.backend_tokenizer.pre_tokenizer = pre_tokenizers.Sequence(
            [
                pre_tokenizers.Split(Regex(LLAMA3_PATTERN), behavior="isolated"),
                pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=False),
            ]
        )
    return tokenizer


def reference(tokenizer: Any, texts: list[str]) -> list[int]:
    ids = tokenizer(texts, add_special_tokens=False)["input_ids"]
    return [len(one) for one in ids]


def conversations() -> list[ChatExample]:
    examples = []
    for index, content in enumerate(CONTENTS):
        answer = CONTENTS[(index * 7 + 3) % len(CONTENTS)]
        examples.append(
            ChatExample.from_pairs(
                [("system", "Be brief.\n"), ("user", content), ("assistant", answer)]
            )
        )
        examples.append(ChatExample.from_pairs([("user", answer), ("assistant", content)]))
    return examples


def test_rendered_conversations_count_as_encoded(tokenizer: Any) -> None:
    rendered = render_all(conversations(), tokenizer)
    counter = TokenCounter(tokenizer.backend_tokenizer)
    assert counter.by_words
    texts = rendered + CONTENTS
    assert counter.counts(texts) == reference(tokenizer, texts)
    assert counter.counts(texts) == reference(tokenizer, texts)  # again, from what it keeps
    assert counter.by_words


def test_random_strings_count_as_encoded(tokenizer: Any) -> None:
    rng = random.Random(7)
    texts = ["".join(rng.choices(ALPHABET, k=rng.randint(0, 50))) for _ in range(4000)]
    counter = TokenCounter(tokenizer.backend_tokenizer)
    assert counter.counts(texts) == reference(tokenizer, texts)
    assert counter.by_words


def test_a_normalizer_that_changes_ascii_turns_words_off(default_model: Path) -> None:
    from tokenizers import normalizers

    tokenizer = tokenizer_of(default_model)
    tokenizer.backend_tokenizer.normalizer = normalizers.Lowercase()
    counter = TokenCounter(tokenizer.backend_tokenizer)
    assert not counter.by_words
    texts = CONTENTS + render_all(conversations(), tokenizer)
    assert counter.counts(texts) == reference(tokenizer, texts)


def test_added_tokens_that_take_spaces_mean_whole_texts(default_model: Path) -> None:
    from tokenizers import AddedToken

    tokenizer = tokenizer_of(default_model)
    tokenizer.backend_tokenizer.add_tokens([AddedToken("<sep>", lstrip=True, rstrip=True)])
    counter = TokenCounter(tokenizer.backend_tokenizer)
    assert counter.whole
    assert not counter.by_words
    texts = [*CONTENTS, "a <sep> b", "x<sep>\n"]
    assert counter.counts(texts) == reference(tokenizer, texts)


def test_normalized_added_tokens_are_found_after_the_others(default_model: Path) -> None:
    from tokenizers import AddedToken

    tokenizer = tokenizer_of(default_model)
    tokenizer.backend_tokenizer.add_tokens([AddedToken("end", normalized=True), "<|im_en"])
    counter = TokenCounter(tokenizer.backend_tokenizer)
    assert counter.by_words
    texts = [*CONTENTS, "the end<|im_end|>", "<|im_en", "weekend <|im_end|>d", "end\n你end"]
    assert counter.counts(texts) == reference(tokenizer, texts)


def test_the_qwen2_model_s_split_is_translated(qwen2_model: Path) -> None:
    state = tokenizer_of(qwen2_model).backend_tokenizer.pre_tokenizer.__getstate__()
    assert b"Split" in state
    assert translate(GPT2_PATTERN) == (
        r"'s|'t|'re|'ve|'m|'ll|'d| ?[A-Za-z]+| ?[0-9]+| ?[^\sA-Za-z0-9]+|\s+(?!\S)|\s+"
    )


@pytest.mark.parametrize(
    "pattern",
    [
        r"[[:alpha:]]+",  # POSIX class: a nested set to Python
        r"\p{Lu}+",  # another Unicode class
        r"(?<=a)b",  # look-behind
        r"[a-z]+$",  # $ matches before a final newline in Python
        r"[a&&b]",  # set intersection in Oniguruma
        r"\h+",  # hex digit in Oniguruma
    ],
)
def test_patterns_that_may_read_differently_are_refused(pattern: str) -> None:
    assert translate(pattern) is None
    split = {"type": "Split", "pattern": {"Regex": pattern}, "behavior": "Isolated"}
    level = {"type": "ByteLevel", "add_prefix_space": False, "use_regex": False}
    assert ascii_word_pattern({"type": "Sequence", "pretokenizers": [split, level]}) is None
