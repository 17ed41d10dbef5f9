"""Rendering by placeholders gives the chat template's own text, or falls back to it."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from trainer.datasets.example import ChatExample
from trainer.datasets.quality.render import only_places_content, render_all
from trainer.default_model import ensure_default_model

CHATML = (
    "{% for message in messages %}{{ '<|im_start|>' + message['role'] + '\\n' + "
    "message['content'] + '<|im_end|>' + '\\n' }}{% endfor %}"
)
TRIMMING = (
    "{% for m in messages %}<|im_start|>{{ m['role'] }}\n{{ m['content'] | trim }}<|im_end|>\n"
    "{% endfor %}"
)
INSPECTING = (
    "{% for m in messages %}{% if m['content'].startswith('#') %}[heading]{% endif %}"
    "<|im_start|>{{ m['role'] }}\n{{ m['content'] }}<|im_end|>\n{% endfor %}"
)


@pytest.fixture(scope="module")
def model(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return ensure_default_model(tmp_path_factory.mktemp("render") / "m")


def tokenizer_with(model: Path, template: str | None) -> Any:
    from transformers import AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(model)
    if template is not None:
        tokenizer.chat_template = template
    return tokenizer


def examples() -> list[ChatExample]:
    shapes = [
        [("user", "hello?"), ("assistant", "hi.")],
        [("system", "be brief"), ("user", " spaced \n"), ("assistant", "ok")],
        [("user", "a"), ("assistant", "b"), ("user", "c"), ("assistant", "d")],
        [("user", "has \ue000 a placeholder character"), ("assistant", "fine")],
        [("user", "你好"), ("assistant", "  # padded answer\n")],
    ]
    return [ChatExample.from_pairs(pairs) for pairs in shapes * 3]  # type: ignore[arg-type]


@pytest.mark.parametrize("template", [None, TRIMMING, INSPECTING])
def test_same_text_as_the_template(model: Path, template: str | None) -> None:
    tokenizer = tokenizer_with(model, template)
    batch = examples()
    batch.append(ChatExample.from_pairs([("user", "# late heading"), ("assistant", "ok")]))
    expected = tokenizer.apply_chat_template([e.as_dicts() for e in batch], tokenize=False)
    assert render_all(batch, tokenizer) == expected


def test_which_templates_only_place_content() -> None:
    assert only_places_content(CHATML)
    assert only_places_content("{% for m in messages %}{{ m.content ~ '\\n' }}{% endfor %}")
    assert not only_places_content(TRIMMING)
    assert not only_places_content(INSPECTING)
    assert not only_places_content("{% set c = messages[0]['content'] %}{{ c }}")
    assert not only_places_content(None)


def test_the_default_model_s_template_is_placed(model: Path) -> None:
    assert only_places_content(tokenizer_with(model, None).chat_template)
