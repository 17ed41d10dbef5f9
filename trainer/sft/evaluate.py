"""Before/after evaluation on held-out conversations: exact-match accuracy and mean loss.

The prompt is every message but the last (assistant) one, rendered with the generation
prompt; the model answers greedily and the stripped answer must equal the reference.
"""

from __future__ import annotations

from contextlib import nullcontext
from pathlib import Path
from typing import Any, TypedDict

import torch

from trainer.sft.batching import collate
from trainer.sft.loop import mean_eval_loss, pick_device_and_dtype
from trainer.sft.model import load_base_model, pad_token_id
from trainer.sft.tokenize import Conversation, tokenize_conversations, validate_conversation


class EvalScores(TypedDict):
    exact_match: float
    """Share of conversations whose greedy answer equals the reference (stripped)."""
    mean_loss: float | None
    """Loss per assistant token; None when no conversation has one within max_seq_len."""
    examples: int


class BeforeAfter(TypedDict):
    base: EvalScores
    adapter: EvalScores


def _prompt_ids(tokenizer: Any, conversation: Conversation) -> list[int]:
    ids = tokenizer.apply_chat_template(
        conversation[:-1], tokenize=True, add_generation_prompt=True, return_dict=False
    )
    return [int(i) for i in ids]


def generate_answers(
    model: Any, tokenizer: Any, prompts: list[list[int]], max_new_tokens: int
) -> list[str]:
    """Greedy answers to left-padded prompts, decoded without special tokens."""
    pad_id = pad_token_id(tokenizer)
    width = max(len(p) for p in prompts)
    input_ids = torch.full((len(prompts), width), pad_id, dtype=torch.long)
    attention_mask = torch.zeros((len(prompts), width), dtype=torch.long)
    for row, prompt in enumerate(prompts):
        input_ids[row, width - len(prompt) :] = torch.tensor(prompt, dtype=torch.long)
        attention_mask[row, width - len(prompt) :] = 1
    device = next(model.parameters()).device
    with torch.no_grad():
        output = model.generate(
            input_ids=input_ids.to(device),
            attention_mask=attention_mask.to(device),
            max_new_tokens=max_new_tokens,
            do_sample=False,
            eos_token_id=tokenizer.eos_token_id,
            pad_token_id=pad_id,
        )
    new_tokens = output[:, width:]
    return [str(text) for text in tokenizer.batch_decode(new_tokens, skip_special_tokens=True)]


def evaluate_model(
    model: Any,
    tokenizer: Any,
    test: list[Conversation],
    max_seq_len: int = 1024,
    max_new_tokens: int = 16,
    batch_size: int = 16,
) -> EvalScores:
    """Exact-match accuracy of greedy answers and mean assistant-token loss on ``test``."""
    for conversation in test:
        validate_conversation(conversation)
    model.eval()
    correct = 0
    for start in range(0, len(test), batch_size):
        chunk = test[start : start + batch_size]
        prompts = [_prompt_ids(tokenizer, conversation) for conversation in chunk]
        answers = generate_answers(model, tokenizer, prompts, max_new_tokens)
        references = [conversation[-1]["content"].strip() for conversation in chunk]
        correct += sum(a.strip() == r for a, r in zip(answers, references, strict=True))
    examples = tokenize_conversations(tokenizer, test, max_seq_len).examples
    device = next(model.parameters()).device
    pad_id = pad_token_id(tokenizer)
    batches = (
        collate(examples[i : i + batch_size], pad_id).to(device)
        for i in range(0, len(examples), batch_size)
    )
    return EvalScores(
        exact_match=correct / len(test) if test else 0.0,
        mean_loss=mean_eval_loss(model, batches),
        examples=len(test),
    )


def evaluate_before_after(
    base_model_path: str | Path,
    adapter_dir: str | Path,
    test: list[Conversation],
    max_seq_len: int = 1024,
    max_new_tokens: int = 16,
) -> BeforeAfter:
    """Scores of the base model (adapter disabled) and of the base model with the adapter."""
    from peft import PeftModel

    device, dtype = pick_device_and_dtype()
    base, tokenizer = load_base_model(str(base_model_path), dtype)
    model = PeftModel.from_pretrained(base, str(adapter_dir)).to(device)
    scores: dict[str, EvalScores] = {}
    for name, context in (("base", model.disable_adapter()), ("adapter", nullcontext())):
        with context:
            scores[name] = evaluate_model(model, tokenizer, test, max_seq_len, max_new_tokens)
    return BeforeAfter(base=scores["base"], adapter=scores["adapter"])
