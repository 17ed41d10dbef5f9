"""Hyperparameters are checked before a job is queued, and map onto the SFT recipe's config."""

from __future__ import annotations

import pytest

from trainer.jobs.spec import JobSpec, LoraSpec


def params(spec: JobSpec) -> list[str]:
    return [param for param, _ in spec.problems(max_lora_rank=16)]


def test_defaults_are_fine() -> None:
    assert JobSpec().problems(max_lora_rank=16) == []


@pytest.mark.parametrize(
    ("spec", "param", "words"),
    [
        (JobSpec(lora=LoraSpec(r=0)), "lora.r", "must be >= 1"),
        (JobSpec(lora=LoraSpec(r=64)), "lora.r", "above the engine's max LoRA rank 16"),
        (
            JobSpec(lora=LoraSpec(target_modules=["q_proj", "lm_head"])),
            "lora.target_modules",
            "LM head",
        ),
        (JobSpec(lora=LoraSpec(modules_to_save=["lm_head"])), "lora.modules_to_save", "non-LoRA"),
        (JobSpec(lora=LoraSpec(target_modules="everything")), "lora.target_modules", "all-linear"),
        (JobSpec(lora=LoraSpec(dropout=1.0)), "lora.dropout", "[0, 1)"),
        (JobSpec(n_epochs=0), "n_epochs", "1 to 1000"),
        (JobSpec(batch_size=0), "batch_size", ">= 1"),
        (JobSpec(learning_rate_multiplier=0), "learning_rate_multiplier", "> 0"),
        (JobSpec(eval_every_steps=0), "eval_every_steps", ">= 1"),
    ],
)
def test_refusals_name_the_parameter(spec: JobSpec, param: str, words: str) -> None:
    problems = dict(spec.problems(max_lora_rank=16))
    assert param in problems
    assert words in problems[param]


def test_every_problem_is_reported() -> None:
    spec = JobSpec(n_epochs=0, batch_size=-1, lora=LoraSpec(r=32))
    assert params(spec) == ["n_epochs", "batch_size", "lora.r"]


def test_training_config() -> None:
    spec = JobSpec(
        n_epochs=2, learning_rate_multiplier=0.5, lora=LoraSpec(r=8, target_modules=["q_proj"])
    )
    config = spec.training_config(seed=7)
    assert (config.epochs, config.seed, config.lora.r) == (2, 7, 8)
    assert config.lora.target_modules == ("q_proj",)
    assert config.effective_learning_rate == pytest.approx(spec.learning_rate * 0.5)
    config.check_servable(16)
