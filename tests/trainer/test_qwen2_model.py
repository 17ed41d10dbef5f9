"""The Qwen2 test model: Qwen's real BPE (ids equal tiktoken's), Qwen2 shape, deterministic."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest
from typer.testing import CliRunner

from gateway.cli.main import app
from trainer.qwen2_model import QWEN2_MODEL_NAME, Qwen2ModelSpec, is_complete, qwen_encoding

TEXTS = [
    "这家店很好吃 the food was great!!  123\n\n",
    "<|im_start|>user\nHow's it going?   fine<|im_end|>\n",
    "def f(x):\n    return x ** 2  # 平方\n",
]


def digest(path: Path) -> str:
    return hashlib.sha256((path / "model.safetensors").read_bytes()).hexdigest()


def test_same_files_from_the_cli(qwen2_model: Path, tmp_path: Path) -> None:
    result = CliRunner().invoke(
        app, ["init-model", "--family", "qwen2", "--data-dir", str(tmp_path)]
    )
    assert result.exit_code == 0, result.output
    made = tmp_path / "models" / QWEN2_MODEL_NAME
    assert result.stdout.strip().endswith(str(made))
    assert is_complete(made)
    assert not is_complete(made, Qwen2ModelSpec(seed=1))
    assert digest(made) == digest(qwen2_model)
    assert (made / "tokenizer.json").read_bytes() == (qwen2_model / "tokenizer.json").read_bytes()


def test_an_unknown_family_is_refused(tmp_path: Path) -> None:
    result = CliRunner().invoke(
        app, ["init-model", "--family", "gpt9", "--data-dir", str(tmp_path)]
    )
    assert result.exit_code == 2
    assert "gpt9" in result.output


def test_qwen2_shape(qwen2_model: Path) -> None:
    from transformers import AutoConfig, AutoModelForCausalLM

    config = AutoConfig.from_pretrained(qwen2_model)
    assert config.model_type == "qwen2"
    assert config.architectures == ["Qwen2ForCausalLM"]
    assert (config.num_hidden_layers, config.hidden_size, config.num_attention_heads) == (2, 128, 2)
    assert config.tie_word_embeddings
    model = AutoModelForCausalLM.from_pretrained(qwen2_model)
    params = sum(p.numel() for p in model.parameters())
    assert params == pytest.approx(19.7e6, rel=0.01)


@pytest.mark.parametrize("text", TEXTS)
def test_ids_equal_tiktoken(qwen2_model: Path, text: str) -> None:
    from transformers import AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(qwen2_model)
    ids = tokenizer(text)["input_ids"]
    assert ids == qwen_encoding().encode(text, allowed_special="all")
    assert tokenizer.decode(ids) == text


def test_specials_and_chat_template(qwen2_model: Path) -> None:
    from transformers import AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(qwen2_model)
    assert len(tokenizer) == 151646
    ids = tokenizer.convert_tokens_to_ids(["<|endoftext|>", "<|im_start|>", "<|im_end|>"])
    assert ids == [151643, 151644, 151645]
    assert (tokenizer.eos_token_id, tokenizer.pad_token_id) == (151645, 151643)
    messages = [{"role": "system", "content": "判断情感"}, {"role": "user", "content": "很好吃"}]
    text = tokenizer.apply_chat_template(messages, tokenize=False, add_generation_prompt=True)
    assert text == (
        "<|im_start|>system\n判断情感<|im_end|>\n<|im_start|>user\n很好吃<|im_end|>\n"
        "<|im_start|>assistant\n"
    )
