"""The baselines bench/trainer_throughput.py races loragate's recipe against.

Each gets the same conversations, LoRA settings, optimizer steps, learning rate and clipping,
and trains with assistant-only loss. Trained tokens are counted as the recipe counts them: the
real (non-padding) tokens of every batch the trainer's collator produced, read off the batch's
attention mask, never estimated. Time is from the trainer's ``on_train_begin`` to
``on_train_end`` (set-up, tokenization and model loading excluded, as for the recipe).
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from trainer.sft.tokenize import IGNORE_INDEX, TokenizedExample

Conversation = list[dict[str, str]]


@dataclass(frozen=True)
class RunSettings:
    batch_size: int
    steps: int
    learning_rate: float = 1e-3
    lora_r: int = 16
    lora_alpha: int = 32
    lora_dropout: float = 0.05
    warmup_ratio: float = 0.03


class CountingCollator:
    """Wraps a collator; adds up the attention mask of every batch it hands out."""

    def __init__(self, inner: Any) -> None:
        self.inner = inner
        self.real_tokens = 0
        self.padded_tokens = 0

    def __call__(self, features: list[Any]) -> Any:
        batch = self.inner(features)
        mask = batch["attention_mask"]
        self.real_tokens += int(mask.sum().item())
        self.padded_tokens += int(mask.numel())
        return batch


def _clock() -> Any:
    from transformers import TrainerCallback

    class TrainClock(TrainerCallback):  # type: ignore[misc]
        seconds = 0.0
        _started = 0.0

        def on_train_begin(self, *_args: Any, **_kwargs: Any) -> None:
            self._started = time.perf_counter()

        def on_train_end(self, *_args: Any, **_kwargs: Any) -> None:
            self.seconds = time.perf_counter() - self._started

    return TrainClock()


def _lora_model(base: Path, settings: RunSettings) -> Any:
    import torch
    from peft import LoraConfig, get_peft_model
    from transformers import AutoModelForCausalLM

    from trainer.sft.loop import pick_device_and_dtype

    _device, dtype = pick_device_and_dtype()
    torch.manual_seed(0)
    model = AutoModelForCausalLM.from_pretrained(base, dtype=dtype)
    config = LoraConfig(
        r=settings.lora_r,
        lora_alpha=settings.lora_alpha,
        lora_dropout=settings.lora_dropout,
        target_modules="all-linear",
        task_type="CAUSAL_LM",
    )
    return get_peft_model(model, config)


def common_arguments(out: Path, settings: RunSettings) -> dict[str, Any]:
    """TrainingArguments shared by every baseline (bf16 on a GPU that has it, as the recipe)."""
    import torch

    cuda = torch.cuda.is_available()
    return {
        "output_dir": str(out),
        "per_device_train_batch_size": settings.batch_size,
        "max_steps": settings.steps,
        "learning_rate": settings.learning_rate,
        "warmup_steps": settings.warmup_ratio,  # a float below 1 is a share of the steps
        "max_grad_norm": 1.0,
        "logging_steps": 10_000,
        "save_strategy": "no",
        "report_to": [],
        "use_cpu": not cuda,
        "bf16": cuda and torch.cuda.is_bf16_supported(),
        "dataloader_num_workers": 0,
        "disable_tqdm": True,
        "seed": 0,
    }


def _result(seconds: float, collator: CountingCollator, settings: RunSettings) -> dict[str, float]:
    return {
        "steps": float(settings.steps),
        "tokens": float(collator.real_tokens),
        "seconds": seconds,
        "tokens_per_s": collator.real_tokens / seconds,
        "padding": 1 - collator.real_tokens / max(1, collator.padded_tokens),
    }


def hf_trainer(
    base: Path,
    examples: list[TokenizedExample],
    out: Path,
    settings: RunSettings,
    grouped: bool,
) -> dict[str, float]:
    """transformers.Trainer: grouped by length with dynamic padding, or (``grouped=False``)
    every batch padded to the dataset's longest example (the untuned recipe)."""
    from transformers import (
        DataCollatorForSeq2Seq,
        PreTrainedTokenizerFast,
        Trainer,
        TrainingArguments,
    )

    tokenizer = PreTrainedTokenizerFast.from_pretrained(base)
    longest = max(example.length for example in examples)
    rows = [
        {"input_ids": e.input_ids, "attention_mask": [1] * e.length, "labels": e.labels}
        for e in examples
    ]
    padding: dict[str, Any] = (
        {"padding": "longest"} if grouped else {"padding": "max_length", "max_length": longest}
    )
    inner = DataCollatorForSeq2Seq(
        tokenizer, label_pad_token_id=IGNORE_INDEX, return_tensors="pt", **padding
    )
    collator = CountingCollator(inner)
    arguments = TrainingArguments(
        train_sampling_strategy="group_by_length" if grouped else "random",
        **common_arguments(out, settings),
    )
    clock = _clock()
    trainer = Trainer(
        model=_lora_model(base, settings),
        args=arguments,
        train_dataset=rows,
        data_collator=collator,
        callbacks=[clock],
    )
    trainer.train()
    return _result(clock.seconds, collator, settings)


def trl_sft(
    base: Path, conversations: list[Conversation], out: Path, settings: RunSettings
) -> dict[str, float]:
    """TRL's SFTTrainer, fastest correct setting on this hardware: assistant-only loss, grouped
    by length, dynamic padding, no gradient checkpointing; no packing and no padding-free
    batches (without flash attention, the CPU's SDPA would let packed examples attend to each
    other). Its chunked output head (on by default) is kept: it is TRL's fast path."""
    from datasets import Dataset
    from transformers import AutoTokenizer
    from trl import SFTConfig, SFTTrainer

    tokenizer = AutoTokenizer.from_pretrained(base)
    config = SFTConfig(
        assistant_only_loss=True,
        packing=False,
        padding_free=False,
        max_length=1024,
        train_sampling_strategy="group_by_length",
        gradient_checkpointing=False,  # SFTConfig turns it on by default: recompute costs time
        **common_arguments(out, settings),
    )
    clock = _clock()
    trainer = SFTTrainer(
        model=_lora_model(base, settings),
        args=config,
        train_dataset=Dataset.from_list([{"messages": c} for c in conversations]),
        processing_class=tokenizer,
        callbacks=[clock],
    )
    collator = CountingCollator(trainer.data_collator)
    trainer.data_collator = collator
    trainer.train()
    return _result(clock.seconds, collator, settings)
