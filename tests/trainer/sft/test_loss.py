"""The head-only-on-labels loss equals transformers' own loss, value and gradients."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import torch

from tests.trainer.sft.keyword_task import keyword_splits
from trainer.sft.batching import collate
from trainer.sft.config import LoraSettings
from trainer.sft.loss import head_only_on_labels, label_token_loss
from trainer.sft.model import load_lora_model, pad_token_id
from trainer.sft.tokenize import IGNORE_INDEX, tokenize_conversations


def lora_grads(model: Any) -> dict[str, torch.Tensor]:
    return {n: p.grad.clone() for n, p in model.named_parameters() if p.requires_grad}


def test_same_loss_and_gradients_as_transformers(default_model: Path) -> None:
    torch.manual_seed(0)
    model, tokenizer = load_lora_model(str(default_model), LoraSettings(dropout=0.0), torch.float32)
    for _name, param in model.named_parameters():  # LoRA B starts at 0: make the update matter
        if param.requires_grad:
            torch.nn.init.normal_(param, std=0.05)
    examples = tokenize_conversations(tokenizer, keyword_splits((6,))[0], 64).examples
    batch = collate(examples, pad_token_id(tokenizer))
    assert head_only_on_labels(model)

    ours = label_token_loss(model, batch)
    ours.backward()
    our_grads = lora_grads(model)
    model.zero_grad()
    theirs = model(
        input_ids=batch.input_ids, attention_mask=batch.attention_mask, labels=batch.labels
    ).loss
    theirs.backward()
    their_grads = lora_grads(model)

    assert ours.item() == pytest.approx(theirs.item(), rel=1e-5)
    assert our_grads.keys() == their_grads.keys()
    for name, grad in our_grads.items():
        assert torch.allclose(grad, their_grads[name], rtol=1e-4, atol=1e-7), name


def test_a_batch_without_labels_gives_zero(default_model: Path) -> None:
    model, tokenizer = load_lora_model(str(default_model), LoraSettings(), torch.float32)
    examples = tokenize_conversations(tokenizer, keyword_splits((2,))[0], 64).examples
    batch = collate(examples, pad_token_id(tokenizer))
    batch.labels.fill_(IGNORE_INDEX)
    assert label_token_loss(model, batch).item() == 0.0
