"""Chat-template rendering of many examples for counting: the template runs once per shape of
conversation (its sequence of roles), and each example's text is that rendering with the
example's contents put in place of placeholders.

That is exact for templates that only place the contents (ChatML and the like). It is used
only when the template's source does nothing with a ``content`` but output it (alone or joined
with ``+`` / ``~``): a template that trims, tests or splits one (Llama 3's system message,
Qwen 3's thinking) is rendered example by example as before. Each shape is also checked:
placeholders padded with spaces and newlines must come back as they went in, and the first
examples of the shape must render to the text the template itself gives. A shape that fails,
and an example that contains the placeholder characters, are rendered one by one.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from jinja2 import Environment, nodes
from jinja2.ext import Extension
from jinja2.parser import Parser

from trainer.datasets.example import ChatExample

CHECKED = 4
"""Examples of each shape that are rendered by the template too, and compared."""
_OPEN, _CLOSE = "\ue000", "\ue001"  # private-use characters: the placeholders' brackets

Glue = list[str]  # the template's text before, between and after the contents


def render_all(examples: Sequence[ChatExample], tokenizer: Any) -> list[str]:
    """Each example as its chat template renders it (no generation prompt)."""
    texts: list[str | None] = [None] * len(examples)
    if not only_places_content(getattr(tokenizer, "chat_template", None)):
        return _rest(examples, texts, {}, tokenizer)
    glues: dict[tuple[str, ...], Glue | None] = {}
    checks: dict[tuple[str, ...], int] = {}
    for index, example in enumerate(examples):
        shape = tuple(message.role for message in example.messages)
        if shape not in glues:
            glues[shape] = _glue(shape, tokenizer)
        glue = glues[shape]
        contents = [message.content for message in example.messages]
        if glue is None or any(_OPEN in text or _CLOSE in text for text in contents):
            continue
        text = _filled(glue, contents)
        if checks.get(shape, 0) < CHECKED:
            checks[shape] = checks.get(shape, 0) + 1
            if text != _render(tokenizer, example.as_dicts()):
                glues[shape] = None
                continue
        texts[index] = text
    return _rest(examples, texts, glues, tokenizer)


def _rest(
    examples: Sequence[ChatExample],
    texts: list[str | None],
    glues: dict[tuple[str, ...], Glue | None],
    tokenizer: Any,
) -> list[str]:
    """The examples not filled in (or of a shape that failed a check later), rendered."""
    missing = [
        index
        for index, example in enumerate(examples)
        if texts[index] is None or glues.get(tuple(m.role for m in example.messages)) is None
    ]
    if missing:
        rendered = tokenizer.apply_chat_template(
            [examples[index].as_dicts() for index in missing], tokenize=False
        )
        for index, text in zip(missing, rendered, strict=True):
            texts[index] = text
    return [text or "" for text in texts]


def _glue(shape: tuple[str, ...], tokenizer: Any) -> Glue | None:
    """The template's text around the contents of a conversation of this shape, or None when
    placing the contents is not all the template does with them."""
    plain = [_OPEN + str(i) + _CLOSE for i in range(len(shape))]
    padded = [f" \n{marker}\n " for marker in plain]
    try:
        glue = _split(_render(tokenizer, _conversation(shape, plain)), plain)
        again = _render(tokenizer, _conversation(shape, padded))
    except Exception:  # a template may refuse a shape: its examples are rendered one by one
        return None
    if glue is None or again != _filled(glue, padded):
        return None
    return glue


def _split(text: str, markers: list[str]) -> Glue | None:
    glue: Glue = []
    for marker in markers:
        before, found, text = text.partition(marker)
        if not found or _OPEN in before:
            return None
        glue.append(before)
    return None if _OPEN in text else [*glue, text]


def _filled(glue: Glue, contents: Sequence[str]) -> str:
    parts = [glue[0]]
    for content, after in zip(contents, glue[1:], strict=True):
        parts += (content, after)
    return "".join(parts)


def _conversation(shape: tuple[str, ...], contents: list[str]) -> list[dict[str, str]]:
    return [{"role": role, "content": text} for role, text in zip(shape, contents, strict=True)]


def _render(tokenizer: Any, conversation: list[dict[str, str]]) -> str:
    text = tokenizer.apply_chat_template(conversation, tokenize=False)
    return str(text)


def only_places_content(template: object) -> bool:
    """Whether the template's only use of a ``content`` is to output it."""
    if not isinstance(template, str):
        return False  # none, or several named templates: leave the choice to transformers
    try:
        extensions: list[str | type[Extension]] = ["jinja2.ext.loopcontrols", _Generation]
        tree = Environment(extensions=extensions).parse(template)
    except Exception:  # a template jinja cannot parse plainly: render it the usual way
        return False
    return _placed_only(tree, placed=False)


def _placed_only(node: nodes.Node, placed: bool) -> bool:
    """False where a ``content`` lookup sits anywhere but in output, or a ``+``/``~`` chain
    that is output."""
    if _is_content(node):
        return placed
    for child in node.iter_child_nodes():
        inside = isinstance(node, nodes.Output) or (
            placed and isinstance(node, nodes.Add | nodes.Concat)
        )
        if not _placed_only(child, inside):
            return False
    return True


def _is_content(node: nodes.Node) -> bool:
    if isinstance(node, nodes.Getattr):
        return bool(node.attr == "content")
    if isinstance(node, nodes.Getitem):
        return isinstance(node.arg, nodes.Const) and node.arg.value == "content"
    return isinstance(node, nodes.Name) and node.name == "content"


class _Generation(Extension):
    """Parses transformers' ``{% generation %}`` blocks (which mark the assistant's tokens)."""

    tags = {"generation"}  # noqa: RUF012 - jinja declares it a plain set

    def parse(self, parser: Parser) -> nodes.Node:
        lineno = next(parser.stream).lineno
        body = parser.parse_statements(("name:endgeneration",), drop_needle=True)
        return nodes.Scope(body, lineno=lineno)
