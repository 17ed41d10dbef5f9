"""The training-memory estimate against known sizes."""

from __future__ import annotations

from trainer.memory_estimate import GIB, ModelShape, training_bytes

QWEN_7B = ModelShape(parameters=7_615_616_512, layers=28, hidden=3584, heads=28, vocab=152_064)


def test_a_7b_model_in_bf16_fits_a_large_gpu_at_small_batches_only() -> None:
    small = training_bytes(QWEN_7B, batch=1, seq_len=1024, rank=16) / GIB
    assert 15 < small < 24  # 14.2 GiB of weights, a few of activations and logits
    large = training_bytes(QWEN_7B, batch=16, seq_len=4096, rank=16) / GIB
    assert large > 80  # refused on an 80 GiB card: activations grow with b * s^2


def test_the_estimate_grows_with_batch_length_and_rank() -> None:
    base = training_bytes(QWEN_7B, batch=2, seq_len=512, rank=8)
    assert training_bytes(QWEN_7B, batch=4, seq_len=512, rank=8) > base
    assert training_bytes(QWEN_7B, batch=2, seq_len=1024, rank=8) > base
    assert training_bytes(QWEN_7B, batch=2, seq_len=512, rank=64) > base
