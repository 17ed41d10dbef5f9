"""Settings validation and the servability check that runs before any training."""

from __future__ import annotations

import pytest

from trainer.sft.config import LoraSettings, NotServable, TrainingConfig


def test_default_settings_are_servable_at_rank_16() -> None:
    TrainingConfig().check_servable(max_lora_rank=16)


@pytest.mark.parametrize("rank", [2, 4, 12, 100])
def test_any_rank_up_to_the_engine_max_is_servable(rank: int) -> None:
    TrainingConfig(lora=LoraSettings(r=rank)).check_servable(max_lora_rank=512)


def test_rank_above_engine_max_is_refused() -> None:
    with pytest.raises(NotServable, match="above the engine's max"):
        TrainingConfig(lora=LoraSettings(r=32)).check_servable(max_lora_rank=16)


def test_modules_to_save_is_refused() -> None:
    lora = LoraSettings(modules_to_save=("lm_head",))
    with pytest.raises(NotServable, match="modules_to_save"):
        lora.check_servable(max_lora_rank=16)


@pytest.mark.parametrize("target", ["lm_head", "embed_tokens", "model.embed_tokens"])
def test_embedding_or_head_targets_are_refused(target: str) -> None:
    lora = LoraSettings(target_modules=("q_proj", target))
    with pytest.raises(NotServable, match="embeddings or the LM head"):
        lora.check_servable(max_lora_rank=16)


def test_explicit_linear_targets_are_servable() -> None:
    LoraSettings(r=8, target_modules=("q_proj", "v_proj")).check_servable(max_lora_rank=16)


def test_all_problems_are_listed_at_once() -> None:
    lora = LoraSettings(r=16, modules_to_save=("lm_head",), target_modules=("lm_head",))
    with pytest.raises(NotServable) as caught:
        lora.check_servable(max_lora_rank=8)
    message = str(caught.value)
    assert "LM head" in message
    assert "above" in message
    assert "modules_to_save" in message


@pytest.mark.parametrize(
    "bad",
    [
        {"epochs": 0},
        {"batch_size": 0},
        {"learning_rate": 0.0},
        {"learning_rate_multiplier": -1.0},
        {"warmup_ratio": 1.0},
        {"eval_every_steps": 0},
        {"early_stopping_patience": 0},
    ],
)
def test_nonsense_training_values_are_refused(bad: dict[str, float]) -> None:
    with pytest.raises(ValueError):  # noqa: PT011
        TrainingConfig(**bad)  # type: ignore[arg-type]


def test_learning_rate_multiplier_scales_the_rate() -> None:
    config = TrainingConfig(learning_rate=1e-4, learning_rate_multiplier=3.0)
    assert config.effective_learning_rate == pytest.approx(3e-4)


def test_target_module_lists_are_accepted_and_frozen() -> None:
    lora = LoraSettings(target_modules=["q_proj", "v_proj"])
    assert lora.target_modules == ("q_proj", "v_proj")
    assert lora.target_module_names() == ["q_proj", "v_proj"]
