"""The recipe on a GPU (skipped without one): bf16 (fp16 where bf16 is missing), learns the
task, and the published adapter serves from the same weights on the CPU."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

from tests.trainer.sft.keyword_task import keyword_splits
from trainer.sft.config import TrainingConfig
from trainer.sft.evaluate import evaluate_before_after
from trainer.sft.recipe import SFTRecipe

pytestmark = [
    pytest.mark.gpu,
    pytest.mark.skipif(not torch.cuda.is_available(), reason="no CUDA GPU here"),
]


def test_recipe_trains_on_the_gpu_in_half_precision(default_model: Path, tmp_path: Path) -> None:
    train_set, validation, test = keyword_splits((200, 40, 40))
    config = TrainingConfig(
        epochs=3, batch_size=8, learning_rate=3e-3, max_seq_len=64, eval_every_steps=None
    )
    recipe = SFTRecipe(str(default_model), train_set, validation, tmp_path, config)
    expected = torch.bfloat16 if torch.cuda.is_bf16_supported(False) else torch.float16
    assert recipe.device.type == "cuda"
    assert recipe.dtype == expected
    base_dtypes = {p.dtype for p in recipe.model.parameters() if not p.requires_grad}
    lora_dtypes = {p.dtype for p in recipe.model.parameters() if p.requires_grad}
    assert base_dtypes == {expected}
    assert lora_dtypes == {torch.float32}
    assert next(recipe.model.parameters()).device.type == "cuda"
    assert recipe.scaler.is_enabled() == (expected == torch.float16)
    result = recipe.run(lambda _event: None, lambda: False)
    assert result.stopped == "completed"
    assert result.adapter_dir is not None
    assert all(h["eval_loss"] is not None for h in result.history)
    scores = evaluate_before_after(default_model, result.adapter_dir, test, 64, max_new_tokens=4)
    assert scores["adapter"]["exact_match"] >= 0.9
    assert scores["base"]["exact_match"] <= 0.1
