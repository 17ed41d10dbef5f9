"""Trainer throughput: loragate's LoRA SFT recipe against tuned baselines, in one run.

    python bench/trainer_throughput.py [--examples 480] [--batch-size 8] [--epochs 1]
        [--family llama|qwen2] [--padded-baseline] [--rounds N]

Same model (the embedded default, or the tiny Qwen2), same conversations, same LoRA settings,
same number of optimizer steps, all with assistant-only loss. Baselines (trainer_baselines.py):
transformers.Trainer grouped by length with dynamic padding, and TRL's SFTTrainer in its fastest
setting that is correct here (grouped, dynamic padding, no packing); ``--padded-baseline`` adds
the untuned Trainer that pads to the longest example. Trained tokens/s = real (non-padding)
tokens / training time, each trainer's tokens counted from the batches it actually built.
Each trainer runs in a fresh interpreter; ``--rounds`` repeats them all, interleaved, and keeps
each one's best (the machine's load from elsewhere drifts over minutes).
Target: loragate >= 1.3 x the best baseline.
"""

from __future__ import annotations

import argparse
import multiprocessing
import random
import sys
import tempfile
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from functools import partial
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from trainer_baselines import RunSettings, hf_trainer, trl_sft

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


def in_fresh_process(run: Callable[..., dict[str, float]], *args: Any) -> dict[str, float]:
    """Run one trainer in a new interpreter, so that none inherits another's warm caches
    (oneDNN kernels made per batch shape, the allocator's pool): in one process, whichever
    trainer ran later was measured faster."""
    context = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(max_workers=1, mp_context=context) as pool:
        return pool.submit(run, *args).result()


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
        "padding": result.padding_ratio,
    }


def run_baselines(
    base: Path, data: list[Conversation], root: Path, steps: int, args: argparse.Namespace
) -> dict[str, dict[str, float]]:
    from transformers import AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(base)
    examples = tokenize_conversations(tokenizer, data, 1024).examples
    settings = RunSettings(batch_size=args.batch_size, steps=steps)
    runs: dict[str, Callable[[], dict[str, float]]] = {
        "Trainer grouped": partial(
            in_fresh_process, hf_trainer, base, examples, root / "hf", settings, True
        ),
        "TRL SFTTrainer": partial(in_fresh_process, trl_sft, base, data, root / "trl", settings),
    }
    if args.padded_baseline:
        runs["Trainer max-padded"] = partial(
            in_fresh_process, hf_trainer, base, examples, root / "hf-pad", settings, False
        )
    results: dict[str, dict[str, float]] = {}
    for name, run in runs.items():
        try:
            results[name] = run()
        except ImportError as missing:  # TRL is in the optional `bench` extra
            print(f"{name}: skipped ({missing})")
    return results


def make_base(root: Path, family: str) -> Path:
    if family == "qwen2":
        from trainer.qwen2_model import ensure_qwen2_model

        return ensure_qwen2_model(root / "base")
    return ensure_default_model(root / "base")


def report(ours: dict[str, float], baselines: dict[str, dict[str, float]], target: float) -> bool:
    print(f"{'':<20} {'steps':>5} {'real tokens':>11} {'seconds':>8} {'tok/s':>8} {'padding':>7}")
    for name, numbers in {"loragate sft": ours, **baselines}.items():
        print(
            f"{name:<20} {numbers['steps']:>5.0f} {numbers['tokens']:>11.0f} "
            f"{numbers['seconds']:>8.1f} {numbers['tokens_per_s']:>8.0f} "
            f"{numbers.get('padding', 0.0):>7.1%}"
        )
    for name, numbers in baselines.items():
        print(f"loragate / {name} = {ours['tokens_per_s'] / numbers['tokens_per_s']:.2f}x")
    best_name, best = max(baselines.items(), key=lambda item: item[1]["tokens_per_s"])
    ratio = ours["tokens_per_s"] / best["tokens_per_s"]
    ok = ratio >= target
    verdict = "PASS" if ok else "FAIL"
    print(f"{verdict}  loragate / best baseline ({best_name}) = {ratio:.2f}x (want >= {target}x)")
    return ok


def main() -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--examples", type=int, default=480)
    parser.add_argument("--batch-size", type=int, default=8)
    parser.add_argument("--epochs", type=int, default=1)
    parser.add_argument("--family", choices=["llama", "qwen2"], default="llama")
    parser.add_argument("--padded-baseline", action="store_true", help="also the untuned one")
    parser.add_argument("--target", type=float, default=1.3)
    parser.add_argument("--rounds", type=int, default=1, help="repeat all, keep each one's best")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="trainer-bench-") as tmp:
        root = Path(tmp)
        base = make_base(root, args.family)
        data = mixed_length_conversations(args.examples, seed=0)
        rounds = []
        for index in range(args.rounds):  # interleaved: load from elsewhere hits all alike
            ours = in_fresh_process(run_loragate, base, data, root / f"ours-{index}", args)
            rounds.append((ours, run_baselines(base, data, root, int(ours["steps"]), args)))
    ours = max((mine for mine, _ in rounds), key=lambda numbers: numbers["tokens_per_s"])
    baselines = {
        name: max((theirs[name] for _, theirs in rounds), key=lambda n: n["tokens_per_s"])
        for name in rounds[0][1]
    }
    if len(rounds) > 1:
        for index, (mine, theirs) in enumerate(rounds):
            speeds = ", ".join(f"{n} {t['tokens_per_s']:.0f}" for n, t in theirs.items())
            print(f"round {index + 1}: loragate {mine['tokens_per_s']:.0f} tok/s, {speeds}")
        print("best round of each:")
    if not baselines:
        print("no baseline ran")
        return 1
    return 0 if report(ours, baselines, args.target) else 1


if __name__ == "__main__":
    sys.exit(main())
