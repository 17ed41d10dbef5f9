"""Device and precision: bf16 on a GPU that has it, fp16 with loss scaling where not, fp32 on
the CPU; the scaled step makes the same update as the plain one."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

from tests.trainer.sft.keyword_task import keyword_splits
from trainer.sft.batching import collate
from trainer.sft.config import LoraSettings
from trainer.sft.loop import make_grad_scaler, pick_device_and_dtype, train_step
from trainer.sft.model import load_lora_model, pad_token_id
from trainer.sft.tokenize import tokenize_conversations


@pytest.mark.parametrize(
    ("cuda", "bf16", "expected"),
    [
        (True, True, ("cuda", torch.bfloat16)),
        (True, False, ("cuda", torch.float16)),
        (False, False, ("cpu", torch.float32)),
    ],
)
def test_device_and_dtype(
    monkeypatch: pytest.MonkeyPatch, cuda: bool, bf16: bool, expected: tuple[str, torch.dtype]
) -> None:
    monkeypatch.setattr(torch.cuda, "is_available", lambda: cuda)
    monkeypatch.setattr(torch.cuda, "is_bf16_supported", lambda including_emulation=True: bf16)
    device, dtype = pick_device_and_dtype()
    assert (device.type, dtype) == expected


def test_only_fp16_gets_an_enabled_scaler() -> None:
    assert make_grad_scaler("cpu", torch.float16).is_enabled()
    assert not make_grad_scaler("cpu", torch.bfloat16).is_enabled()
    assert not make_grad_scaler("cpu", torch.float32).is_enabled()


def _one_step(default_model: Path, scaler: torch.amp.GradScaler | None) -> dict[str, torch.Tensor]:
    torch.manual_seed(0)
    model, tokenizer = load_lora_model(str(default_model), LoraSettings(dropout=0.0), torch.float32)
    examples = tokenize_conversations(tokenizer, keyword_splits((4,))[0], 64).examples
    batch = collate(examples, pad_token_id(tokenizer))
    # Plain SGD: its update is proportional to the gradient, so a gradient left scaled shows.
    optimizer = torch.optim.SGD([p for p in model.parameters() if p.requires_grad], lr=1e-2)
    scheduler = torch.optim.lr_scheduler.LambdaLR(optimizer, lambda _step: 1.0)
    for _ in range(2):  # B is zero at first: the second step moves every LoRA matrix
        train_step(model, batch, optimizer, scheduler, None, 1, scaler)
    return {n: p.detach().clone() for n, p in model.named_parameters() if p.requires_grad}


def test_a_scaled_step_updates_like_a_plain_one(default_model: Path) -> None:
    plain = _one_step(default_model, None)
    scaler = torch.amp.GradScaler("cpu", init_scale=2.0**12)
    scaled = _one_step(default_model, scaler)
    assert scaler.get_scale() == 2.0**12  # no overflow, no skipped step
    for name, value in plain.items():
        assert torch.allclose(value, scaled[name], rtol=1e-4, atol=1e-6), name
