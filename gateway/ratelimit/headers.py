"""The ``x-ratelimit-*`` headers and the 429 error, as OpenAI sends them."""

from __future__ import annotations

import math

from gateway.errors import APIError
from gateway.ratelimit.counters import Hit
from gateway.ratelimit.policy import Limit


def duration(seconds: float) -> str:
    """``6m0s``, ``1s``, ``250ms``: how OpenAI writes the time until a window resets."""
    if seconds < 1:
        return f"{max(0, round(seconds * 1000))}ms"
    whole = math.ceil(seconds)
    minutes, secs = divmod(whole, 60)
    return f"{minutes}m{secs}s" if minutes else f"{secs}s"


def limit_headers(limit: Limit, hit: Hit, now: float) -> dict[str, str]:
    """The three headers of one of the caller's own limits after ``hit``."""
    kind = limit.kind
    return {
        f"x-ratelimit-limit-{kind}": str(limit.amount),
        f"x-ratelimit-remaining-{kind}": str(max(0, limit.amount - hit.count)),
        f"x-ratelimit-reset-{kind}": duration(hit.reset_in(now)),
    }


def rate_limited(
    limit: Limit, hit: Hit, asked: int, now: float, headers: dict[str, str]
) -> APIError:
    """429 for a request that ``limit`` refused; Retry-After is when its window resets."""
    wait = hit.reset_in(now)
    used = max(0, hit.count - asked)
    unit = "requests" if limit.kind == "requests" else "tokens"
    whose = "your API key" if limit.scope == "key" else "this model"
    message = (
        f"Rate limit reached for {whose} on {unit} per window: limit {limit.amount}, "
        f"used {used}, requested {asked}. Please try again in {duration(wait)}."
    )
    retry = {
        "retry-after": str(max(1, math.ceil(wait))),
        "retry-after-ms": str(math.ceil(wait * 1000)),
    }
    return APIError(
        429,
        message,
        type=limit.kind,
        code="rate_limit_exceeded",
        headers={**headers, **retry},
    )


def too_large(limit: Limit, asked: int) -> APIError:
    """400 for a request that could never fit: more tokens than a whole window holds."""
    return APIError(
        400,
        f"The request needs about {asked} tokens (prompt + max_tokens), more than the limit "
        f"of {limit.amount} tokens per window; lower max_tokens.",
        param="max_tokens",
        code="tokens_exceed_limit",
    )
