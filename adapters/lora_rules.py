"""The rules vLLM imposes on a LoRA adapter, each written once.

The settings refuse an engine rank vLLM would not start with; the trainer refuses a job
whose adapter would break a rule, before training; ``adapters.compat`` refuses such an
adapter before it is published. ``tests/adapters/test_lora_rules.py`` pins every rule
against what the installed vLLM refuses (``vllm/config/lora.py``, ``vllm/lora/``).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

ENGINE_MAX_LORA_RANKS = (1, 8, 16, 32, 64, 128, 256, 320, 512)
"""The values vLLM accepts for ``--max-lora-rank`` (its ``MaxLoRARanks``)."""

SERVABLE_MODULES_TO_SAVE = ("classifier", "score")
"""The only ``modules_to_save`` vLLM loads (heads of classification models); an adapter
that trains any other module in full is refused."""

EMBEDDING_AND_HEAD_MODULES = (
    "embed_tokens", "embed", "word_embeddings", "wte", "wpe", "lm_head", "embed_out", "output",
)  # fmt: skip
"""Last name segments of embedding and output-head modules. vLLM serves LoRA on linear
layers, and on embeddings only where the model class declares them (Llama does, Qwen2 does
not), so LoRA on these is refused for every model."""


def max_rank_problem(max_lora_rank: int) -> str | None:
    if max_lora_rank not in ENGINE_MAX_LORA_RANKS:
        return f"max_lora_rank must be one of {ENGINE_MAX_LORA_RANKS}, got {max_lora_rank}"
    return None


def rank_problem(rank: int, max_lora_rank: int) -> str | None:
    """vLLM loads any rank up to its ``--max-lora-rank`` (the largest of ``r`` and
    ``rank_pattern``)."""
    if rank < 1:
        return f"LoRA rank must be >= 1, got {rank}"
    if rank > max_lora_rank:
        return f"LoRA rank {rank} is above the engine's max LoRA rank {max_lora_rank}"
    return None


def modules_to_save_problem(modules: Sequence[str] | None) -> str | None:
    unservable = [name for name in modules or () if name not in SERVABLE_MODULES_TO_SAVE]
    if unservable:
        return (
            f"modules_to_save {unservable} would train non-LoRA weights the engine cannot "
            f"serve (it loads only {list(SERVABLE_MODULES_TO_SAVE)})"
        )
    return None


def is_embedding_or_head(module: str) -> bool:
    return module.rsplit(".", 1)[-1] in EMBEDDING_AND_HEAD_MODULES


def targets_problem(targets: str | Sequence[str]) -> str | None:
    names = [targets] if isinstance(targets, str) else list(targets)
    bad = [name for name in names if is_embedding_or_head(name)]
    if bad:
        return f"target modules {bad} are embeddings or the LM head; vLLM cannot serve them"
    return None


def feature_problems(config: dict[str, Any]) -> list[str]:
    """LoRA variants vLLM refuses, read from an ``adapter_config.json``."""
    problems = []
    if config.get("peft_type", "LORA") != "LORA":
        problems.append(f"peft_type {config.get('peft_type')} is not LORA")
    if config.get("use_dora"):
        problems.append("DoRA (use_dora) is not supported by the engine")
    if config.get("bias", "none") != "none" or config.get("lora_bias"):
        problems.append("LoRA with bias terms is not supported by the engine")
    return problems


def adapter_rank(config: dict[str, Any]) -> int:
    """The rank vLLM checks: the largest of ``r`` and the per-module ``rank_pattern``."""
    pattern = config.get("rank_pattern") or {}
    return max([int(config.get("r", 0)), *(int(rank) for rank in pattern.values())])
