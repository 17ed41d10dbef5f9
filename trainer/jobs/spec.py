"""What a job trains with: its hyperparameters, checked before anything is queued.

Stored as JSON in the job row (OpenAI's ``n_epochs``, ``batch_size`` and
``learning_rate_multiplier`` plus loragate's own fields) and turned into the SFT recipe's
``TrainingConfig`` by the worker.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from pydantic import BaseModel, ConfigDict, Field

from adapters.lora_rules import modules_to_save_problem, rank_problem, targets_problem

if TYPE_CHECKING:
    from trainer.sft.config import TrainingConfig

ALL_LINEAR = "all-linear"
MAX_EPOCHS = 1000


class LoraSpec(BaseModel):
    model_config = ConfigDict(extra="forbid")

    r: int = Field(16, description="Rank of the LoRA update matrices.")
    alpha: int = Field(32, description="Scale numerator: the update is scaled by alpha/r.")
    dropout: float = Field(0.05, description="Dropout on the LoRA input while training.")
    target_modules: str | list[str] = Field(
        ALL_LINEAR, description="'all-linear' or the names of the linear layers to adapt."
    )
    modules_to_save: list[str] = Field(
        default_factory=list, description="Fully trained modules: refused, vLLM cannot serve."
    )


class JobSpec(BaseModel):
    """Resolved hyperparameters of one job (no 'auto' left)."""

    model_config = ConfigDict(extra="forbid")

    n_epochs: int = 3
    batch_size: int = 8
    learning_rate: float = 1e-3
    learning_rate_multiplier: float = 1.0
    max_seq_len: int = 1024
    eval_every_steps: int | None = 50
    early_stopping_patience: int | None = None
    lora: LoraSpec = Field(default_factory=LoraSpec)
    auto: dict[str, Any] | None = Field(
        None, description="Which values were 'auto' and what they were resolved from."
    )

    def problems(self, max_lora_rank: int) -> list[tuple[str, str]]:
        """Every reason to refuse the job, as (parameter, message); empty when it is fine."""
        found = _number_problems(self)
        lora = self.lora
        rank = rank_problem(lora.r, max_lora_rank)
        if rank:
            found.append(("lora.r", rank))
        if lora.alpha <= 0:
            found.append(("lora.alpha", f"lora.alpha must be > 0, got {lora.alpha}"))
        if not 0 <= lora.dropout < 1:
            found.append(("lora.dropout", f"lora.dropout must be in [0, 1), got {lora.dropout}"))
        if isinstance(lora.target_modules, str) and lora.target_modules != ALL_LINEAR:
            message = f"target_modules must be '{ALL_LINEAR}' or a list of module names"
            found.append(("lora.target_modules", message))
        elif not lora.target_modules:
            found.append(("lora.target_modules", "target_modules must not be empty"))
        targets = targets_problem(lora.target_modules)
        if targets:
            found.append(("lora.target_modules", targets))
        to_save = modules_to_save_problem(lora.modules_to_save)
        if to_save:
            found.append(("lora.modules_to_save", to_save))
        return found

    def training_config(self, seed: int) -> TrainingConfig:
        from trainer.sft.config import LoraSettings, TrainingConfig

        targets = self.lora.target_modules
        lora = LoraSettings(
            r=self.lora.r,
            alpha=self.lora.alpha,
            dropout=self.lora.dropout,
            target_modules=targets if isinstance(targets, str) else tuple(targets),
        )
        return TrainingConfig(
            epochs=self.n_epochs,
            batch_size=self.batch_size,
            learning_rate=self.learning_rate,
            learning_rate_multiplier=self.learning_rate_multiplier,
            max_seq_len=self.max_seq_len,
            eval_every_steps=self.eval_every_steps,
            early_stopping_patience=self.early_stopping_patience,
            seed=seed,
            lora=lora,
        )


def _number_problems(spec: JobSpec) -> list[tuple[str, str]]:
    found = []
    if not 1 <= spec.n_epochs <= MAX_EPOCHS:
        found.append(("n_epochs", f"n_epochs must be 1 to {MAX_EPOCHS}, got {spec.n_epochs}"))
    at_least_one = {
        "batch_size": spec.batch_size,
        "max_seq_len": spec.max_seq_len,
        "eval_every_steps": spec.eval_every_steps,
        "early_stopping_patience": spec.early_stopping_patience,
    }
    for name, value in at_least_one.items():
        if value is not None and value < 1:
            found.append((name, f"{name} must be >= 1, got {value}"))
    rates = {
        "learning_rate": spec.learning_rate,
        "learning_rate_multiplier": spec.learning_rate_multiplier,
    }
    for rate_name, rate in rates.items():
        if not rate > 0 or rate > 10:
            found.append((rate_name, f"{rate_name} must be > 0 and <= 10, got {rate}"))
    return found
