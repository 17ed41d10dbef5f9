"""A LoRA adapter for the default model without training: peft with random B matrices.

Its outputs differ from the base model's, which is all the serving tests need; the
fine-tuning tests train real ones.
"""

from __future__ import annotations

from pathlib import Path

from adapters.record import AdapterRecord, adapter_name
from adapters.registry import AdapterRegistry
from trainer.chat_template import template_hash


def make_random_adapter(base_model_dir: Path, out_dir: Path, seed: int = 0, rank: int = 16) -> Path:
    import torch
    from peft import LoraConfig, get_peft_model
    from transformers import AutoModelForCausalLM

    torch.manual_seed(seed)
    model = AutoModelForCausalLM.from_pretrained(base_model_dir, dtype=torch.float32)
    config = LoraConfig(
        r=rank, lora_alpha=2 * rank, target_modules="all-linear", init_lora_weights=False
    )
    peft_model = get_peft_model(model, config)
    with torch.no_grad():  # make the adapter's effect large enough to change greedy outputs
        for name, param in peft_model.named_parameters():
            if "lora_B" in name:
                param.mul_(20.0)
    peft_model.save_pretrained(out_dir)
    return out_dir


def publish_random_adapter(
    base_model_dir: Path,
    registry_dir: Path,
    work_dir: Path,
    suffix: str,
    seed: int = 0,
    owner: str | None = None,
) -> AdapterRecord:
    """A random adapter in the registry; ``owner`` (a key's name) alone may use it, and
    admins; None: only admins (and everyone while auth is off)."""
    from transformers import AutoTokenizer

    source = make_random_adapter(base_model_dir, work_dir / suffix, seed=seed)
    tokenizer = AutoTokenizer.from_pretrained(base_model_dir)
    record = AdapterRecord(
        name=adapter_name("loragate-tiny", suffix, f"ftjob-test{seed}"),
        base_model="loragate-tiny",
        owner=owner,
        rank=16,
        alpha=32,
        target_modules=["all-linear"],
        chat_template_hash=template_hash(tokenizer.chat_template),
    )
    return AdapterRegistry(registry_dir).publish(source, record)
