"""Can the engine serve this adapter? Checked before an adapter is published.

vLLM refuses adapters with non-LoRA weights (``modules_to_save``, embeddings, lm_head) and
ranks above its ``--max-lora-rank``; it also only knows a fixed set of ranks.
"""

from __future__ import annotations

import json
from pathlib import Path

LEGAL_LORA_RANKS = (1, 8, 16, 32, 64, 128, 256, 320, 512)
NON_LORA_TARGETS = ("embed_tokens", "lm_head", "wte", "wpe", "embed_out")


def rank_problem(rank: int, max_lora_rank: int) -> str | None:
    if rank not in LEGAL_LORA_RANKS:
        return f"LoRA rank {rank} is not one the engine supports {LEGAL_LORA_RANKS}"
    if rank > max_lora_rank:
        return f"LoRA rank {rank} is above the engine's max LoRA rank {max_lora_rank}"
    return None


def target_problems(
    target_modules: list[str] | str, modules_to_save: list[str] | None
) -> list[str]:
    problems = []
    if modules_to_save:
        problems.append(
            f"modules_to_save {modules_to_save} would train non-LoRA weights the engine "
            "cannot serve"
        )
    targets = [target_modules] if isinstance(target_modules, str) else target_modules
    bad = [t for t in targets if any(t.endswith(name) for name in NON_LORA_TARGETS)]
    if bad:
        problems.append(
            f"target modules {bad} are embeddings or the LM head; vLLM cannot serve them"
        )
    return problems


def check_adapter_dir(adapter_dir: Path, max_lora_rank: int) -> list[str]:
    """Every reason the engine would refuse the adapter in ``adapter_dir`` (empty: fine)."""
    config_path = adapter_dir / "adapter_config.json"
    weights = adapter_dir / "adapter_model.safetensors"
    if not config_path.is_file() or not weights.is_file():
        return [f"{adapter_dir} lacks adapter_config.json or adapter_model.safetensors"]
    config = json.loads(config_path.read_text())
    problems = []
    if config.get("peft_type", "LORA") != "LORA":
        problems.append(f"peft_type {config.get('peft_type')} is not LORA")
    rank = rank_problem(int(config.get("r", 0)), max_lora_rank)
    if rank:
        problems.append(rank)
    problems += target_problems(config.get("target_modules") or [], config.get("modules_to_save"))
    problems += _weight_problems(weights)
    return problems


def _weight_problems(weights: Path) -> list[str]:
    from safetensors import safe_open

    with safe_open(str(weights), framework="pt") as handle:
        keys = list(handle.keys())
    extra = [k for k in keys if "lora_A" not in k and "lora_B" not in k]
    if extra:
        return [f"the weights hold non-LoRA tensors the engine cannot serve: {extra[:3]}"]
    return []
