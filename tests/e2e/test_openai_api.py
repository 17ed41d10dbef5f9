"""The OpenAI API through the gateway, with the official client and the real engine."""

from __future__ import annotations

import httpx
import pytest
from openai import OpenAI
from openai.types.chat import ChatCompletionMessageParam

from tests.helpers import Stack

pytestmark = pytest.mark.engine

MESSAGES: list[ChatCompletionMessageParam] = [
    {"role": "system", "content": "You are a helpful assistant."},
    {"role": "user", "content": "这家店很好吃，下次还会再来"},
]


@pytest.fixture(scope="module")
def client(stack: Stack) -> OpenAI:
    return OpenAI(base_url=f"{stack.base_url}/v1", api_key=stack.admin_key, max_retries=0)


@pytest.fixture(scope="module")
def engine_client(stack: Stack) -> OpenAI:
    return OpenAI(base_url=f"{stack.engine_url}/v1", api_key="unused", max_retries=0)


def test_models_lists_the_base_model_first(client: OpenAI, stack: Stack) -> None:
    models = client.models.list().data
    assert models[0].id == stack.model
    assert models[0].object == "model"
    assert getattr(models[0], "parent", "missing") is None
    # everything after the base model is an adapter of it (other tests publish some)
    assert all(getattr(m, "parent", None) == stack.model for m in models[1:])


def test_chat_non_streaming(client: OpenAI, stack: Stack) -> None:
    reply = client.chat.completions.create(
        model=stack.model,
        messages=MESSAGES,
        max_tokens=8,
        temperature=0,
    )
    assert reply.object == "chat.completion"
    assert reply.choices[0].message.role == "assistant"
    assert reply.choices[0].message.content
    assert reply.usage is not None
    assert reply.usage.completion_tokens == 8


def test_chat_streaming_with_usage(client: OpenAI, stack: Stack) -> None:
    stream = client.chat.completions.create(
        model=stack.model,
        messages=MESSAGES,
        max_tokens=8,
        temperature=0,
        stream=True,
        stream_options={"include_usage": True},
    )
    chunks = list(stream)
    text = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    usage = [c.usage for c in chunks if c.usage is not None]
    assert text
    assert len(usage) == 1
    assert usage[0].completion_tokens == 8


def test_completions(client: OpenAI, stack: Stack) -> None:
    reply = client.completions.create(model=stack.model, prompt="hello", max_tokens=5)
    assert reply.object == "text_completion"
    assert reply.usage is not None
    assert reply.usage.completion_tokens == 5


def test_streaming_completions_end_with_done(stack: Stack) -> None:
    body = {"model": stack.model, "prompt": "hello", "max_tokens": 4, "stream": True}
    url = f"{stack.base_url}/v1/completions"
    with httpx.stream("POST", url, json=body, headers=stack.headers) as resp:
        assert resp.status_code == 200
        assert resp.headers["content-type"].startswith("text/event-stream")
        raw = b"".join(resp.iter_bytes())
    events = [line for line in raw.decode().split("\n\n") if line]
    assert events[-1] == "data: [DONE]"
    assert len(events) >= 3


def test_greedy_output_equals_the_engine(
    client: OpenAI, engine_client: OpenAI, stack: Stack
) -> None:
    prompts = ["好评还是差评？米饭凉了", "hello there", "送餐很快，味道不错"]
    for prompt in prompts:
        messages: list[ChatCompletionMessageParam] = [{"role": "user", "content": prompt}]
        through, direct = (
            c.chat.completions.create(
                model=stack.model, messages=messages, max_tokens=24, temperature=0
            )
            for c in (client, engine_client)
        )
        assert through.choices[0].message.content == direct.choices[0].message.content


def test_every_response_has_a_request_id(stack: Stack) -> None:
    fresh = httpx.get(f"{stack.base_url}/v1/models", headers=stack.headers)
    assert len(fresh.headers["x-request-id"]) >= 16
    echoed = httpx.get(f"{stack.base_url}/health/live", headers={"x-request-id": "abc-123"})
    assert echoed.headers["x-request-id"] == "abc-123"
