"""Conversations -> token ids and labels, rendered with the base model's own chat template.

Labels are -100 (no loss) everywhere except assistant turns: the assistant's content and its
end-of-turn token. Two ways to find the assistant tokens give the same mask:

- ``{% generation %}`` markers in the template (transformers' ``assistant_masks``);
- for templates without them, render each prefix of the conversation and diff the token ids.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from transformers import PreTrainedTokenizerBase

IGNORE_INDEX = -100
Message = dict[str, str]
Conversation = list[Message]

_GENERATION_MARKER = re.compile(r"\{%-?\s*generation\s*-?%\}")


@dataclass(frozen=True)
class TokenizedExample:
    """One conversation as model input: ``labels[i]`` is ``input_ids[i]`` or -100."""

    input_ids: list[int]
    labels: list[int]

    @property
    def length(self) -> int:
        return len(self.input_ids)

    @property
    def trainable_tokens(self) -> int:
        return sum(1 for label in self.labels if label != IGNORE_INDEX)


@dataclass(frozen=True)
class TokenizedDataset:
    examples: list[TokenizedExample]
    dropped_without_trainable_tokens: int
    """Conversations left with no assistant token after truncation (not trained on)."""
    truncated: int
    """Conversations longer than ``max_seq_len`` (cut, maybe dropped)."""


def validate_conversation(conversation: Conversation) -> None:
    """Raise ValueError unless this is a non-empty list of messages ending with the assistant."""
    if not conversation:
        raise ValueError("empty conversation")
    for message in conversation:
        if not isinstance(message.get("role"), str) or not isinstance(message.get("content"), str):
            raise ValueError(f"message needs string 'role' and 'content': {message!r}")
    if conversation[-1]["role"] != "assistant":
        raise ValueError("a training conversation must end with an assistant turn")


def has_generation_markers(tokenizer: PreTrainedTokenizerBase) -> bool:
    template = tokenizer.chat_template
    return isinstance(template, str) and bool(_GENERATION_MARKER.search(template))


def _render_ids(tokenizer: PreTrainedTokenizerBase, messages: Conversation, **kw: Any) -> list[int]:
    ids = tokenizer.apply_chat_template(messages, tokenize=True, return_dict=False, **kw)
    return [int(i) for i in ids]


def mask_from_generation_markers(
    tokenizer: PreTrainedTokenizerBase, conversation: Conversation
) -> tuple[list[int], list[int]]:
    """Token ids and a 0/1 assistant mask, from the template's ``{% generation %}`` markers."""
    rendered = tokenizer.apply_chat_template(
        conversation, tokenize=True, return_dict=True, return_assistant_tokens_mask=True
    )
    ids = [int(i) for i in rendered["input_ids"]]
    mask = [int(m) for m in rendered["assistant_masks"]]
    return ids, mask


def mask_from_prefixes(
    tokenizer: PreTrainedTokenizerBase, conversation: Conversation
) -> tuple[list[int], list[int]]:
    """Token ids and assistant mask found by diffing renders of growing prefixes.

    For assistant turn ``i``: the tokens of ``messages[:i+1]`` beyond those of ``messages[:i]``
    with the generation prompt are the turn's content and end; the span stops at the first EOS
    token in it (inclusive), so separators the template puts after the end of turn get no loss.
    """
    ids = _render_ids(tokenizer, conversation)
    mask = [0] * len(ids)
    eos_id = tokenizer.eos_token_id
    for i, message in enumerate(conversation):
        if message["role"] != "assistant":
            continue
        prompt = _render_ids(tokenizer, conversation[:i], add_generation_prompt=True)
        turn = _render_ids(tokenizer, conversation[: i + 1])
        if ids[: len(turn)] != turn or turn[: len(prompt)] != prompt:
            raise ValueError("chat template does not render prefixes consistently")
        end = len(turn)
        if eos_id is not None and eos_id in turn[len(prompt) :]:
            end = turn.index(eos_id, len(prompt)) + 1
        mask[len(prompt) : end] = [1] * (end - len(prompt))
    return ids, mask


def assistant_mask(
    tokenizer: PreTrainedTokenizerBase, conversation: Conversation
) -> tuple[list[int], list[int]]:
    """Token ids and assistant mask, by template markers when present, else by prefixes."""
    if has_generation_markers(tokenizer):
        return mask_from_generation_markers(tokenizer, conversation)
    return mask_from_prefixes(tokenizer, conversation)


def _tokenize_untruncated(
    tokenizer: PreTrainedTokenizerBase, conversation: Conversation
) -> TokenizedExample:
    validate_conversation(conversation)
    ids, mask = assistant_mask(tokenizer, conversation)
    labels = [tok if keep else IGNORE_INDEX for tok, keep in zip(ids, mask, strict=True)]
    return TokenizedExample(input_ids=ids, labels=labels)


def _truncate(example: TokenizedExample, max_seq_len: int) -> TokenizedExample:
    return TokenizedExample(example.input_ids[:max_seq_len], example.labels[:max_seq_len])


def tokenize_conversation(
    tokenizer: PreTrainedTokenizerBase, conversation: Conversation, max_seq_len: int
) -> TokenizedExample:
    """Render, mask and truncate one conversation (keeps its first ``max_seq_len`` tokens)."""
    return _truncate(_tokenize_untruncated(tokenizer, conversation), max_seq_len)


def tokenize_conversations(
    tokenizer: PreTrainedTokenizerBase, conversations: list[Conversation], max_seq_len: int
) -> TokenizedDataset:
    """Tokenize all; drop (and count) examples with no trainable token after truncation."""
    kept: list[TokenizedExample] = []
    dropped = truncated = 0
    for conversation in conversations:
        full = _tokenize_untruncated(tokenizer, conversation)
        truncated += full.length > max_seq_len
        example = _truncate(full, max_seq_len)
        if example.trainable_tokens == 0:
            dropped += 1
            continue
        kept.append(example)
    return TokenizedDataset(kept, dropped_without_trainable_tokens=dropped, truncated=truncated)
