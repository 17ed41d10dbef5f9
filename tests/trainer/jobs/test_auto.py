"""The "auto" hyperparameter rule meets its anchors."""

from __future__ import annotations

from pathlib import Path

import pytest

from trainer.jobs.auto import auto_batch_size, auto_epochs, auto_values, fill_auto
from trainer.model_size import parameter_count

SEVEN_B = 7_000_000_000


def test_the_tiny_default_model_keeps_today_s_defaults(tiny_model: Path) -> None:
    parameters = parameter_count(tiny_model)
    assert parameters is not None
    assert 500_000 < parameters < 2_000_000  # the "1M-parameter" default model
    values = auto_values(1000, parameters)
    assert (values.n_epochs, values.batch_size, values.learning_rate) == (3, 8, 1e-3)
    assert values.learning_rate_multiplier == 1.0


def test_a_7b_model_on_1000_examples_gets_a_lora_rate() -> None:
    assert 1e-4 <= auto_values(1000, SEVEN_B).learning_rate <= 2e-4


def test_bigger_models_get_lower_rates_within_bounds() -> None:
    rates = [auto_values(1000, n).learning_rate for n in (10**6, 10**8, 10**9, SEVEN_B, 7 * 10**10)]
    assert rates == sorted(rates, reverse=True)
    assert rates[-1] >= 5e-5
    assert auto_values(1000, None).learning_rate == auto_values(1000, SEVEN_B).learning_rate


@pytest.mark.parametrize(("small", "large"), [(10, 1000), (20, 100_000), (30, 20_000)])
def test_small_datasets_get_more_epochs(small: int, large: int) -> None:
    assert auto_epochs(small) > auto_epochs(large)


def test_epochs_and_batch_sizes_stay_in_range() -> None:
    assert auto_epochs(1) == 25
    assert auto_epochs(1_000_000) == 1
    assert [auto_batch_size(n) for n in (0, 100, 4000, 10_000, 10**7)] == [8, 8, 8, 32, 64]


def test_fill_auto_keeps_what_was_given() -> None:
    values, record = fill_auto({"n_epochs": 2}, 1000, SEVEN_B)
    assert values["n_epochs"] == 2
    assert values["batch_size"] == 8
    assert record["resolved"] == ["batch_size", "learning_rate", "learning_rate_multiplier"]
    assert (record["train_examples"], record["base_model_parameters"]) == (1000, SEVEN_B)


def test_parameter_count_of_a_folder_without_weights(tmp_path: Path) -> None:
    assert parameter_count(tmp_path) is None
    (tmp_path / "bad.safetensors").write_bytes(b"\x05")
    assert parameter_count(tmp_path) is None
