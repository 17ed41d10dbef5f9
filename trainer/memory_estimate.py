"""How much accelerator memory a LoRA fine-tune needs, estimated before it is queued.

A job that would not fit is refused when it is created, with the estimate, rather than
failing with an out-of-memory error hours later. The estimate (bytes), for a model with
``P`` parameters, ``L`` layers, hidden size ``h``, ``a`` attention heads and vocabulary
``V``, trained at batch ``b`` and sequence length ``s``:

- base weights, frozen, in the training dtype: ``P * dtype_bytes``;
- LoRA weights in fp32 with their gradients and AdamW's two moments: ``16`` bytes each,
  for ``2 * r * h`` parameters per adapted matrix (7 matrices per layer for all-linear);
- activations kept for the backward pass, per layer ``s * b * h * (34 + 5 * a * s / h)``
  bytes in 16-bit (Korthikanti et al., "Reducing Activation Recomputation in Large
  Transformer Models", 2022, eq. 2), doubled for fp32;
- the logits and their gradient in fp32: ``2 * b * s * V * 4``;
- 1 GiB for the CUDA context and allocator slack.

It errs high (no gradient checkpointing, no fused loss), which is the safe side for a
refusal that only asks for a smaller batch or sequence length.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

GIB = 1024**3
CONTEXT_BYTES = 1 * GIB
ADAPTED_PER_LAYER = 7
"""q, k, v, o, gate, up, down: what all-linear adapts in a Llama/Qwen layer."""


@dataclass(frozen=True, slots=True)
class ModelShape:
    parameters: int
    layers: int
    hidden: int
    heads: int
    vocab: int

    @classmethod
    def read(cls, model_dir: str | Path, parameters: int) -> ModelShape | None:
        """From the folder's config.json; None when it lacks what the estimate needs."""
        try:
            config = json.loads((Path(model_dir) / "config.json").read_text())
            return cls(
                parameters=parameters,
                layers=int(config["num_hidden_layers"]),
                hidden=int(config["hidden_size"]),
                heads=int(config["num_attention_heads"]),
                vocab=int(config["vocab_size"]),
            )
        except (OSError, ValueError, KeyError, TypeError):
            return None


def training_bytes(
    shape: ModelShape,
    batch: int,
    seq_len: int,
    rank: int,
    adapted_per_layer: int = ADAPTED_PER_LAYER,
    dtype_bytes: int = 2,
) -> int:
    """The estimate of the module's docstring, in bytes."""
    s, b, h, a = seq_len, batch, shape.hidden, shape.heads
    weights = shape.parameters * dtype_bytes
    lora = 2 * rank * h * adapted_per_layer * shape.layers * 16
    per_layer = s * b * h * (34 + 5 * a * s / h) * (dtype_bytes / 2)
    activations = int(per_layer * shape.layers)
    logits = 2 * b * s * shape.vocab * 4
    return weights + lora + activations + logits + CONTEXT_BYTES
