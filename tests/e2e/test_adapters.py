"""Adapters served by name: runtime loading on first use, parity with HF + peft, deletion."""

from __future__ import annotations

import shutil
import threading
from pathlib import Path

import httpx
import pytest
from openai import NotFoundError, OpenAI
from openai.types.chat import ChatCompletionMessageParam

from adapters.record import AdapterRecord
from tests.helpers import Stack
from tests.lora_fixtures import publish_random_adapter
from tests.parity import hf_peft_greedy, served_token_ids

pytestmark = pytest.mark.engine

PROMPTS = ["这家店很好吃", "等了一个小时，饭都凉了", "hello there", "送餐很快", "味道一般"]


@pytest.fixture(scope="module")
def client(stack: Stack) -> OpenAI:
    return OpenAI(base_url=f"{stack.base_url}/v1", api_key=stack.admin_key, max_retries=0)


def greedy(client: OpenAI, model: str, prompt: str) -> str:
    messages: list[ChatCompletionMessageParam] = [{"role": "user", "content": prompt}]
    reply = client.chat.completions.create(
        model=model, messages=messages, max_tokens=16, temperature=0
    )
    return reply.choices[0].message.content or ""


def test_adapter_is_listed_with_its_parent(
    client: OpenAI, published_adapter: AdapterRecord
) -> None:
    models = {m.id: m for m in client.models.list().data}
    assert published_adapter.name in models
    assert getattr(models[published_adapter.name], "parent", None) == "loragate-tiny"
    assert client.models.retrieve(published_adapter.name).id == published_adapter.name


def adapter_loads(stack: Stack, name: str) -> float:
    """The gateway's count of successful runtime loads of adapter ``name``."""
    text = httpx.get(f"{stack.base_url}/metrics", timeout=10).text
    series = f'loragate_adapter_loads_total{{adapter="{name}",result="ok"}}'
    return sum(float(line.split()[-1]) for line in text.splitlines() if line.startswith(series))


def engine_adapters(stack: Stack) -> list[str]:
    models = httpx.get(f"{stack.engine_url}/v1/models", timeout=10).json()["data"]
    return [m["id"] for m in models]


def test_concurrent_first_requests_load_it_once(
    client: OpenAI, stack: Stack, published_adapter: AdapterRecord
) -> None:
    assert adapter_loads(stack, published_adapter.name) == 0
    results: list[str] = []

    def call() -> None:
        results.append(greedy(client, published_adapter.name, "hello"))

    threads = [threading.Thread(target=call) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(results) == 6
    assert len(set(results)) == 1
    assert published_adapter.name in engine_adapters(stack)
    assert adapter_loads(stack, published_adapter.name) == 1  # six first requests, one load


def test_adapter_output_matches_hf_peft(
    client: OpenAI, stack: Stack, published_adapter: AdapterRecord
) -> None:
    chats = [[{"role": "user", "content": p}] for p in PROMPTS]
    served = [served_token_ids(stack, published_adapter.name, chat) for chat in chats]
    base = [served_token_ids(stack, stack.model, chat) for chat in chats]
    expected = hf_peft_greedy(
        stack.data_dir / "models" / stack.model, Path(published_adapter.artifact_dir), chats
    )
    assert served == expected
    assert served != base, "the adapter should change the model's answers"


def test_streaming_with_an_adapter(client: OpenAI, published_adapter: AdapterRecord) -> None:
    stream = client.chat.completions.create(
        model=published_adapter.name,
        messages=[{"role": "user", "content": "hello"}],
        max_tokens=16,
        temperature=0,
        stream=True,
    )
    text = "".join(c.choices[0].delta.content or "" for c in stream if c.choices)
    assert text == greedy(client, published_adapter.name, "hello")


def test_unknown_adapter_is_404(client: OpenAI) -> None:
    with pytest.raises(NotFoundError) as caught:
        greedy(client, "ft:loragate-tiny:nothing:ftjob-none", "hi")
    assert caught.value.code == "model_not_found"


def test_missing_artifact_is_a_clear_404(client: OpenAI, stack: Stack, tmp_path: Path) -> None:
    record = publish_random_adapter(
        stack.data_dir / "models" / stack.model,
        stack.data_dir / "adapters",
        tmp_path,
        suffix="broken",
        seed=3,
    )
    (Path(record.artifact_dir) / "adapter_model.safetensors").unlink()
    with pytest.raises(NotFoundError) as caught:
        greedy(client, record.name, "hi")
    assert caught.value.code == "adapter_artifact_missing"
    shutil.rmtree(record.artifact_dir)


def test_delete_an_adapter(client: OpenAI, stack: Stack, tmp_path: Path) -> None:
    record = publish_random_adapter(
        stack.data_dir / "models" / stack.model,
        stack.data_dir / "adapters",
        tmp_path,
        suffix="doomed",
        seed=4,
    )
    assert record.name not in engine_adapters(stack)
    greedy(client, record.name, "hi")
    assert record.name in engine_adapters(stack)  # served by the adapter, loaded for it
    assert client.models.delete(record.name).deleted
    assert record.name not in [m.id for m in client.models.list().data]
    with pytest.raises(NotFoundError):
        greedy(client, record.name, "hi")
    assert record.name not in engine_adapters(stack)
