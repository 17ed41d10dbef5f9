"""The LoRA SFT recipe: chat conversations + a base model folder -> the best adapter.

Reads top to bottom: set up (model, data, optimizer, maybe resume), then the loop (step, log,
evaluate + checkpoint, stop early or on request), then publish the checkpoint with the lowest
eval loss to ``out_dir/adapter``.
"""

from __future__ import annotations

import hashlib
import json
import time
from dataclasses import asdict
from pathlib import Path
from typing import Any

import torch

from trainer.sft import checkpoints as ckpt
from trainer.sft.batching import (
    Batch,
    batches_per_epoch,
    collate,
    length_grouped_batches,
    padding_ratio,
)
from trainer.sft.config import TrainingConfig
from trainer.sft.loop import (
    make_grad_scaler,
    make_optimizer,
    make_scheduler,
    mean_eval_loss,
    pick_device_and_dtype,
    train_step,
)
from trainer.sft.model import load_lora_model, pad_token_id
from trainer.sft.result import Event, EventCallback, StopCheck, TrainResult
from trainer.sft.tokenize import Conversation, TokenizedExample, tokenize_conversations


def train(
    base_model_path: str | Path,
    train: list[Conversation],
    validation: list[Conversation],
    out_dir: Path,
    config: TrainingConfig | None = None,
    on_event: EventCallback | None = None,
    should_stop: StopCheck | None = None,
) -> TrainResult:
    """Fine-tune ``base_model_path`` with LoRA on ``train``; resume if ``out_dir`` has a run."""
    recipe = SFTRecipe(str(base_model_path), train, validation, Path(out_dir), config)
    return recipe.run(on_event or (lambda _event: None), should_stop or (lambda: False))


def _fingerprint(config: TrainingConfig, examples: list[TokenizedExample], base: str) -> str:
    """Identifies what a checkpoint's trajectory depends on: settings, data and base model."""
    settings = asdict(config)
    for cosmetic in ("log_every_steps", "keep_all_checkpoints", "early_stopping_patience"):
        settings.pop(cosmetic)
    digest = hashlib.sha256(json.dumps([settings, base], sort_keys=True).encode())
    for example in examples:
        digest.update(json.dumps([example.input_ids, example.labels]).encode())
    return digest.hexdigest()[:16]


