"""Each LoRA rule of ``adapters.lora_rules`` pinned against what the installed vLLM refuses:
its ``--max-lora-rank`` values, its adapter checks (``PEFTHelper.validate_legal``) and its
adapter loader (``LoRAModel.from_local_checkpoint``). A vLLM upgrade that changes a rule
fails here, not in production."""

from __future__ import annotations

import json
import typing
from pathlib import Path
from typing import Any

import pytest
import torch
from safetensors.torch import save_file

from adapters.lora_rules import (
    EMBEDDING_AND_HEAD_MODULES,
    ENGINE_MAX_LORA_RANKS,
    adapter_rank,
    feature_problems,
    max_rank_problem,
    modules_to_save_problem,
    rank_problem,
    targets_problem,
)

vllm_lora_config = pytest.importorskip("vllm.config.lora")
from vllm.lora.lora_model import LoRAModel  # noqa: E402
from vllm.lora.peft_helper import PEFTHelper  # noqa: E402
from vllm.model_executor.models.qwen2 import Qwen2ForCausalLM  # noqa: E402

LoRAConfig = vllm_lora_config.LoRAConfig


def vllm_refuses(check: Any) -> bool:
    try:
        check()
    except ValueError:  # pydantic's ValidationError is one too
        return True
    return False


def test_engine_ranks_are_vllm_s() -> None:
    assert typing.get_args(vllm_lora_config.MaxLoRARanks) == ENGINE_MAX_LORA_RANKS
    for rank in (0, 2, 4, 12, 100, 1024, *ENGINE_MAX_LORA_RANKS):
        refused = vllm_refuses(lambda rank=rank: LoRAConfig(max_lora_rank=rank))
        assert refused == (max_rank_problem(rank) is not None), rank


def peft(**fields: Any) -> dict[str, Any]:
    return {"r": 8, "lora_alpha": 16, "target_modules": ["q_proj"]} | fields


RANKS = [(1, 16), (4, 16), (12, 16), (16, 16), (17, 16), (32, 16), (8, 8), (16, 8)]


@pytest.mark.parametrize(("rank", "max_rank"), RANKS)
@pytest.mark.parametrize("pattern", [False, True])
def test_adapter_ranks(rank: int, max_rank: int, pattern: bool) -> None:
    """Any rank up to the engine's maximum, the per-module ``rank_pattern`` included."""
    config = peft(rank_pattern={"v_proj": rank}) if pattern else peft(r=rank)
    legal = lambda: PEFTHelper.from_dict(config).validate_legal(LoRAConfig(max_lora_rank=max_rank))  # noqa: E731
    assert vllm_refuses(legal) == (rank_problem(adapter_rank(config), max_rank) is not None)


SAVED = [[], ["score"], ["classifier"], ["lm_head"], ["embed_tokens"], ["score", "lm_head"]]


@pytest.mark.parametrize("modules", SAVED)
def test_modules_to_save(modules: list[str]) -> None:
    config = peft(modules_to_save=modules or None)
    legal = lambda: PEFTHelper.from_dict(config).validate_legal(LoRAConfig(max_lora_rank=16))  # noqa: E731
    assert vllm_refuses(legal) == (modules_to_save_problem(modules) is not None)


FEATURES = [{}, {"use_dora": True}, {"bias": "all"}, {"bias": "lora_only"}, {"lora_bias": True}]


@pytest.mark.parametrize("fields", FEATURES)
def test_lora_variants(fields: dict[str, Any]) -> None:
    config = peft(**fields)
    legal = lambda: PEFTHelper.from_dict(config).validate_legal(LoRAConfig(max_lora_rank=16))  # noqa: E731
    assert vllm_refuses(legal) == bool(feature_problems(config))


def expected_modules(model_class: type) -> set[str]:
    """What vLLM's worker expects LoRA weights on for a Llama-like decoder: its linear
    layers (packed ones unpacked) and the embeddings the class declares."""
    linear = ["qkv_proj", "o_proj", "gate_up_proj", "down_proj"]
    packed: dict[str, list[str]] = model_class.packed_modules_mapping  # type: ignore[attr-defined]
    names = {part for name in linear for part in packed.get(name, [name])}
    return names | set(getattr(model_class, "embedding_modules", {}) or {})


def one_module_adapter(folder: Path, module: str) -> Path:
    folder.mkdir()
    prefix = f"base_model.model.model.layers.0.mlp.{module}"
    tensors = {
        f"{prefix}.lora_A.weight": torch.zeros(8, 64),
        f"{prefix}.lora_B.weight": torch.zeros(64, 8),
    }
    save_file(tensors, str(folder / "adapter_model.safetensors"))
    (folder / "adapter_config.json").write_text(json.dumps(peft(target_modules=[module])))
    return folder


@pytest.mark.parametrize("module", [*EMBEDDING_AND_HEAD_MODULES, "q_proj", "down_proj"])
def test_embedding_and_head_modules(tmp_path: Path, module: str) -> None:
    """vLLM loads LoRA only on linear layers and the embeddings a model class declares;
    Qwen2 declares none, so each of these names is refused there (Llama declares
    embed_tokens and lm_head; loragate refuses them for every model)."""
    folder = one_module_adapter(tmp_path / module, module)
    helper = PEFTHelper.from_local_dir(str(folder), max_position_embeddings=None)
    expected = expected_modules(Qwen2ForCausalLM)

    def load() -> None:
        LoRAModel.from_local_checkpoint(str(folder), expected, helper, device="cpu")

    assert vllm_refuses(load) == (targets_problem([module]) is not None)
