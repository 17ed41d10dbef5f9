"""The embedded default base model: a tiny random-weights Llama made locally, no download.

It exists so the whole product (serving, fine-tuning, adapters) can be tried on any machine.
Its weights are random: it answers gibberish until fine-tuned. Everything is derived from a
seed, so two machines that run ``loragate init-model`` get the same files.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from pathlib import Path

from trainer import model_folder
from trainer.chat_template import DEFAULT_CHAT_TEMPLATE, END_OF_TEXT, IM_END, IM_START
from trainer.model_folder import MARKER_FILE
from trainer.tokenizer_corpus import corpus_lines

__all__ = ["MARKER_FILE", "DefaultModelSpec", "ensure_default_model", "is_complete"]


@dataclass(frozen=True)
class DefaultModelSpec:
    """Shape of the default model. head_dim must be 64: vLLM's CPU kernels refuse 16."""

    seed: int = 0
    vocab_size: int = 2048
    hidden_size: int = 128
    intermediate_size: int = 384
    num_layers: int = 2
    num_heads: int = 2
    max_position_embeddings: int = 2048

    @property
    def head_dim(self) -> int:
        return self.hidden_size // self.num_heads


def is_complete(path: Path, spec: DefaultModelSpec | None = None) -> bool:
    """True when ``path`` holds a finished default model made from ``spec``."""
    return model_folder.is_complete(path, asdict(spec or DefaultModelSpec()))


def ensure_default_model(path: Path, spec: DefaultModelSpec | None = None) -> Path:
    """Create the default model at ``path`` unless it is already there; return ``path``."""
    spec = spec or DefaultModelSpec()
    return model_folder.ensure_model_folder(path, asdict(spec), lambda out: _build(out, spec))


def _build(out: Path, spec: DefaultModelSpec) -> None:
    tokenizer = _train_tokenizer(spec)
    tokenizer.save_pretrained(out)
    _init_model(spec, tokenizer).save_pretrained(out, safe_serialization=True)


def _train_tokenizer(spec: DefaultModelSpec):  # type: ignore[no-untyped-def]
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
    from transformers import PreTrainedTokenizerFast

    specials = [END_OF_TEXT, IM_START, IM_END]
    raw = Tokenizer(models.BPE())
    raw.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    raw.decoder = decoders.ByteLevel()
    bpe_trainer = trainers.BpeTrainer(
        vocab_size=spec.vocab_size,
        special_tokens=specials,
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
        show_progress=False,
    )
    raw.train_from_iterator(corpus_lines(), trainer=bpe_trainer)
    tokenizer = PreTrainedTokenizerFast(
        tokenizer_object=raw,
        eos_token=IM_END,
        pad_token=END_OF_TEXT,
        bos_token=None,
        unk_token=None,
        model_max_length=spec.max_position_embeddings,
    )
    tokenizer.chat_template = DEFAULT_CHAT_TEMPLATE
    return tokenizer


def _init_model(spec: DefaultModelSpec, tokenizer):  # type: ignore[no-untyped-def]
    import torch
    from transformers import GenerationConfig, LlamaConfig, LlamaForCausalLM

    config = LlamaConfig(
        vocab_size=len(tokenizer),
        hidden_size=spec.hidden_size,
        intermediate_size=spec.intermediate_size,
        num_hidden_layers=spec.num_layers,
        num_attention_heads=spec.num_heads,
        num_key_value_heads=spec.num_heads,
        head_dim=spec.head_dim,
        max_position_embeddings=spec.max_position_embeddings,
        tie_word_embeddings=False,
        eos_token_id=tokenizer.eos_token_id,
        pad_token_id=tokenizer.pad_token_id,
        bos_token_id=None,
        torch_dtype="float32",
    )
    torch.manual_seed(spec.seed)
    model = LlamaForCausalLM(config).to(torch.float32)
    model.generation_config = GenerationConfig(
        eos_token_id=tokenizer.eos_token_id, pad_token_id=tokenizer.pad_token_id
    )
    return model