class SFTRecipe:
    """One training run; ``run`` may be called once."""

    def __init__(
        self,
        base_model_path: str,
        train: list[Conversation],
        validation: list[Conversation],
        out_dir: Path,
        config: TrainingConfig | None,
    ) -> None:
        self.config = config or TrainingConfig()
        self.out_dir = out_dir
        self.device, self.dtype = pick_device_and_dtype()
        torch.manual_seed(self.config.seed)
        self.model, self.tokenizer = load_lora_model(base_model_path, self.config.lora, self.dtype)
        self.model.to(self.device)
        self.pad_id = pad_token_id(self.tokenizer)
        self._setup_data(train, validation)
        self.total_steps = self.config.epochs * self.steps_per_epoch
        self.optimizer = make_optimizer(self.model, self.config)
        self.scheduler = make_scheduler(self.optimizer, self.config, self.total_steps)
        self.scaler = make_grad_scaler(self.device, self.dtype)
        fingerprint = _fingerprint(self.config, self.train_examples, base_model_path)
        self.state = ckpt.RunState(config_fingerprint=fingerprint)
        self._resume_if_possible()
        self.last_train_loss: float | None = None
        self.on_event: EventCallback = lambda _event: None

    def _setup_data(self, train: list[Conversation], validation: list[Conversation]) -> None:
        max_len = self.config.max_seq_len
        train_set = tokenize_conversations(self.tokenizer, train, max_len)
        if not train_set.examples:
            raise ValueError("no training example has an assistant token to learn from")
        self.train_examples: list[TokenizedExample] = train_set.examples
        self.dropped_examples = train_set.dropped_without_trainable_tokens
        self.lengths = [example.length for example in self.train_examples]
        self.steps_per_epoch = batches_per_epoch(len(self.lengths), self.config.batch_size)
        val = tokenize_conversations(self.tokenizer, validation, max_len).examples
        val.sort(key=lambda example: example.length)
        size = self.config.batch_size
        self.val_batches: list[Batch] = [
            collate(val[i : i + size], self.pad_id).to(self.device)
            for i in range(0, len(val), size)
        ]

    def _resume_if_possible(self) -> None:
        latest = ckpt.latest_checkpoint(self.out_dir)
        if latest is None:
            return
        state = ckpt.load_checkpoint(latest, self.model, self.optimizer, self.scheduler)
        if state.config_fingerprint != self.state.config_fingerprint:
            raise ValueError(f"{self.out_dir} holds a run with other settings or data")
        self.state = state

    # -- the loop ---------------------------------------------------------------------------

    def run(self, on_event: EventCallback, should_stop: StopCheck) -> TrainResult:
        self.on_event = on_event
        if self._patience_exhausted():
            return self._finish("early_stopping")
        start_epoch, skip = divmod(self.state.step, self.steps_per_epoch)
        for epoch in range(start_epoch, self.config.epochs):
            order = length_grouped_batches(
                self.lengths, self.config.batch_size, self.config.seed, epoch
            )
            for indices in order[skip:]:
                if should_stop():
                    self._save_checkpoint()
                    return self._finish("cancelled")
                self._one_step(indices)
                if self._eval_due() and self._evaluate_and_checkpoint():
                    return self._finish("early_stopping")
            skip = 0
        return self._finish("completed")

    def _one_step(self, indices: list[int]) -> None:
        started = time.perf_counter()
        batch = collate([self.train_examples[i] for i in indices], self.pad_id).to(self.device)
        lr = float(self.scheduler.get_last_lr()[0])
        step = self.state.step + 1
        loss = train_step(
            self.model,
            batch,
            self.optimizer,
            self.scheduler,
            self.config.grad_clip,
            step,
            self.scaler,
        )
        self.state.step += 1
        self.state.tokens_trained += batch.real_tokens
        self.state.train_seconds += time.perf_counter() - started
        self.last_train_loss = loss
        if self.state.step % self.config.log_every_steps == 0:
            self._emit("step", train_loss=loss, learning_rate=lr)

    def _eval_due(self) -> bool:
        every = self.config.eval_every_steps
        at_epoch_end = self.state.step % self.steps_per_epoch == 0
        return at_epoch_end or (every is not None and self.state.step % every == 0)

    def _evaluate_and_checkpoint(self) -> bool:
        """Evaluate, checkpoint, track the best; True when early stopping says stop."""
        loss = mean_eval_loss(self.model, self.val_batches)
        state = self.state
        improved = loss is not None and (
            state.best_eval_loss is None or loss < state.best_eval_loss
        )
        if improved:
            state.best_step, state.best_eval_loss = state.step, loss
            state.evals_without_improvement = 0
        elif loss is not None:
            state.evals_without_improvement += 1
        state.history.append({"step": state.step, "eval_loss": loss, "improved": improved})
        path = self._save_checkpoint()
        self._emit("eval", train_loss=self.last_train_loss, eval_loss=loss, checkpoint=str(path))
        return self._patience_exhausted()

    def _patience_exhausted(self) -> bool:
        patience = self.config.early_stopping_patience
        return patience is not None and self.state.evals_without_improvement >= patience

    def _save_checkpoint(self) -> Path:
        path = ckpt.save_checkpoint(
            self.out_dir, self.model, self.optimizer, self.scheduler, self.state
        )
        if not self.config.keep_all_checkpoints:
            keep = {self.state.step} | ({self.state.best_step} - {None})
            ckpt.prune_checkpoints(self.out_dir, {s for s in keep if s is not None})
        return path

    # -- reporting ----------------------------------------------------------------------------

    def _tokens_per_second(self) -> float:
        seconds = self.state.train_seconds
        return self.state.tokens_trained / seconds if seconds > 0 else 0.0

    def _emit(self, kind: str, **values: Any) -> None:
        event: Event = {
            "type": kind,
            "step": self.state.step,
            "total_steps": self.total_steps,
            "epoch": self.state.step / self.steps_per_epoch,
            "train_loss": None,
            "eval_loss": None,
            "learning_rate": None,
            "tokens_trained": self.state.tokens_trained,
            "tokens_per_second": self._tokens_per_second(),
            "progress": self.state.step / self.total_steps,
        }
        event.update(values)
        self.on_event(event)

    def _finish(self, stopped: str) -> TrainResult:
        adapter_dir = None if stopped == "cancelled" else self._publish_best()
        result = TrainResult(
            adapter_dir=adapter_dir,
            stopped=stopped,
            steps=self.state.step,
            total_steps=self.total_steps,
            best_step=self.state.best_step,
            best_eval_loss=self.state.best_eval_loss,
            tokens_trained=self.state.tokens_trained,
            tokens_per_second=self._tokens_per_second(),
            train_seconds=self.state.train_seconds,
            train_examples=len(self.train_examples),
            dropped_examples=self.dropped_examples,
            padding_ratio=self._padding_ratio(),
            history=list(self.state.history),
        )
        self._emit("done", stopped=stopped, adapter_dir=str(adapter_dir) if adapter_dir else None)
        return result

    def _publish_best(self) -> Path:
        """Copy the lowest-eval-loss checkpoint (the latest when never evaluated) to adapter/."""
        found = ckpt.list_checkpoints(self.out_dir)
        step = self.state.best_step
        if step is None or step not in found:
            if self.state.step not in found:
                self._save_checkpoint()
                found = ckpt.list_checkpoints(self.out_dir)
            step = self.state.step
        return ckpt.publish_adapter(found[step], self.out_dir / "adapter")

    def _padding_ratio(self) -> float:
        order = length_grouped_batches(self.lengths, self.config.batch_size, self.config.seed, 0)
        return padding_ratio(order, self.lengths)
