"""Real short LoRA runs on the default model: learning, best checkpoint, resume, divergence."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import pytest
import torch
from safetensors.torch import load_file

from tests.trainer.sft.keyword_task import keyword_splits
from trainer.sft.checkpoints import STATE_FILE, list_checkpoints
from trainer.sft.config import TrainingConfig
from trainer.sft.evaluate import evaluate_before_after
from trainer.sft.loop import TrainingDiverged
from trainer.sft.recipe import train

ADAPTER_FILE = "adapter_model.safetensors"
EVENT_KEYS = {"step", "epoch", "train_loss", "eval_loss", "learning_rate", "tokens_per_second"}


def adapter_weights(folder: Path) -> dict[str, torch.Tensor]:
    return dict(load_file(str(folder / ADAPTER_FILE)))


def test_learns_keyword_task(default_model: Path, tmp_path: Path) -> None:
    train_set, validation, test = keyword_splits((200, 40, 40))
    config = TrainingConfig(
        epochs=3, batch_size=8, learning_rate=3e-3, max_seq_len=64, eval_every_steps=None
    )
    events: list[dict[str, Any]] = []
    result = train(default_model, train_set, validation, tmp_path, config, on_event=events.append)
    assert result.stopped == "completed"
    assert result.steps == result.total_steps == 75
    assert result.adapter_dir == tmp_path / "adapter"
    assert (result.adapter_dir / "adapter_config.json").is_file()
    assert not (result.adapter_dir / STATE_FILE).exists()
    assert result.tokens_per_second > 0
    assert result.padding_ratio < 0.1
    steps = [e for e in events if e["type"] == "step"]
    assert len(steps) == 75
    assert steps[0].keys() >= EVENT_KEYS
    assert steps[-1]["progress"] == 1.0
    assert [e["step"] for e in events if e["type"] == "eval"] == [25, 50, 75]
    scores = evaluate_before_after(default_model, result.adapter_dir, test, 64, max_new_tokens=4)
    assert scores["base"]["exact_match"] <= 0.1
    assert scores["adapter"]["exact_match"] >= 0.9
    assert scores["adapter"]["mean_loss"] is not None
    assert scores["base"]["mean_loss"] is not None
    assert scores["adapter"]["mean_loss"] < scores["base"]["mean_loss"]


def script_eval_losses(monkeypatch: pytest.MonkeyPatch, losses: list[float]) -> None:
    """Make the recipe's evaluations return ``losses`` in order (training itself is real)."""
    scripted = iter(losses)
    monkeypatch.setattr(
        "trainer.sft.recipe.mean_eval_loss", lambda _model, _batches: next(scripted)
    )


