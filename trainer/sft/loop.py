"""The pieces of the training loop: optimizer, schedule, one step, eval loss, device choice."""

from __future__ import annotations

import math
from collections.abc import Iterable
from typing import Any

import torch

from trainer.sft.batching import Batch
from trainer.sft.config import TrainingConfig
from trainer.sft.loss import label_token_loss
from trainer.sft.tokenize import IGNORE_INDEX


class TrainingDiverged(RuntimeError):
    """The loss (or gradient norm) became NaN or infinite; training cannot go on."""

    def __init__(self, step: int, what: str, value: float) -> None:
        super().__init__(f"training diverged at step {step}: {what} is {value}")
        self.step = step
        self.what = what
        self.value = value


def pick_device_and_dtype() -> tuple[Any, Any]:
    """CUDA with bf16 where the GPU has it (fp32 otherwise); the CPU in fp32."""
    if torch.cuda.is_available():
        dtype = torch.bfloat16 if torch.cuda.is_bf16_supported() else torch.float32
        return torch.device("cuda"), dtype
    return torch.device("cpu"), torch.float32


def make_optimizer(model: Any, config: TrainingConfig) -> Any:
    """AdamW over the trainable (LoRA) parameters only."""
    params = [p for p in model.parameters() if p.requires_grad]
    return torch.optim.AdamW(
        params, lr=config.effective_learning_rate, weight_decay=config.weight_decay
    )


def warmup_then_linear_decay(warmup_steps: int, total_steps: int) -> Any:
    """Learning-rate factor: 0 -> 1 over the warmup, then 1 -> 0 at the last step."""

    def factor(step: int) -> float:
        if step < warmup_steps:
            return (step + 1) / (warmup_steps + 1)
        remaining = total_steps - step
        return max(0.0, remaining / max(1, total_steps - warmup_steps))

    return factor


def make_scheduler(optimizer: Any, config: TrainingConfig, total_steps: int) -> Any:
    warmup_steps = math.ceil(config.warmup_ratio * total_steps)
    factor = warmup_then_linear_decay(warmup_steps, total_steps)
    return torch.optim.lr_scheduler.LambdaLR(optimizer, factor)


def train_step(
    model: Any, batch: Batch, optimizer: Any, scheduler: Any, grad_clip: float | None, step: int
) -> float:
    """Forward, backward, clip, update; returns the batch's mean token loss."""
    model.train()
    loss = label_token_loss(model, batch)
    value = float(loss.detach().float().item())
    if not math.isfinite(value):
        raise TrainingDiverged(step, "loss", value)
    loss.backward()
    if grad_clip is not None:
        params = [p for p in model.parameters() if p.requires_grad]
        norm = float(torch.nn.utils.clip_grad_norm_(params, grad_clip).item())
        if not math.isfinite(norm):
            raise TrainingDiverged(step, "gradient norm", norm)
    optimizer.step()
    scheduler.step()
    optimizer.zero_grad(set_to_none=True)
    return value


def label_tokens(batch: Batch) -> int:
    """Tokens that carry loss (labels are shifted by one inside the model)."""
    return int((batch.labels[:, 1:] != IGNORE_INDEX).sum().item())


def mean_eval_loss(model: Any, batches: Iterable[Batch]) -> float | None:
    """Loss per label token over all batches (weighted by tokens); None when there are none."""
    model.eval()
    total = 0.0
    count = 0
    for batch in batches:
        n = label_tokens(batch)
        if n == 0:
            continue
        with torch.no_grad():
            loss = label_token_loss(model, batch)
        total += float(loss.float().item()) * n
        count += n
    return total / count if count else None
