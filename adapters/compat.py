"""Can the engine serve this adapter? Checked before an adapter is published.

The rules themselves (ranks, modules, LoRA variants) are in ``adapters.lora_rules``; this
module reads an adapter folder and applies them, and refuses weights that are not LoRA's.
"""

from __future__ import annotations

import json
from pathlib import Path

from adapters.lora_rules import (
    adapter_rank,
    feature_problems,
    modules_to_save_problem,
    rank_problem,
    targets_problem,
)


def check_adapter_dir(adapter_dir: Path, max_lora_rank: int) -> list[str]:
    """Every reason the engine would refuse the adapter in ``adapter_dir`` (empty: fine)."""
    config_path = adapter_dir / "adapter_config.json"
    weights = adapter_dir / "adapter_model.safetensors"
    if not config_path.is_file() or not weights.is_file():
        return [f"{adapter_dir} lacks adapter_config.json or adapter_model.safetensors"]
    config = json.loads(config_path.read_text())
    problems = feature_problems(config)
    for problem in (
        rank_problem(adapter_rank(config), max_lora_rank),
        targets_problem(config.get("target_modules") or []),
        modules_to_save_problem(config.get("modules_to_save")),
    ):
        if problem:
            problems.append(problem)
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
