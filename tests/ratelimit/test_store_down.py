"""A Redis that does not answer: requests are served unlimited, at once, with one warning."""

from __future__ import annotations

import logging
import time

import pytest

from gateway.auth.caller import Caller
from gateway.openai.protocol import ChatCompletionRequest
from gateway.ratelimit.limiter import RateLimiter
from gateway.settings import Settings
from tests.helpers import free_port

CALLER = Caller(key_id="key_1", owner="team-a", role="user", rpm=1, tpm=1000)
BODY = ChatCompletionRequest.model_validate(
    {"model": "m", "messages": [{"role": "user", "content": "hi"}], "max_tokens": 4}
)


async def test_requests_are_served_when_redis_is_gone(caplog: pytest.LogCaptureFixture) -> None:
    nobody_listens = f"redis://127.0.0.1:{free_port()}/0"
    limiter = RateLimiter(Settings(limits={"redis_url": nobody_listens}))
    caplog.set_level(logging.WARNING, logger="loragate.ratelimit")
    started = time.monotonic()
    for _ in range(3):  # over the key's rpm of 1: the limits are not enforced
        admission = await limiter.admit(CALLER, "m", BODY)
        admission.release(10)
    await limiter.close()
    assert time.monotonic() - started < 5  # a refused connection fails fast
    warnings = [r for r in caplog.records if "rate limiting skipped" in r.getMessage()]
    assert len(warnings) == 1
    assert limiter.trouble.skipped >= 3
