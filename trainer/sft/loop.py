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
    """CUDA in bf16 where the GPU has it natively, else fp16 (with a gradient scaler, see
    ``make_grad_scaler``); the CPU in fp32. The LoRA weights stay fp32 (peft keeps adapters
    in fp32 over a half-precision base), so the optimizer state is fp32 everywhere."""
    if torch.cuda.is_available():
        native_bf16 = torch.cuda.is_bf16_supported(including_emulation=False)
        return torch.device("cuda"), torch.bfloat16 if native_bf16 else torch.float16
    return torch.device("cpu"), torch.float32


def make_grad_scaler(device: Any, dtype: Any) -> Any:
    """A loss scaler for fp16 training (small gradients underflow in fp16); a pass-through
    (disabled) scaler for bf16 and fp32, whose exponent range needs none."""
    return torch.amp.GradScaler(torch.device(device).type, enabled=dtype == torch.float16)


def make_optimizer(model: Any, config: TrainingConfig) -> Any:
    """AdamW over the trainable (LoRA) parameters only, fused into one kernel per step on the
    CPU and CUDA (without it the CPU runs a loop of small ops per LoRA matrix)."""
    params = [p for p in model.parameters() if p.requires_grad]
    fused = all(p.device.type in ("cpu", "cuda") for p in params)
    return torch.optim.AdamW(
        params, lr=config.effective_learning_rate, weight_decay=config.weight_decay, fused=fused
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
    model: Any,
    batch: Batch,
    optimizer: Any,
    scheduler: Any,
    grad_clip: float | None,
    step: int,
    scaler: Any = None,
) -> float:
    """Forward, backward, clip, update; returns the batch's mean token loss.

    With an enabled ``scaler`` (fp16) the loss is scaled before backward and the gradients
    unscaled before clipping; a step whose gradients overflowed is skipped by the scaler (and
    the scale lowered), which is its normal working, not divergence."""
    model.train()
    loss = label_token_loss(model, batch)
    value = float(loss.detach().float().item())
    if not math.isfinite(value):
        raise TrainingDiverged(step, "loss", value)
    scaling = scaler is not None and scaler.is_enabled()
    (scaler.scale(loss) if scaling else loss).backward()
    if scaling:
        scaler.unscale_(optimizer)
    if grad_clip is not None:
        params = [p for p in model.parameters() if p.requires_grad]
        norm = float(torch.nn.utils.clip_grad_norm_(params, grad_clip).item())
        if not math.isfinite(norm) and not scaling:
            raise TrainingDiverged(step, "gradient norm", norm)
    if scaling:
        scaler.step(optimizer)
        scaler.update()
    else:
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
