"""Rate limits across two gateway workers sharing counters in a real Redis, with the real
engine: exact request counts, real token counts, and the official client backing off."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import openai
import pytest
from openai.types.chat import ChatCompletion

from gateway.openai.protocol import ChatCompletionRequest
from gateway.ratelimit.policy import reserved_tokens
from tests.helpers import Stack, start_stack, stop_stack

pytestmark = pytest.mark.engine

WINDOW_S = 15
RESERVE_DEFAULT = 256


@pytest.fixture(scope="module")
def limited(tmp_path_factory: pytest.TempPathFactory, redis_url: str) -> Iterator[Stack]:
    root: Path = tmp_path_factory.mktemp("limited")
    running = start_stack(
        root / "data",
        root / "up.log",
        LORAGATE_WORKERS="2",
        LORAGATE_LIMITS__REDIS_URL=redis_url,
        LORAGATE_LIMITS__WINDOW_S=str(WINDOW_S),
    )
    yield running
    stop_stack(running)


def admin_headers(stack: Stack) -> dict[str, str]:
    key = (stack.data_dir / "admin.key").read_text().strip()
    return {"Authorization": f"Bearer {key}"}


def new_key(stack: Stack, name: str, **limits: int) -> str:
    body = {"name": name, "role": "user", **limits}
    reply = httpx.post(
        f"{stack.base_url}/admin/keys", json=body, headers=admin_headers(stack), timeout=30
    )
    assert reply.status_code == 200, reply.text
    return str(reply.json()["key"])


def chat_body(stack: Stack, max_tokens: int = 4) -> dict[str, Any]:
    return {
        "model": stack.model,
        "messages": [{"role": "user", "content": "hello there"}],
        "max_tokens": max_tokens,
        "ignore_eos": True,
    }


async def burst(stack: Stack, key: str, n: int) -> list[httpx.Response]:
    """``n`` requests at once, each on a new connection (so both workers take some)."""
    limits = httpx.Limits(max_keepalive_connections=0)
    async with httpx.AsyncClient(limits=limits, timeout=60) as client:
        return await asyncio.gather(
            *(
                client.post(
                    f"{stack.base_url}/v1/chat/completions",
                    json=chat_body(stack, 1),
                    headers={"Authorization": f"Bearer {key}"},
                )
                for _ in range(n)
            )
        )


def assert_well_formed_429(reply: httpx.Response, kind: str) -> None:
    assert reply.status_code == 429
    error = reply.json()["error"]
    assert error["code"] == "rate_limit_exceeded"
    assert error["type"] == kind
    assert error["message"].startswith("Rate limit reached")
    assert 1 <= int(reply.headers["retry-after"]) <= WINDOW_S
    assert reply.headers[f"x-ratelimit-remaining-{kind}"] == "0"
    assert reply.headers[f"x-ratelimit-reset-{kind}"].endswith("s")


def test_a_burst_admits_exactly_the_limit_across_workers(limited: Stack) -> None:
    limit, n = 7, 24
    key = new_key(limited, "burst", rpm=limit)
    replies = asyncio.run(burst(limited, key, n))
    admitted = [r for r in replies if r.status_code == 200]
    refused = [r for r in replies if r.status_code != 200]
    assert len(admitted) == min(n, limit), [(r.status_code, r.text[:120]) for r in replies]
    for reply in refused:
        assert_well_formed_429(reply, "requests")
    remaining = sorted(int(r.headers["x-ratelimit-remaining-requests"]) for r in admitted)
    assert remaining == list(range(limit))  # one shared counter, not one per worker


def test_tokens_are_settled_to_the_engines_real_count(limited: Stack) -> None:
    tpm = 400
    key = new_key(limited, "tokens", tpm=tpm)
    headers = {"Authorization": f"Bearer {key}"}
    body = chat_body(limited, max_tokens=20)
    reserve = reserved_tokens(ChatCompletionRequest.model_validate(body), RESERVE_DEFAULT)
    url = f"{limited.base_url}/v1/chat/completions"
    used = 0
    for _ in range(tpm // 20 + 2):
        reply = httpx.post(url, json=body, headers=headers, timeout=60)
        if reply.status_code == 429:
            assert_well_formed_429(reply, "tokens")
            break
        assert reply.status_code == 200, reply.text
        # the counter held the real tokens of the earlier replies plus this one's reservation
        assert int(reply.headers["x-ratelimit-remaining-tokens"]) == max(0, tpm - used - reserve)
        used += reply.json()["usage"]["total_tokens"]
        time.sleep(0.3)  # the settlement lands after the last byte
    else:
        pytest.fail("the token limit never refused a request")
    assert used <= tpm < used + reserve


def ask(client: openai.OpenAI, model: str) -> ChatCompletion:
    return client.chat.completions.create(
        model=model, messages=[{"role": "user", "content": "hi"}], max_tokens=2
    )


def test_the_official_client_backs_off_and_succeeds_after_the_window(limited: Stack) -> None:
    key = new_key(limited, "sdk", rpm=1)
    impatient = openai.OpenAI(base_url=f"{limited.base_url}/v1", api_key=key, max_retries=0)
    ask(impatient, limited.model)
    with pytest.raises(openai.RateLimitError) as refused:
        ask(impatient, limited.model)
    assert refused.value.response.headers["x-ratelimit-limit-requests"] == "1"

    patient = openai.OpenAI(base_url=f"{limited.base_url}/v1", api_key=key, max_retries=3)
    started = time.monotonic()
    reply = ask(patient, limited.model)
    assert reply.choices[0].message.content is not None
    assert time.monotonic() - started >= 1  # it waited for the window to reset
