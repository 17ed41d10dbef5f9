"""Trainer throughput: loragate's LoRA SFT loop against a plain transformers.Trainer + peft.

    python bench/trainer_throughput.py [--examples 480] [--batch-size 8] [--epochs 1]

Same model (the embedded default), same conversations, same LoRA settings, same number of
optimizer steps, in one run. The baseline pads every batch to the longest example in the
dataset (the common `padding="max_length"` recipe); loragate groups by length and pads each
batch only to its own longest example. Trained tokens/s = real (non-padding) tokens / time.
Target: loragate >= 1.5 x the baseline.
"""

from __future__ import annotations

import argparse
import random
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from trainer.datasets.reviews import make_review_examples
from trainer.default_model import ensure_default_model
from trainer.sft.config import LoraSettings, TrainingConfig
from trainer.sft.recipe import train
from trainer.sft.tokenize import tokenize_conversations

Conversation = list[dict[str, str]]


def mixed_length_conversations(count: int, seed: int) -> list[Conversation]:
    """Review chats of 1 to 8 turns: the length spread of real chat data (25 to ~400 tokens)."""
    reviews = [example.as_dicts() for example in make_review_examples(count * 4, seed=seed)]
    rng = random.Random(seed)
    conversations = []
    for index in range(count):
        turns = rng.randint(1, 8)
        picked = [reviews[(index * 4 + k) % len(reviews)] for k in range(turns)]
        conversation = [picked[0][0]]  # the system prompt once
        for review in picked:
            conversation += review[1:]
        conversations.append(conversation)
    return conversations


def run_loragate(
    base: Path, data: list[Conversation], out: Path, args: argparse.Namespace
) -> dict[str, float]:
    config = TrainingConfig(
        epochs=args.epochs,
        batch_size=args.batch_size,
        learning_rate=1e-3,
        eval_every_steps=None,
        max_seq_len=1024,
        lora=LoraSettings(r=16, alpha=32),
    )
    result = train(base, data, [], out, config)
    return {
        "steps": float(result.steps),
        "tokens": float(result.tokens_trained),
        "seconds": result.train_seconds,
        "tokens_per_s": result.tokens_trained / result.train_seconds,
    }


def run_hf_trainer(
    base: Path, data: list[Conversation], out: Path, steps: int, args: argparse.Namespace
) -> dict[str, float]:
    import torch
    from peft import LoraConfig, get_peft_model
    from transformers import AutoModelForCausalLM, AutoTokenizer, Trainer, TrainingArguments

    tokenizer = AutoTokenizer.from_pretrained(base)
    examples = tokenize_conversations(tokenizer, data, 1024).examples
    longest = max(example.length for example in examples)
    pad = tokenizer.pad_token_id

    rows: list[dict[str, Any]] = []
    for example in examples:
        extra = longest - example.length
        rows.append(
            {
                "input_ids": torch.tensor(example.input_ids + [pad] * extra),
                "attention_mask": torch.tensor([1] * example.length + [0] * extra),
                "labels": torch.tensor(example.labels + [-100] * extra),
            }
        )
    torch.manual_seed(0)
    model = AutoModelForCausalLM.from_pretrained(base, dtype=torch.float32)
    model = get_peft_model(
        model, LoraConfig(r=16, lora_alpha=32, lora_dropout=0.05, target_modules="all-linear")
    )
    training_args = TrainingArguments(
        output_dir=str(out),
        per_device_train_batch_size=args.batch_size,
        max_steps=steps,
        learning_rate=1e-3,
        logging_steps=10_000,
        save_strategy="no",
        report_to=[],
        use_cpu=True,
        dataloader_num_workers=0,
        disable_tqdm=True,
        max_grad_norm=1.0,
    )
    trainer = Trainer(model=model, args=training_args, train_dataset=rows)
    started = time.perf_counter()
    trainer.train()
    seconds = time.perf_counter() - started
    per_epoch = sum(example.length for example in examples)
    seen = min(steps * args.batch_size, len(examples) * args.epochs)
    tokens = per_epoch * seen / len(examples)
    return {
        "steps": float(steps),
        "tokens": tokens,
        "seconds": seconds,
        "tokens_per_s": tokens / seconds,
        "padded_to": float(longest),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--examples", type=int, default=480)
    parser.add_argument("--batch-size", type=int, default=8)
    parser.add_argument("--epochs", type=int, default=1)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="trainer-bench-") as tmp:
        root = Path(tmp)
        base = ensure_default_model(root / "base")
        data = mixed_length_conversations(args.examples, seed=0)
        ours = run_loragate(base, data, root / "ours", args)
        theirs = run_hf_trainer(base, data, root / "hf", int(ours["steps"]), args)
    ratio = ours["tokens_per_s"] / theirs["tokens_per_s"]
    for name, numbers in (("loragate sft", ours), ("transformers.Trainer", theirs)):
        print(
            f"{name:<22} steps {numbers['steps']:>5.0f}  tokens {numbers['tokens']:>9.0f}  "
            f"{numbers['seconds']:>7.1f} s  {numbers['tokens_per_s']:>8.0f} tok/s"
        )
    print(f"baseline pads every batch to {theirs['padded_to']:.0f} tokens")
    ok = ratio >= 1.5
    print(f"{'PASS' if ok else 'FAIL'}  loragate / Trainer = {ratio:.2f}x (want >= 1.5x)")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
