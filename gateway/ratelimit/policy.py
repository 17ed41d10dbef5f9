"""Which limits apply to a request, and how many tokens it may use.

Tokens are reserved before the call (an estimate of the prompt plus ``max_tokens``) and
settled to the engine's real count afterwards. The prompt is estimated from its characters
(about four to a token, like OpenAI's own limiter), so no tokenizer runs in the gateway.
"""

from __future__ import annotations

import fnmatch
from dataclasses import dataclass

from pydantic import BaseModel

from gateway.auth.caller import Caller
from gateway.settings import ModelLimit, RateLimitSettings

CHARS_PER_TOKEN = 4
TOKENS_PER_MESSAGE = 4


@dataclass(frozen=True, slots=True)
class Limit:
    """One counter a request is checked against."""

    key: str
    amount: int
    kind: str
    """'requests' or 'tokens'."""
    scope: str
    """'key' (the caller's) or 'model'."""


def limits_for(
    caller: Caller, model: str, settings: RateLimitSettings, model_limit: ModelLimit | None
) -> tuple[list[Limit], list[Limit]]:
    """(request limits, token limits) that apply to ``caller`` asking for ``model``."""
    requests: list[Limit] = []
    tokens: list[Limit] = []
    if caller.owner is not None:
        rpm = caller.rpm or settings.default_rpm
        tpm = caller.tpm or settings.default_tpm
        if rpm:
            requests.append(Limit(f"key:{caller.key_id}:requests", rpm, "requests", "key"))
        if tpm:
            tokens.append(Limit(f"key:{caller.key_id}:tokens", tpm, "tokens", "key"))
    if model_limit is not None:
        if model_limit.rpm:
            requests.append(Limit(f"model:{model}:requests", model_limit.rpm, "requests", "model"))
        if model_limit.tpm:
            tokens.append(Limit(f"model:{model}:tokens", model_limit.tpm, "tokens", "model"))
    return requests, tokens


class ModelLimits:
    """Looks up the limit of a model name: an exact name, else the first matching pattern."""

    def __init__(self, configured: dict[str, ModelLimit]) -> None:
        self.configured = configured
        self._found: dict[str, ModelLimit | None] = {}

    def get(self, model: str) -> ModelLimit | None:
        if not self.configured:
            return None
        if model not in self._found:
            if len(self._found) > 10_000:
                self._found.clear()
            self._found[model] = self._match(model)
        return self._found[model]

    def _match(self, model: str) -> ModelLimit | None:
        if model in self.configured:
            return self.configured[model]
        for pattern, limit in self.configured.items():
            if fnmatch.fnmatchcase(model, pattern):
                return limit
        return None


def reserved_tokens(parsed: BaseModel, default_completion: int) -> int:
    """Prompt estimate plus the most the answer may use."""
    completion = (
        getattr(parsed, "max_completion_tokens", None)
        or getattr(parsed, "max_tokens", None)
        or default_completion
    )
    choices = getattr(parsed, "n", None) or 1
    return estimate_prompt_tokens(parsed) + completion * choices


def estimate_prompt_tokens(parsed: BaseModel) -> int:
    messages = getattr(parsed, "messages", None)
    if messages is not None:
        chars = sum(_content_chars(getattr(m, "content", None)) for m in messages)
        return _tokens(chars) + TOKENS_PER_MESSAGE * len(messages)
    prompt = getattr(parsed, "prompt", "")
    if isinstance(prompt, str):
        return _tokens(len(prompt))
    if prompt and isinstance(prompt[0], int):
        return len(prompt)
    if prompt and isinstance(prompt[0], list):
        return sum(len(p) for p in prompt)
    return sum(_tokens(len(p)) for p in prompt if isinstance(p, str))


def _content_chars(content: object) -> int:
    if isinstance(content, str):
        return len(content)
    if isinstance(content, list):
        return sum(len(str(part.get("text", ""))) for part in content if isinstance(part, dict))
    return 0


def _tokens(chars: int) -> int:
    return (chars + CHARS_PER_TOKEN - 1) // CHARS_PER_TOKEN
