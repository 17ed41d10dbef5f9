"""Load a Hugging Face causal LM folder (or id) with its tokenizer, and wrap it in peft LoRA."""

from __future__ import annotations

from typing import Any

from trainer.sft.config import LoraSettings


def load_base_model(base_model_path: str, dtype: Any) -> tuple[Any, Any]:
    """The base causal LM (in ``dtype``) and its tokenizer."""
    from transformers import AutoModelForCausalLM, AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(base_model_path)
    model = AutoModelForCausalLM.from_pretrained(base_model_path, dtype=dtype)
    return model, tokenizer


def load_lora_model(base_model_path: str, lora: LoraSettings, dtype: Any) -> tuple[Any, Any]:
    """The base model with fresh LoRA layers (only they are trainable), and its tokenizer."""
    from peft import LoraConfig, get_peft_model

    model, tokenizer = load_base_model(base_model_path, dtype)
    peft_config = LoraConfig(
        r=lora.r,
        lora_alpha=lora.alpha,
        lora_dropout=lora.dropout,
        target_modules=lora.target_module_names(),
        modules_to_save=list(lora.modules_to_save) or None,
        bias="none",
        task_type="CAUSAL_LM",
    )
    return get_peft_model(model, peft_config), tokenizer


def pad_token_id(tokenizer: Any) -> int:
    """The id used for padding: the tokenizer's pad token, else its EOS, else 0."""
    for candidate in (tokenizer.pad_token_id, tokenizer.eos_token_id):
        if candidate is not None:
            return int(candidate)
    return 0
