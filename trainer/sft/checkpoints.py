"""Checkpoints of a run: ``out_dir/checkpoints/step-N/`` = peft adapter + ``trainer_state.pt``.

A checkpoint is written to a staging folder and renamed, so a crash never leaves half of one.
"""

from __future__ import annotations

import re
import shutil
import tempfile
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import torch

STATE_FILE = "trainer_state.pt"
_STEP_DIR = re.compile(r"^step-(\d+)$")


@dataclass
class RunState:
    """Everything besides weights that a resumed run needs to continue exactly."""

    step: int = 0
    best_step: int | None = None
    best_eval_loss: float | None = None
    evals_without_improvement: int = 0
    tokens_trained: int = 0
    train_seconds: float = 0.0
    history: list[dict[str, Any]] = field(default_factory=list)
    config_fingerprint: str = ""


def checkpoints_dir(out_dir: Path) -> Path:
    return out_dir / "checkpoints"


def checkpoint_path(out_dir: Path, step: int) -> Path:
    return checkpoints_dir(out_dir) / f"step-{step}"


def list_checkpoints(out_dir: Path) -> dict[int, Path]:
    """Complete checkpoints by step."""
    found: dict[int, Path] = {}
    root = checkpoints_dir(out_dir)
    if not root.is_dir():
        return found
    for child in root.iterdir():
        match = _STEP_DIR.match(child.name)
        if match and (child / STATE_FILE).is_file():
            found[int(match.group(1))] = child
    return found


def latest_checkpoint(out_dir: Path) -> Path | None:
    found = list_checkpoints(out_dir)
    return found[max(found)] if found else None


def save_checkpoint(
    out_dir: Path, model: Any, optimizer: Any, scheduler: Any, state: RunState
) -> Path:
    """Write the adapter and the trainer state for ``state.step``; return the folder."""
    final = checkpoint_path(out_dir, state.step)
    final.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=".staging-", dir=final.parent))
    try:
        model.save_pretrained(staging)
        payload = {
            "run": asdict(state),
            "optimizer": optimizer.state_dict(),
            "scheduler": scheduler.state_dict(),
            "torch_rng": torch.get_rng_state(),
            "cuda_rng": torch.cuda.get_rng_state_all() if torch.cuda.is_available() else None,
        }
        torch.save(payload, staging / STATE_FILE)
        if final.exists():
            shutil.rmtree(final)
        staging.rename(final)
    finally:
        if staging.exists():
            shutil.rmtree(staging, ignore_errors=True)
    return final


def load_checkpoint(path: Path, model: Any, optimizer: Any, scheduler: Any) -> RunState:
    """Restore adapter weights, optimizer, scheduler and RNG from ``path``; return the state."""
    from peft import set_peft_model_state_dict
    from safetensors.torch import load_file

    weights = load_file(str(path / "adapter_model.safetensors"))
    set_peft_model_state_dict(model, weights)
    payload = torch.load(path / STATE_FILE, map_location="cpu", weights_only=True)
    optimizer.load_state_dict(payload["optimizer"])
    scheduler.load_state_dict(payload["scheduler"])
    torch.set_rng_state(payload["torch_rng"])
    if payload["cuda_rng"] is not None and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(payload["cuda_rng"])
    return RunState(**payload["run"])


def prune_checkpoints(out_dir: Path, keep_steps: set[int]) -> None:
    """Delete every checkpoint whose step is not in ``keep_steps``."""
    for step, path in list_checkpoints(out_dir).items():
        if step not in keep_steps:
            shutil.rmtree(path, ignore_errors=True)


def publish_adapter(checkpoint: Path, destination: Path) -> Path:
    """Copy a checkpoint's adapter files (not its trainer state) to ``destination``."""
    staging = destination.with_name(f".{destination.name}.staging")
    if staging.exists():
        shutil.rmtree(staging)
    shutil.copytree(checkpoint, staging, ignore=shutil.ignore_patterns(STATE_FILE))
    if destination.exists():
        shutil.rmtree(destination)
    staging.rename(destination)
    return destination
