"""Typed settings of a LoRA SFT run, and the check that its adapter can be served by vLLM."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from adapters.lora_rules import modules_to_save_problem, rank_problem, targets_problem


class NotServable(ValueError):
    """The settings would produce an adapter that the serving engine refuses to load."""


@dataclass(frozen=True)
class LoraSettings:
    """What LoRA adds to the base model (the peft ``LoraConfig`` fields that matter here)."""

    r: int = 16
    """Rank of the low-rank update matrices."""
    alpha: int = 32
    """Scaling numerator: the update is multiplied by ``alpha / r``."""
    dropout: float = 0.05
    """Dropout applied to the LoRA input during training."""
    target_modules: str | Sequence[str] = "all-linear"
    """``"all-linear"`` (every linear layer but the output head) or explicit module names."""
    modules_to_save: Sequence[str] = ()
    """Modules trained in full and saved beside the adapter; vLLM refuses these."""

    def __post_init__(self) -> None:
        if not isinstance(self.target_modules, str):
            object.__setattr__(self, "target_modules", tuple(self.target_modules))
        object.__setattr__(self, "modules_to_save", tuple(self.modules_to_save))
        if self.r < 1:
            raise ValueError(f"LoRA rank must be >= 1, got {self.r}")
        if self.alpha <= 0:
            raise ValueError(f"LoRA alpha must be > 0, got {self.alpha}")
        if not 0.0 <= self.dropout < 1.0:
            raise ValueError(f"LoRA dropout must be in [0, 1), got {self.dropout}")

    def target_module_names(self) -> str | list[str]:
        """The value to pass as peft's ``target_modules``."""
        if isinstance(self.target_modules, str):
            return self.target_modules
        return list(self.target_modules)

    def check_servable(self, max_lora_rank: int) -> None:
        """Raise ``NotServable`` listing every reason vLLM would refuse this adapter (the
        rules are ``adapters.lora_rules``)."""
        problems = [
            problem
            for problem in (
                rank_problem(self.r, max_lora_rank),
                modules_to_save_problem(self.modules_to_save),
                self._targets_problem(),
            )
            if problem
        ]
        if problems:
            raise NotServable("; ".join(problems))

    def _targets_problem(self) -> str | None:
        if isinstance(self.target_modules, str):
            if self.target_modules != "all-linear":
                return f"target_modules {self.target_modules!r}: use 'all-linear' or names"
            return None
        return targets_problem(self.target_modules)


@dataclass(frozen=True)
class TrainingConfig:
    """How to fine-tune: optimisation, data shaping, evaluation and stopping."""

    epochs: int = 3
    """Full passes over the training conversations."""
    batch_size: int = 8
    """Conversations per optimizer step."""
    learning_rate: float = 2e-4
    """Peak learning rate of AdamW, before ``learning_rate_multiplier``."""
    learning_rate_multiplier: float = 1.0
    """Scales ``learning_rate`` (the OpenAI fine-tuning API's knob)."""
    max_seq_len: int = 1024
    """Tokens kept per conversation; the rest is cut off."""
    eval_every_steps: int | None = 50
    """Evaluate and checkpoint every this many steps (and at each epoch end); None: epoch ends."""
    seed: int = 0
    """Seeds LoRA initialisation, dropout and batch order."""
    early_stopping_patience: int | None = None
    """Stop after this many evaluations without a lower eval loss; None: never stop early."""
    grad_clip: float | None = 1.0
    """Max global gradient norm; None: no clipping."""
    warmup_ratio: float = 0.03
    """Share of all steps spent warming the learning rate up linearly from 0."""
    weight_decay: float = 0.0
    """AdamW decoupled weight decay."""
    log_every_steps: int = 1
    """Send a ``step`` event every this many steps."""
    keep_all_checkpoints: bool = False
    """Keep every checkpoint; otherwise only the best and the latest are kept."""
    lora: LoraSettings = field(default_factory=LoraSettings)

    def __post_init__(self) -> None:
        positive = {
            "epochs": self.epochs,
            "batch_size": self.batch_size,
            "max_seq_len": self.max_seq_len,
            "log_every_steps": self.log_every_steps,
        }
        for name, value in positive.items():
            if value < 1:
                raise ValueError(f"{name} must be >= 1, got {value}")
        if self.effective_learning_rate <= 0:
            raise ValueError("learning rate must be > 0")
        if not 0.0 <= self.warmup_ratio < 1.0:
            raise ValueError(f"warmup_ratio must be in [0, 1), got {self.warmup_ratio}")
        if self.eval_every_steps is not None and self.eval_every_steps < 1:
            raise ValueError(f"eval_every_steps must be >= 1 or None, got {self.eval_every_steps}")
        if self.early_stopping_patience is not None and self.early_stopping_patience < 1:
            raise ValueError("early_stopping_patience must be >= 1 or None")

    @property
    def effective_learning_rate(self) -> float:
        return self.learning_rate * self.learning_rate_multiplier

    def check_servable(self, max_lora_rank: int) -> None:
        """Refuse, before training, settings whose adapter vLLM could not serve."""
        self.lora.check_servable(max_lora_rank)
