"""How the request middleware labels what it saw: statuses, streams, tokens."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

import httpx
import pytest
from prometheus_client import REGISTRY
from starlette.types import Message, Receive, Scope, Send

from gateway.observability.http import RequestMetricsMiddleware

Body = list[bytes]
DONE = b"data: [DONE]\n\n"
USAGE = b'data: {"choices":[],"usage":{"prompt_tokens":5,"completion_tokens":3}}\n\n'
LABELS = {"endpoint": "completions", "model": "unknown", "adapter": "none"}


def app_sending(chunks: Body, fail_after: int | None = None) -> Callable[..., Awaitable[None]]:
    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        headers = [(b"content-type", b"text/event-stream; charset=utf-8")]
        await send({"type": "http.response.start", "status": 200, "headers": headers})
        for index, chunk in enumerate(chunks):
            if index == fail_after:
                raise RuntimeError("the app broke mid-stream")
            message: Message = {"type": "http.response.body", "body": chunk, "more_body": True}
            await send(message)
        await send({"type": "http.response.body", "body": b""})

    return app


def count(name: str, **labels: str) -> float:
    return REGISTRY.get_sample_value(name, {**LABELS, **labels}) or 0.0


async def call(app: Callable[..., Awaitable[None]]) -> None:
    transport = httpx.ASGITransport(app=RequestMetricsMiddleware(app))
    async with httpx.AsyncClient(transport=transport, base_url="http://gateway") as client:
        await client.post("/v1/completions", content=b"{}")


@pytest.mark.parametrize(
    ("chunks", "fail_after", "status", "tokens"),
    [
        ([b"data: {}\n\n", USAGE, DONE], None, "200", 3),
        ([b"data: {}\n\n", USAGE + DONE], None, "200", 3),
        ([b"data: {}\n\n", b'data: {"error": {}}\n\n'], None, "interrupted", 0),
        ([b"data: {}\n\n", DONE], 1, "500", 0),
    ],
)
async def test_stream_outcomes(
    chunks: Body, fail_after: int | None, status: str, tokens: int
) -> None:
    before = count("loragate_requests_total", status=status)
    tokens_before = count("loragate_completion_tokens_total")
    ttft_before = count("loragate_time_to_first_token_seconds_count")
    app = app_sending(chunks, fail_after)
    if fail_after is None:
        await call(app)
    else:
        with pytest.raises(RuntimeError):
            await call(app)
    assert count("loragate_requests_total", status=status) == before + 1
    assert count("loragate_completion_tokens_total") == tokens_before + tokens
    assert count("loragate_time_to_first_token_seconds_count") == ttft_before + 1


async def test_other_paths_are_not_counted() -> None:
    before = sum(
        sample.value
        for family in REGISTRY.collect()
        if family.name == "loragate_requests"
        for sample in family.samples
    )
    transport = httpx.ASGITransport(app=RequestMetricsMiddleware(app_sending([b"{}"])))
    async with httpx.AsyncClient(transport=transport, base_url="http://gateway") as client:
        await client.get("/v1/models")
    after = sum(
        sample.value
        for family in REGISTRY.collect()
        if family.name == "loragate_requests"
        for sample in family.samples
    )
    assert after == before
