"""The same user loop on a second, real-family model: the tiny Qwen2 on Qwen's own tokenizer
(``loragate init-model --family qwen2``) given as LORAGATE_BASE_MODEL to ``loragate up``.

Upload reviews, fine-tune, chat with the adapter through the official client (held-out
accuracy), and compare vLLM's greedy tokens with HF transformers + peft on the same prompts.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from openai import OpenAI

from adapters.registry import AdapterRegistry
from tests.e2e.test_finetune_stack import accuracy, held_out
from tests.helpers import Stack, start_stack, stop_stack
from tests.parity import hf_peft_greedy, served_token_ids
from tests.trainer.jobs.helpers import wait_until, write_reviews
from trainer.qwen2_model import QWEN2_MODEL_NAME, qwen_encoding

ACCURACY_BAR = 0.85

pytestmark = pytest.mark.engine


@pytest.fixture(scope="module")
def qwen2_stack(qwen2_model: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    root = tmp_path_factory.mktemp("qwen2-stack")
    running = start_stack(root / "data", root / "up.log", LORAGATE_BASE_MODEL=str(qwen2_model))
    running.model = QWEN2_MODEL_NAME
    yield running
    stop_stack(running)


def test_the_qwen2_base_is_served(qwen2_stack: Stack) -> None:
    client = OpenAI(
        base_url=f"{qwen2_stack.base_url}/v1", api_key=qwen2_stack.admin_key, max_retries=0
    )
    assert QWEN2_MODEL_NAME in [m.id for m in client.models.list().data]
    reply = client.chat.completions.create(
        model=QWEN2_MODEL_NAME, messages=[{"role": "user", "content": "你好"}], max_tokens=4
    )
    assert reply.usage is not None
    prompt = "<|im_start|>user\n你好<|im_end|>\n<|im_start|>assistant\n"
    assert reply.usage.prompt_tokens == len(qwen_encoding().encode(prompt, allowed_special="all"))


def test_fine_tune_qwen2_and_chat_with_the_adapter(
    qwen2_stack: Stack, qwen2_model: Path, tmp_path: Path
) -> None:
    stack = qwen2_stack
    client = OpenAI(base_url=f"{stack.base_url}/v1", api_key=stack.admin_key, max_retries=0)
    with write_reviews(tmp_path / "reviews.jsonl", 300, seed=0).open("rb") as handle:
        file = client.files.create(file=handle, purpose="fine-tune")
    started = time.monotonic()
    job = client.fine_tuning.jobs.create(
        model=stack.model,
        training_file=file.id,
        suffix="qwen",
        hyperparameters={"n_epochs": 4, "learning_rate_multiplier": 5.0},
    )
    done = wait_until(
        lambda: (j := client.fine_tuning.jobs.retrieve(job.id)).status
        in ("succeeded", "failed", "cancelled") and j,
        900, "the job finished", every_s=1.0,
    )  # fmt: skip
    print(f"\nqwen2 300-review job: {time.monotonic() - started:.0f} s, {done.trained_tokens} tok")
    assert done.status == "succeeded", (done.error, stack.log_of("worker")[-3000:])
    name = done.fine_tuned_model
    assert name == f"ft:{stack.model}:qwen:{job.id}"

    chats = held_out(train_seed=0, count=60)
    adapter_accuracy = accuracy(client, name, chats)
    base_accuracy = accuracy(client, stack.model, chats)
    print(f"qwen2 held-out accuracy: adapter {adapter_accuracy:.2f}, base {base_accuracy:.2f}")
    # 0.90-1.00 across runs (CPU training is not bit-reproducible across thread schedules;
    # one CI run on a loaded box gave 0.898): the bar is far above the base's, not at the edge
    assert adapter_accuracy >= ACCURACY_BAR
    assert base_accuracy <= 0.2
    result: dict[str, Any] = (done.model_extra or {})["result"]
    assert result["adapter"]["exact_match"] >= ACCURACY_BAR

    record = AdapterRegistry(stack.data_dir / "adapters").get(name)
    prompts = [chat[:-1] for chat in chats[:10]]
    served = [served_token_ids(stack, name, p, max_tokens=8) for p in prompts]
    expected = hf_peft_greedy(qwen2_model, Path(record.artifact_dir), prompts, max_tokens=8)
    assert served == expected
