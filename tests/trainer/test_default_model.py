"""The embedded default model: deterministic, complete, loadable, with a chat template."""

from __future__ import annotations

import hashlib
from pathlib import Path

from trainer.default_model import MARKER_FILE, DefaultModelSpec, ensure_default_model, is_complete


def digest(path: Path) -> str:
    return hashlib.sha256((path / "model.safetensors").read_bytes()).hexdigest()


def test_same_seed_same_files(tmp_path: Path) -> None:
    first = ensure_default_model(tmp_path / "a")
    second = ensure_default_model(tmp_path / "b")
    assert digest(first) == digest(second)
    assert (first / "tokenizer.json").read_text() == (second / "tokenizer.json").read_text()


def test_other_seed_other_weights(tmp_path: Path) -> None:
    first = ensure_default_model(tmp_path / "a")
    other = ensure_default_model(tmp_path / "b", DefaultModelSpec(seed=1))
    assert digest(first) != digest(other)


def test_small_and_llama_shaped(tmp_path: Path) -> None:
    from transformers import AutoConfig

    path = ensure_default_model(tmp_path / "m")
    size = sum(f.stat().st_size for f in path.iterdir())
    assert size < 10 * 1024 * 1024
    config = AutoConfig.from_pretrained(path)
    assert config.model_type == "llama"
    assert config.hidden_size // config.num_attention_heads == 64


def test_chat_template_and_eos(tmp_path: Path) -> None:
    from transformers import AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(ensure_default_model(tmp_path / "m"))
    messages = [{"role": "system", "content": "判断情感"}, {"role": "user", "content": "很好吃"}]
    text = tokenizer.apply_chat_template(messages, tokenize=False, add_generation_prompt=True)
    assert text.endswith("<|im_start|>assistant\n")
    assert tokenizer.eos_token == "<|im_end|>"
    ids = tokenizer("这家店很好吃 the food was great")["input_ids"]
    assert tokenizer.decode(ids) == "这家店很好吃 the food was great"


def test_incomplete_folder_is_rebuilt(tmp_path: Path) -> None:
    path = ensure_default_model(tmp_path / "m")
    (path / MARKER_FILE).unlink()
    assert not is_complete(path)
    ensure_default_model(path)
    assert is_complete(path)
