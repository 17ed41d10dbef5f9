"""The whole loop a user runs, through the official client against ``loragate up``:
upload reviews, fine-tune, see the adapter in /v1/models, and chat with it.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any, cast

import pytest
from openai import OpenAI
from openai.types.chat import ChatCompletionMessageParam

from adapters.registry import AdapterRegistry
from tests.helpers import Stack
from tests.parity import hf_peft_greedy, served_token_ids
from tests.trainer.jobs.helpers import wait_until, write_reviews
from trainer.datasets.reviews import make_review_examples

pytestmark = pytest.mark.engine


def held_out(train_seed: int, count: int) -> list[list[dict[str, str]]]:
    seen = {tuple(sorted(m.items())) for e in make_review_examples(300, train_seed)
            for m in e.as_dicts() if m["role"] == "user"}  # fmt: skip
    chats = [e.as_dicts() for e in make_review_examples(count, seed=train_seed + 100)]
    return [c for c in chats if tuple(sorted(c[1].items())) not in seen]


def accuracy(client: OpenAI, model: str, chats: list[list[dict[str, str]]]) -> float:
    right = 0
    for chat in chats:
        reply = client.chat.completions.create(
            model=model,
            messages=cast(list[ChatCompletionMessageParam], chat[:-1]),
            max_tokens=8,
            temperature=0,
        )
        right += (reply.choices[0].message.content or "").strip() == chat[-1]["content"]
    return right / len(chats)


def test_upload_fine_tune_and_chat_with_the_adapter(stack: Stack, tmp_path: Path) -> None:
    client = OpenAI(base_url=f"{stack.base_url}/v1", api_key=stack.admin_key, max_retries=0)
    assert stack.pid_of("worker") > 0
    with write_reviews(tmp_path / "reviews.jsonl", 300, seed=0).open("rb") as handle:
        file = client.files.create(file=handle, purpose="fine-tune")
    started = time.monotonic()
    job = client.fine_tuning.jobs.create(
        model=stack.model, training_file=file.id, suffix="reviews", hyperparameters={"n_epochs": 5}
    )
    done = wait_until(
        lambda: (j := client.fine_tuning.jobs.retrieve(job.id)).status
        in ("succeeded", "failed", "cancelled") and j,
        900, "the job finished", every_s=1.0,
    )  # fmt: skip
    print(f"\n300-review job: {time.monotonic() - started:.0f} s, {done.trained_tokens} tokens")
    assert done.status == "succeeded", (done.error, stack.log_of("worker")[-3000:])
    name = done.fine_tuned_model
    assert name == f"ft:{stack.model}:reviews:{job.id}"

    listed = {m.id: getattr(m, "parent", None) for m in client.models.list().data}
    assert listed[name] == stack.model

    chats = held_out(train_seed=0, count=60)
    assert len(chats) >= 40
    adapter_accuracy, base_accuracy = (
        accuracy(client, name, chats),
        accuracy(client, stack.model, chats),
    )
    print(f"held-out accuracy: adapter {adapter_accuracy:.2f}, base {base_accuracy:.2f}")
    assert adapter_accuracy >= 0.9
    assert base_accuracy <= 0.2

    result: dict[str, Any] = (done.model_extra or {})["result"]
    assert result["adapter"]["exact_match"] >= 0.9
    assert result["base"]["exact_match"] <= 0.2

    record = AdapterRegistry(stack.data_dir / "adapters").get(name)
    assert record.owner == "admin"  # the name of the key that created the job
    prompts = [chat[:-1] for chat in chats[:10]]
    served = [served_token_ids(stack, name, p, max_tokens=8) for p in prompts]
    expected = hf_peft_greedy(
        stack.data_dir / "models" / stack.model, Path(record.artifact_dir), prompts, max_tokens=8
    )
    assert served == expected
