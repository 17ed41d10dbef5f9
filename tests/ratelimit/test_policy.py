"""Which limits apply to a request, and how many tokens it reserves."""

from __future__ import annotations

from gateway.auth.caller import ANONYMOUS, Caller
from gateway.openai.protocol import ChatCompletionRequest, CompletionRequest
from gateway.ratelimit.headers import duration
from gateway.ratelimit.policy import (
    ModelLimits,
    estimate_prompt_tokens,
    limits_for,
    reserved_tokens,
)
from gateway.settings import ModelLimit, RateLimitSettings

USER = Caller(key_id="key_1", owner="team-a", role="user", rpm=60, tpm=1000)


def test_a_keys_own_limits_and_the_models_apply() -> None:
    requests, tokens = limits_for(USER, "m", RateLimitSettings(), ModelLimit(rpm=5))
    assert [(r.key, r.amount, r.scope) for r in requests] == [
        ("key:key_1:requests", 60, "key"),
        ("model:m:requests", 5, "model"),
    ]
    assert [(t.key, t.amount) for t in tokens] == [("key:key_1:tokens", 1000)]


def test_defaults_fill_in_for_a_key_without_limits_and_auth_off_has_none() -> None:
    bare = Caller(key_id="key_2", owner="team-b", role="user")
    requests, tokens = limits_for(bare, "m", RateLimitSettings(default_rpm=7), None)
    assert [r.amount for r in requests] == [7]
    assert tokens == []
    assert limits_for(ANONYMOUS, "m", RateLimitSettings(default_rpm=7), None) == ([], [])


def test_model_limits_match_exact_names_before_patterns() -> None:
    exact, pattern = ModelLimit(rpm=1), ModelLimit(rpm=2)
    found = ModelLimits({"ft:base:a:1": exact, "ft:*": pattern})
    assert found.get("ft:base:a:1") is exact
    assert found.get("ft:base:b:2") is pattern
    assert found.get("base") is None


def test_reserved_tokens_are_the_prompt_estimate_plus_max_tokens_per_choice() -> None:
    chat = ChatCompletionRequest.model_validate(
        {"model": "m", "messages": [{"role": "user", "content": "x" * 40}], "max_tokens": 10}
    )
    assert estimate_prompt_tokens(chat) == 10 + 4
    assert reserved_tokens(chat, default_completion=256) == 24
    two = chat.model_copy(update={"n": 2})
    assert reserved_tokens(two, default_completion=256) == 14 + 20
    plain = CompletionRequest.model_validate({"model": "m", "prompt": [1, 2, 3]})
    assert reserved_tokens(plain, default_completion=256) == 3 + 256


def test_durations_read_like_openais() -> None:
    assert duration(0.25) == "250ms"
    assert duration(1.2) == "2s"
    assert duration(360) == "6m0s"