def test_best_checkpoint_is_lowest_eval_loss_not_last(
    default_model: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    script_eval_losses(monkeypatch, [5.0, 3.0, 4.0, 6.0])
    train_set, validation = keyword_splits((32, 8))
    config = TrainingConfig(epochs=1, batch_size=2, max_seq_len=64, eval_every_steps=4)
    result = train(default_model, train_set, validation, tmp_path, config)
    assert [h["step"] for h in result.history] == [4, 8, 12, 16]
    assert (result.best_step, result.best_eval_loss) == (8, 3.0)
    kept = list_checkpoints(tmp_path)
    assert set(kept) == {8, 16}
    assert result.adapter_dir is not None
    published = adapter_weights(result.adapter_dir)
    best = adapter_weights(kept[8])
    last = adapter_weights(kept[16])
    assert best
    assert published.keys() == best.keys()
    assert all(torch.equal(published[name], best[name]) for name in best)
    assert not all(torch.equal(published[name], last[name]) for name in last)


def test_early_stopping_after_patience(
    default_model: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    script_eval_losses(monkeypatch, [5.0, 4.0, 4.5, 4.2, 1.0])
    train_set, validation = keyword_splits((32, 8))
    config = TrainingConfig(
        epochs=1, batch_size=2, max_seq_len=64, eval_every_steps=2, early_stopping_patience=2
    )
    result = train(default_model, train_set, validation, tmp_path, config)
    assert (result.stopped, result.steps, result.best_step) == ("early_stopping", 8, 4)
    assert [h["improved"] for h in result.history] == [True, True, False, False]


def test_resume_after_interruption_matches_uninterrupted(
    default_model: Path, tmp_path: Path
) -> None:
    train_set, validation = keyword_splits((50, 10))
    config = TrainingConfig(
        epochs=2, batch_size=8, learning_rate=2e-3, max_seq_len=64, eval_every_steps=4
    )
    whole = train(default_model, train_set, validation, tmp_path / "whole", config)

    polls = 0

    def stop_at_step_6() -> bool:
        nonlocal polls
        polls += 1
        return polls > 6

    out = tmp_path / "interrupted"
    first = train(default_model, train_set, validation, out, config, should_stop=stop_at_step_6)
    assert (first.stopped, first.steps, first.adapter_dir) == ("cancelled", 6, None)
    assert 6 in list_checkpoints(out)
    events: list[dict[str, Any]] = []
    second = train(default_model, train_set, validation, out, config, on_event=events.append)
    assert events[0]["step"] == 7
    assert (second.stopped, second.steps) == ("completed", whole.steps)
    assert second.tokens_trained == whole.tokens_trained
    assert [h["step"] for h in second.history] == [h["step"] for h in whole.history]
    for resumed, straight in zip(second.history, whole.history, strict=True):
        assert math.isclose(resumed["eval_loss"], straight["eval_loss"], rel_tol=1e-5)
    assert second.adapter_dir is not None
    assert whole.adapter_dir is not None
    resumed_weights = adapter_weights(second.adapter_dir)
    for name, tensor in adapter_weights(whole.adapter_dir).items():
        torch.testing.assert_close(resumed_weights[name], tensor, rtol=1e-4, atol=1e-6)


def test_resume_with_other_settings_is_refused(default_model: Path, tmp_path: Path) -> None:
    train_set, validation = keyword_splits((16, 8))
    config = TrainingConfig(epochs=1, batch_size=8, max_seq_len=64)
    train(default_model, train_set, validation, tmp_path, config)
    other = TrainingConfig(epochs=1, batch_size=4, max_seq_len=64)
    with pytest.raises(ValueError, match="other settings"):
        train(default_model, train_set, validation, tmp_path, other)


def test_nan_loss_raises_training_diverged(
    default_model: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from trainer.sft.model import load_lora_model

    forwards = 0

    def poison_third_forward(_module: Any, _inputs: Any, output: Any) -> Any:
        nonlocal forwards
        forwards += 1
        return output * float("nan") if forwards == 3 else output

    def loader_with_nan(*args: Any) -> tuple[Any, Any]:
        model, tokenizer = load_lora_model(*args)
        model.get_output_embeddings().register_forward_hook(poison_third_forward)
        return model, tokenizer

    monkeypatch.setattr("trainer.sft.recipe.load_lora_model", loader_with_nan)
    train_set, validation = keyword_splits((32, 8))
    config = TrainingConfig(epochs=1, batch_size=4, max_seq_len=64, eval_every_steps=None)
    with pytest.raises(TrainingDiverged, match="step 3: loss is nan") as caught:
        train(default_model, train_set, validation, tmp_path, config)
    assert caught.value.step == 3
    assert not (tmp_path / "adapter").exists()


def test_without_validation_the_last_checkpoint_is_published(
    default_model: Path, tmp_path: Path
) -> None:
    train_set = keyword_splits((16,))[0]
    config = TrainingConfig(epochs=1, batch_size=4, max_seq_len=64, eval_every_steps=None)
    result = train(default_model, train_set, [], tmp_path, config)
    assert (result.stopped, result.steps, result.best_step) == ("completed", 4, None)
    assert result.adapter_dir is not None
    published = adapter_weights(result.adapter_dir)
    last = adapter_weights(list_checkpoints(tmp_path)[4])
    assert last
    assert published.keys() == last.keys()
    assert all(torch.equal(published[name], last[name]) for name in last)


def test_cancel_before_the_first_step_then_resume(default_model: Path, tmp_path: Path) -> None:
    train_set, validation = keyword_splits((16, 4))
    config = TrainingConfig(epochs=1, batch_size=4, max_seq_len=64)
    cancelled = train(
        default_model, train_set, validation, tmp_path, config, should_stop=lambda: True
    )
    assert (cancelled.stopped, cancelled.steps) == ("cancelled", 0)
    assert not (tmp_path / "adapter").exists()
    resumed = train(default_model, train_set, validation, tmp_path, config)
    assert (resumed.stopped, resumed.steps) == ("completed", 4)
    assert (tmp_path / "adapter" / ADAPTER_FILE).is_file()
