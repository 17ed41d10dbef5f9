"""Greedy outputs of an adapter two ways: the gateway (vLLM) and HF transformers + peft."""

from __future__ import annotations

from pathlib import Path

import httpx

from tests.helpers import Stack

Messages = list[dict[str, str]]


def served_token_ids(
    stack: Stack, model: str, messages: Messages, max_tokens: int = 16
) -> list[int]:
    """Greedy completion token ids of a chat request through the gateway."""
    body = {
        "model": model,
        "messages": messages,
        "max_tokens": max_tokens,
        "temperature": 0,
        "return_token_ids": True,
    }
    url = f"{stack.base_url}/v1/chat/completions"
    reply = httpx.post(url, json=body, headers=stack.headers, timeout=60).json()
    ids: list[int] = reply["choices"][0]["token_ids"]
    return ids


def hf_peft_greedy(
    base_dir: Path, adapter_dir: Path, conversations: list[Messages], max_tokens: int = 16
) -> list[list[int]]:
    """Greedy completion token ids of the same chats with HF transformers + peft."""
    import torch
    from peft import PeftModel
    from transformers import AutoModelForCausalLM, AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(base_dir)
    model = AutoModelForCausalLM.from_pretrained(base_dir, dtype=torch.float32)
    model = PeftModel.from_pretrained(model, adapter_dir).eval()
    outputs = []
    for messages in conversations:
        ids = tokenizer.apply_chat_template(
            messages,
            add_generation_prompt=True,
            return_tensors="pt",
            return_dict=True,
        )
        with torch.no_grad():
            generated = model.generate(**ids, max_new_tokens=max_tokens, do_sample=False)
        outputs.append(generated[0, ids["input_ids"].shape[1] :].tolist())
    return outputs
