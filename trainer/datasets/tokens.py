"""Token counts of examples, rendered with the model's own chat template."""

from __future__ import annotations

from typing import Any, Protocol

from trainer.datasets.example import ChatExample


class ChatTokenizer(Protocol):
    """What is needed of a tokenizer: a Hugging Face style ``apply_chat_template``."""

    def apply_chat_template(self, conversation: list[dict[str, str]], **kwargs: Any) -> Any: ...


def count_tokens(example: ChatExample, tokenizer: ChatTokenizer) -> int:
    """Tokens of the example as training sees it: the full chat template, every turn."""
    rendered = tokenizer.apply_chat_template(example.as_dicts(), tokenize=True, return_dict=False)
    if hasattr(rendered, "keys"):  # some versions answer a BatchEncoding whatever is asked
        rendered = rendered["input_ids"]
    return len(rendered)
