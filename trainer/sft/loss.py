"""The training loss, computing the output head only where a label is.

With assistant-only labels most positions carry no loss, yet a causal LM's forward applies
the output head (hidden x vocabulary) at every position: on a small model with a large
vocabulary that head is most of the compute (Qwen's 151,646-token head is 98% of the tiny
Qwen2's weights). Here the decoder runs as usual, and the head and the cross-entropy run only
on the hidden states that predict a label: the same mean token loss as
``model(..., labels=...).loss``, for a fraction of the work. Models whose logits are more than
``lm_head(hidden)`` (soft-capping, a logit scale) take the plain path.
"""

from __future__ import annotations

from typing import Any

import torch

from trainer.sft.batching import Batch
from trainer.sft.tokenize import IGNORE_INDEX

_LOGIT_TRANSFORMS = ("final_logit_softcapping", "logit_scale", "output_multiplier_scale")


def causal_lm(model: Any) -> Any:
    """The transformers causal LM inside a peft wrapper (or the model itself)."""
    get_base = getattr(model, "get_base_model", None)
    return get_base() if callable(get_base) else model


def head_only_on_labels(model: Any) -> bool:
    """True when logits are exactly ``output_embeddings(decoder(x))`` for this model."""
    lm = causal_lm(model)
    config = getattr(lm, "config", None)
    if config is None or any(getattr(config, name, None) for name in _LOGIT_TRANSFORMS):
        return False
    if hasattr(lm, "logit_scale") or not callable(getattr(lm, "get_decoder", None)):
        return False
    return lm.get_output_embeddings() is not None


def label_token_loss(model: Any, batch: Batch) -> Any:
    """Mean cross-entropy over the batch's label tokens (labels shifted inside, as HF does)."""
    if not head_only_on_labels(model):
        return model(
            input_ids=batch.input_ids, attention_mask=batch.attention_mask, labels=batch.labels
        ).loss
    lm = causal_lm(model)
    hidden = lm.get_decoder()(
        input_ids=batch.input_ids, attention_mask=batch.attention_mask, use_cache=False
    ).last_hidden_state
    targets = batch.labels[:, 1:]
    keep = targets != IGNORE_INDEX
    if not keep.any():
        return hidden.sum() * 0.0  # nothing to learn from here; keeps the graph connected
    logits = lm.get_output_embeddings()(hidden[:, :-1][keep])
    return torch.nn.functional.cross_entropy(logits.float(), targets[keep])
